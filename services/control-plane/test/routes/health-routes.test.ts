import t from 'tap'
import { build } from '../helpers/build.js'

t.test('GET /healthz answers without a token', async (t) => {
  const { request } = await build(t)
  const response = await request({ method: 'GET', url: '/healthz', token: null })
  t.equal(response.status, 200)
  t.same(response.body, { status: 'ok' })
})

t.test('GET /readyz reports the database kind and the applied migration', async (t) => {
  const { app, request } = await build(t)
  const response = await request({ method: 'GET', url: '/readyz', token: null })
  t.equal(response.status, 200)
  t.equal(response.body.status, 'ready')
  t.equal(response.body.database, app.database.kind)
  t.match(response.body.migration, /^\d{4}_/)
})

t.test('GET /readyz is a 503 problem when the database is gone', async (t) => {
  const { app, request } = await build(t)
  await app.database.close()
  const response = await request({ method: 'GET', url: '/readyz', token: null })
  t.equal(response.status, 503)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.body.type, '/problems/database-unavailable')
})

t.test('GET /readyz is a 503 problem while the newest migration is not applied', async (t) => {
  const { app, request } = await build(t)
  const ready = await request({ method: 'GET', url: '/readyz', token: null })
  // As if a replica of an older release had migrated this database: the newest row is missing.
  await app.database.db.execute(
    'delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)',
  )
  const response = await request({ method: 'GET', url: '/readyz', token: null })
  t.equal(response.status, 503)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.body.type, '/problems/not-migrated')
  t.equal(response.body.detail, `the database is not migrated to ${ready.body.migration} yet`)
})

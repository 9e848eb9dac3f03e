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

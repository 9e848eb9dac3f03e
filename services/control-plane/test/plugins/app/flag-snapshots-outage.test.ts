import { type DatabaseConnection, openDatabase } from '@ringmaster/db'
import { createTestDatabase, testDatabaseKind, testPostgresUrl } from '@ringmaster/db/testing'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../../helpers/build.js'
import { type AdminCall, seedFlags } from '../../helpers/flag-fixtures.js'

// Replicas and outages against a real database: a change committed through one app instance
// reaches another through PostgreSQL NOTIFY alone, and SDK reads keep being answered from the
// last snapshot while the database is gone.

const adminCall =
  (api: TestApp, token = api.adminToken): AdminCall =>
  async (method, url, body) => {
    const response = await api.request({ method, url, body, token })
    return { status: response.status, body: response.body }
  }

async function sdk(
  api: TestApp,
  method: 'GET' | 'POST',
  url: string,
  token: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await api.app.inject({
    method,
    url,
    headers: {
      authorization: token,
      'unleash-client-spec': '5.2.0',
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body !== undefined && { payload: JSON.stringify(options.body) }),
  })
  return { status: response.statusCode, headers: response.headers, text: response.body }
}

/** Runs SQL on the test server's maintenance database, outside the database under test. */
async function withMaintenance<T>(work: (sql: (query: string) => Promise<unknown>) => Promise<T>) {
  const connection = await openDatabase({ kind: 'postgres', url: testPostgresUrl() })
  try {
    return await work((query) => rawClient(connection).unsafe(query))
  } finally {
    await connection.close()
  }
}

function rawClient(connection: DatabaseConnection) {
  // drizzle keeps the driver's client; postgres-js runs a plain statement with unsafe().
  return (connection.db as unknown as { $client: { unsafe(query: string): Promise<unknown> } })
    .$client
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch {
      // Not yet: the database may still be coming back.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('SDK reads keep serving the last snapshot while the database is gone', async (t) => {
  const api = await build(t)
  const ring = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
  await seedFlags(adminCall(api), ring)
  const client = await api.tokenFor('client', undefined, ring)
  const frontend = await api.tokenFor('frontend', undefined, ring)

  const features = await sdk(api, 'GET', '/api/client/features', client)
  t.equal(features.status, 200)
  const etag = features.headers.etag as string
  const toggles = await sdk(api, 'GET', '/api/frontend?userId=u1&properties[plan]=beta', frontend)
  t.equal(toggles.status, 200)
  const ofrep = await sdk(api, 'POST', '/ofrep/v1/evaluate/flags/beta-plan', client, {
    body: { context: { targetingKey: 'u1', plan: 'beta' } },
  })
  t.equal(ofrep.status, 200)

  // Take the database away, honestly: PGlite is closed under the app; PostgreSQL refuses new
  // connections to this database and every open one (the pool, the LISTEN) is terminated.
  const database = api.app.database
  const name =
    database.kind === 'postgres'
      ? (
          (await rawClient(database).unsafe('select current_database() as name')) as [
            { name: string },
          ]
        )[0].name
      : ''
  if (database.kind === 'pglite') {
    await database.close()
  } else {
    await withMaintenance(async (sql) => {
      await sql(`alter database "${name}" allow_connections false`)
      await sql(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`,
      )
    })
  }
  const controlPlane = await api.request({ method: 'GET', url: '/v1/flags' })
  t.equal(controlPlane.status, 503, 'the database really is gone: admin reads are refused')
  t.equal(controlPlane.body.type, '/problems/database-unavailable')
  t.equal(controlPlane.headers['retry-after'], '2')

  const during = await sdk(api, 'GET', '/api/client/features', client)
  t.equal(during.status, 200, 'client features still answered')
  t.equal(during.text, features.text, 'from the last snapshot')
  t.equal(
    (await sdk(api, 'GET', '/api/client/features', client, { headers: { 'if-none-match': etag } }))
      .status,
    304,
  )
  t.equal((await sdk(api, 'GET', '/api/client/delta', client)).status, 200)
  const duringToggles = await sdk(
    api,
    'GET',
    '/api/frontend?userId=u1&properties[plan]=beta',
    frontend,
  )
  t.equal(duringToggles.text, toggles.text, 'frontend answers too')
  const duringOfrep = await sdk(api, 'POST', '/ofrep/v1/evaluate/flags/beta-plan', client, {
    body: { context: { targetingKey: 'u1', plan: 'beta' } },
  })
  t.equal(duringOfrep.text, ofrep.text, 'and OFREP')
  const metrics = await sdk(api, 'POST', '/api/client/metrics', client, {
    body: {
      appName: 'outage',
      bucket: { start: new Date().toISOString(), toggles: { everyone: { yes: 3, no: 0 } } },
    },
  })
  t.equal(metrics.status, 202, 'metrics are kept in memory meanwhile')
  await api.app.flagSnapshots.checkAll()
  t.equal(
    (await sdk(api, 'GET', '/api/client/features', client)).status,
    200,
    'a failed check does not drop the snapshot',
  )

  if (database.kind === 'pglite') return

  await withMaintenance((sql) => sql(`alter database "${name}" allow_connections true`))
  const changed = await eventually('the database to accept a change', async () => {
    const response = await api.request({
      method: 'PATCH',
      url: `/v1/flags/everyone/rings/${ring}`,
      body: { enabled: false },
    })
    return response.status === 200 ? response : undefined
  })
  t.equal(changed.status, 200)
  const fresh = await eventually('the change to reach the SDK API', async () => {
    const response = await sdk(api, 'GET', '/api/client/features', client)
    return response.headers.etag !== etag ? response : undefined
  })
  t.match(
    JSON.parse(fresh.text).features.find(
      (feature: { name: string }) => feature.name === 'everyone',
    ),
    { enabled: false },
    'after the outage, changes flow again (the LISTEN reconnected)',
  )
  const counted = await api.request({
    method: 'GET',
    url: `/v1/flags/everyone/metrics?ring=${ring}`,
  })
  t.equal(counted.body.totals.yes, 3, 'the metrics held during the outage were written')
})

t.test(
  'two app instances on one PostgreSQL database see each other’s changes',
  {
    skip:
      testDatabaseKind === 'pglite' &&
      'needs PostgreSQL: PGlite is one process’s database, so there is no second instance',
  },
  async (t) => {
    const database = await createTestDatabase()
    t.teardown(() => database.dispose())
    // Only NOTIFY can tell them: the periodic check is off.
    const first = await build(t, { database: database.target, flagCheckIntervalMs: 0 })
    const second = await build(t, { database: database.target, flagCheckIntervalMs: 0 })
    const admin = first.adminToken
    const ring = uniqueName('ring')
    await first.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
    await seedFlags(adminCall(first), ring)
    const client = await first.tokenFor('client', undefined, ring)
    for (const api of [first, second]) {
      t.equal((await sdk(api, 'GET', '/api/client/features', client)).status, 200)
    }

    const latencies: number[] = []
    for (const [writer, reader] of [
      [first, second],
      [second, first],
      [first, second],
    ] as const) {
      const before = reader.app.flagSnapshots.current(ring)!.revision
      const startedAt = performance.now()
      const response = await writer.request({
        method: 'PATCH',
        url: `/v1/flags/everyone/rings/${ring}`,
        body: { enabled: latencies.length % 2 === 1 },
        token: admin,
      })
      t.equal(response.status, 200)
      const committed = await writer.app.store.read.flagRevisions.current(ring)
      t.ok(committed > before)
      await eventually(
        'the other instance to rebuild',
        async () =>
          reader.app.flagSnapshots.current(ring)!.revision >= committed ? true : undefined,
        5000,
      )
      latencies.push(performance.now() - startedAt)
      const served = JSON.parse((await sdk(reader, 'GET', '/api/client/features', client)).text)
      t.match(
        served.features.find((feature: { name: string }) => feature.name === 'everyone'),
        { enabled: latencies.length % 2 === 0 },
        'the other instance serves the change',
      )
    }
    t.comment(
      `PostgreSQL NOTIFY to a rebuilt snapshot on the other instance (from the admin request): ${latencies.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`,
    )
    t.ok(Math.max(...latencies) < 1000, 'well within a second')
  },
)

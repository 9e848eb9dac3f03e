import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DatabaseTarget } from '@ringmaster/db'
import { createTestDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { type AppOptions, app, serverOptions } from '../src/app.js'
import { DatabaseProxy } from '../src/testing/database-proxy.js'
import { seedFlags } from './helpers/flag-fixtures.js'

// A real TCP proxy sits between the app and PostgreSQL and the test cuts it, both ways a database
// goes away: connections reset, or silently blackholed. Through the cut, every SDK read (client
// API, delta, frontend API, OFREP, metrics, registrations) is answered from memory, and
// everything else is a 503 /problems/database-unavailable with Retry-After instead of a hang or a
// 500. When the proxy heals, the app recovers by itself and serves a flag change that another
// replica made during the cut. (How fast: scripts/bench/database-outage.ts.)

const skip =
  testDatabaseKind === 'pglite' && 'needs PostgreSQL: PGlite runs in-process, no connection to cut'

async function startApp(t: Test, options: AppOptions): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(false)).withTypeProvider<TypeBoxTypeProvider>()
  await fastify.register(app, {
    engineIntervalMs: 0,
    webhookIntervalMs: 0,
    spanExportIntervalMs: 0,
    ...options,
  })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}

interface Answer {
  status: number
  headers: Record<string, unknown>
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted field by field.
  json: () => any
}

async function call(
  fastify: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<Answer> {
  const response = await fastify.inject({
    method,
    url,
    headers: {
      ...(authorization !== undefined && { authorization }),
      'unleash-client-spec': '5.2.0',
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  })
  return {
    status: response.statusCode,
    headers: response.headers,
    text: response.body,
    json: () => JSON.parse(response.body),
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  // A bound only so that a broken app fails the test instead of hanging it; not a latency target.
  const deadline = Date.now() + 30_000
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** SDK reads in a loop, as SDKs poll; every answer that is not a success is counted. */
function sdkReaders(fastify: FastifyInstance, client: string, frontend: string, ring: string) {
  const state = { reads: 0, failed: [] as string[], metricsSent: 0, stopped: false }
  const reads: [string, () => Promise<Answer>][] = [
    ['client features', () => call(fastify, 'GET', '/api/client/features', client)],
    ['client delta', () => call(fastify, 'GET', '/api/client/delta', client)],
    ['frontend', () => call(fastify, 'GET', '/api/frontend?userId=u1', frontend)],
    [
      'ofrep',
      () =>
        call(fastify, 'POST', '/ofrep/v1/evaluate/flags/everyone', client, {
          context: { targetingKey: 'u1' },
        }),
    ],
    [
      'register',
      () =>
        call(fastify, 'POST', '/api/client/register', client, {
          appName: 'outage-test',
          instanceId: `i-${ring}`,
          strategies: ['default'],
          started: new Date().toISOString(),
          interval: 1000,
        }),
    ],
    [
      'metrics',
      () =>
        call(fastify, 'POST', '/api/client/metrics', client, {
          appName: 'outage-test',
          instanceId: `i-${ring}`,
          bucket: {
            start: new Date().toISOString(),
            stop: new Date().toISOString(),
            toggles: { everyone: { yes: 1, no: 0 } },
          },
        }),
    ],
  ]
  const done = (async () => {
    while (!state.stopped) {
      for (const [name, read] of reads) {
        const answer = await read()
        state.reads++
        if (name === 'metrics' && answer.status === 202) state.metricsSent++
        if (![200, 202, 304].includes(answer.status)) {
          state.failed.push(`${name}: ${answer.status} ${answer.text.slice(0, 200)}`)
        }
        // Let timers (the availability probe, the driver's timeouts) run between reads.
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  })()
  return {
    state,
    async stop() {
      state.stopped = true
      await done
    },
  }
}

for (const mode of ['reset', 'blackhole'] as const) {
  t.test(`a database cut by ${mode} costs no flag read`, { skip }, async (t) => {
    const database = await createTestDatabase()
    t.teardown(() => database.dispose())
    const direct = database.target as Extract<DatabaseTarget, { kind: 'postgres' }>
    const upstream = new URL(direct.url)
    const proxy = await DatabaseProxy.start({
      host: upstream.hostname,
      port: Number(upstream.port || 5432),
    })
    t.teardown(() => proxy.close())

    const adminToken = `test-admin-${randomUUID()}`
    const api = await startApp(t, {
      database: { ...direct, url: proxy.urlFor(direct.url) },
      adminToken,
      // Stale at every poll, so the re-check in the background runs all through the cut.
      sdkTokenFreshMs: 100,
    })
    // Another replica, on a path the cut does not touch: it makes a change during the cut.
    const other = await startApp(t, { database: direct, flagCheckIntervalMs: 0 })
    const admin = `Bearer ${adminToken}`

    const ring = `ring-${randomUUID().slice(0, 8)}`
    t.equal((await call(api, 'POST', '/v1/rings', admin, { name: ring, order: 0 })).status, 201)
    await seedFlags(async (method, url, body) => {
      const answer = await call(api, method, url, admin, body)
      return { status: answer.status, body: answer.text === '' ? undefined : answer.json() }
    }, ring)
    const tokenFor = async (role: 'client' | 'frontend') => {
      const created = await call(api, 'POST', '/v1/tokens', admin, {
        name: `${role}-token`,
        role,
        subject: `${role}-${ring}`,
        ring,
      })
      t.equal(created.status, 201)
      return created.json().secret as string
    }
    const client = await tokenFor('client')
    const frontend = await tokenFor('frontend')
    const before = await call(api, 'GET', '/api/client/features', client)
    t.equal(before.status, 200)
    t.match(
      before.json().features.find((f: { name: string }) => f.name === 'everyone'),
      {
        enabled: true,
      },
    )
    t.equal((await call(api, 'GET', '/api/frontend?userId=u1', frontend)).status, 200)

    const readers = sdkReaders(api, client, frontend, ring)
    await eventually('SDK reads before the cut', async () =>
      readers.state.reads >= 30 ? true : undefined,
    )

    if (mode === 'reset') proxy.reset()
    else proxy.blackhole()
    const readsAtCut = readers.state.reads
    const metricsAtCut = readers.state.metricsSent

    // A request already needing the database when it went: a 503 that says so, not a 500 or a hang.
    const first = await call(api, 'GET', '/v1/flags', admin)
    t.equal(first.status, 503, 'an admin read during the cut is refused')
    t.match(first.headers['content-type'], /^application\/problem\+json/)
    t.equal(first.headers['retry-after'], '2')
    t.match(first.json(), {
      type: '/problems/database-unavailable',
      status: 503,
      detail: /database cannot be reached/,
      instance: '/v1/flags',
    })

    await eventually('the app to see the database gone', async () =>
      api.database.availability.available ? undefined : true,
    )
    const ready = await call(api, 'GET', '/readyz', undefined)
    t.equal(ready.status, 503, 'not ready')
    t.equal(ready.headers['retry-after'], '2')
    t.match(ready.json(), { type: '/problems/database-unavailable', instance: '/readyz' })
    const write = await call(api, 'POST', '/v1/rings', admin, { name: `${ring}-cut`, order: 1 })
    t.match(
      { status: write.status, body: write.json() },
      { status: 503, body: { type: '/problems/database-unavailable' } },
      'a write during the cut is refused',
    )
    const stranger = await call(api, 'GET', '/api/client/features', 'not-a-token-seen-before')
    t.equal(stranger.status, 503, 'a token never seen cannot be checked: 503, not 401')

    // The other replica changes a flag: this app's NOTIFY listener is cut, so it cannot hear it.
    const changed = await call(other, 'PATCH', `/v1/flags/everyone/rings/${ring}`, admin, {
      enabled: false,
    })
    t.equal(changed.status, 200, 'the other replica still reaches the database')

    await eventually('SDK reads through the cut', async () =>
      readers.state.reads - readsAtCut >= 300 ? true : undefined,
    )
    t.same(readers.state.failed, [], 'no SDK read failed during the cut')
    const during = await call(api, 'GET', '/api/client/features', client)
    t.equal(during.text, before.text, 'the snapshot from before the cut is served')

    proxy.heal()
    await eventually('the app to see the database again', async () =>
      api.database.availability.available ? true : undefined,
    )
    await eventually('admin reads to work again', async () =>
      (await call(api, 'GET', '/v1/flags', admin)).status === 200 ? true : undefined,
    )
    t.match((await call(api, 'GET', '/readyz', undefined)).json(), { status: 'ready' })
    const caughtUp = await eventually('the change from the cut to be served', async () => {
      const answer = await call(api, 'GET', '/api/client/features', client)
      const everyone = answer.json().features.find((f: { name: string }) => f.name === 'everyone')
      return everyone.enabled === false ? everyone : undefined
    })
    t.match(caughtUp, { name: 'everyone', enabled: false })

    await readers.stop()
    t.same(readers.state.failed, [], 'no SDK read failed, before, during or after the cut')
    t.ok(readers.state.metricsSent > metricsAtCut, 'metrics were sent during the cut')

    const rings = await call(api, 'GET', '/v1/rings', admin)
    t.same(
      rings.json().rings.map((r: { name: string }) => r.name),
      [ring],
      'the refused write left nothing behind',
    )
    const metrics = await call(api, 'GET', `/v1/flags/everyone/metrics?ring=${ring}`, admin)
    t.equal(metrics.status, 200)
    t.equal(
      metrics.json().totals.yes,
      readers.state.metricsSent,
      'every metrics post, those held through the cut included, was written',
    )
  })
}

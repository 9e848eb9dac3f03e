import { testDatabaseKind } from '@ringmaster/db/testing'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'

// Frontend tokens ship inside web pages, so anyone can post SDK bodies. A hostile one is refused
// alone with a problem, and nothing it carries can stop other SDKs' metrics from being stored.

async function ringWithFlag(t: Parameters<typeof build>[0]) {
  const api = await build(t)
  const ring = uniqueName('ring')
  t.equal(
    (await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } }))
      .status,
    201,
  )
  const flag = uniqueName('flag')
  const created = await api.request({
    method: 'PUT',
    url: `/v1/flags/${flag}`,
    body: { rings: { [ring]: { enabled: true, strategies: [{ name: 'default' }] } } },
  })
  t.ok(created.status < 300, `flag created (${created.status})`)
  const tokens = {
    client: await api.tokenFor('client', undefined, ring),
    frontend: await api.tokenFor('frontend', undefined, ring),
  }
  return { api, ring, flag, tokens }
}

/** Posts a raw body the way an SDK (or anyone holding its token) would. */
function sdkPost(api: TestApp, url: string, token: string, payload: string) {
  return api.app.inject({
    method: 'POST',
    url,
    headers: { authorization: token, 'content-type': 'application/json' },
    payload,
  })
}

const hour = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString()

function metricsBody(flag: string, overrides: Record<string, unknown> = {}) {
  return {
    appName: 'web',
    instanceId: 'browser-1',
    bucket: {
      start: new Date().toISOString(),
      stop: new Date().toISOString(),
      toggles: { [flag]: { yes: 3, no: 1, variants: { blue: 2 } } },
    },
    ...overrides,
  }
}

const routes = [
  { kind: 'client', register: '/api/client/register', metrics: '/api/client/metrics' },
  {
    kind: 'frontend',
    register: '/api/frontend/client/register',
    metrics: '/api/frontend/client/metrics',
  },
] as const

/** Bodies each refused whole; `raw` is sent as is, for what JSON.stringify cannot write. */
function hostileBodies(
  flag: string,
): { name: string; route: 'register' | 'metrics'; raw: string }[] {
  const json = (route: 'register' | 'metrics', name: string, body: unknown) => ({
    name,
    route,
    raw: JSON.stringify(body),
  })
  const start = new Date().toISOString()
  const toggles = (counts: unknown) => ({ appName: 'web', bucket: { start, toggles: counts } })
  return [
    json('register', 'NUL in appName', { appName: 'web\u0000app' }),
    json('register', 'NUL in instanceId', { appName: 'web', instanceId: 'i\u0000' }),
    json('register', 'NUL in sdkVersion', { appName: 'web', sdkVersion: 'unleash\u0000' }),
    json('register', 'NUL in a strategy', { appName: 'web', strategies: ['default\u0000'] }),
    json('register', 'NUL in a field SDKs add', { appName: 'web', platformName: 'node\u0000' }),
    json('register', 'escape sequence in appName', { appName: 'web\u001b[31m' }),
    json('register', 'unpaired surrogate in appName', { appName: 'web\ud800' }),
    json('register', 'appName too long', { appName: 'a'.repeat(256) }),
    json('register', 'interval past 32 bits', { appName: 'web', interval: 1e12 }),
    json('register', 'too many fields', {
      appName: 'web',
      ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, i])),
    }),
    { name: 'interval 1e309', route: 'register', raw: '{"appName":"web","interval":1e309}' },
    json('metrics', 'NUL in appName', metricsBody(flag, { appName: '\u0000' })),
    json(
      'metrics',
      'NUL in a variant name',
      toggles({ [flag]: { yes: 1, variants: { 'a\u0000': 1 } } }),
    ),
    json('metrics', 'NUL in a flag name', toggles({ [`${flag}\u0000`]: { yes: 1 } })),
    json('metrics', 'NUL in the bucket start', {
      appName: 'web',
      bucket: { start: '\u0000', toggles: {} },
    }),
    json('metrics', 'count past 32 bits', toggles({ [flag]: { yes: 2 ** 40 } })),
    json('metrics', 'negative count', toggles({ [flag]: { no: -1 } })),
    json('metrics', 'variant count past 32 bits', toggles({ [flag]: { variants: { a: 1e15 } } })),
    json(
      'metrics',
      'too many variants',
      toggles({
        [flag]: {
          variants: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 1])),
        },
      }),
    ),
    json(
      'metrics',
      'too many flags',
      toggles(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`f${i}`, { yes: 1 }]))),
    ),
    json('metrics', 'flag name too long', toggles({ ['f'.repeat(256)]: { yes: 1 } })),
    {
      name: 'count 1e309',
      route: 'metrics',
      raw: `{"appName":"web","bucket":{"start":"${start}","toggles":{"${flag}":{"yes":1e309}}}}`,
    },
  ]
}

for (const route of routes) {
  t.test(
    `${route.kind} SDK bodies: each hostile one is a problem, the good ones are stored`,
    async (t) => {
      const { api, ring, flag, tokens } = await ringWithFlag(t)
      const token = tokens[route.kind]
      for (const hostile of hostileBodies(flag)) {
        const response = await sdkPost(api, route[hostile.route], token, hostile.raw)
        t.equal(response.statusCode, 400, `${hostile.name}: 400`)
        t.match(
          response.headers['content-type'],
          /^application\/problem\+json/,
          `${hostile.name}: a problem`,
        )
        t.equal(response.json().type, '/problems/validation-failed', `${hostile.name}: its type`)
        t.ok(response.json().errors.length > 0, `${hostile.name}: names the field`)
      }

      const registered = await sdkPost(
        api,
        route.register,
        token,
        JSON.stringify({ appName: 'web', instanceId: 'browser-1', interval: 15000 }),
      )
      t.equal(registered.statusCode, 202)
      const counted = await sdkPost(api, route.metrics, token, JSON.stringify(metricsBody(flag)))
      t.equal(counted.statusCode, 202)

      const shown = await api.request({
        method: 'GET',
        url: `/v1/flags/${flag}/metrics?ring=${ring}`,
      })
      t.equal(shown.status, 200)
      t.same(shown.body.buckets, [{ ring, hour: hour(), yes: 3, no: 1, variants: { blue: 2 } }])
      const registrations = await api.app.store.read.sdkRegistrations.list({ ring })
      t.same(
        registrations.map((registration) => [registration.appName, registration.instanceId]),
        [['web', 'browser-1']],
        'only the good registration was kept',
      )
    },
  )
}

t.test(
  'a value the database refuses never stops the other metrics from being stored',
  async (t) => {
    // Validation refuses these first; this is the net under it, at the flush itself.
    const { api, ring, flag } = await ringWithFlag(t)
    api.app.flagMetrics.register({ ring, kind: 'frontend', appName: 'web\u0000', instanceId: 'x' })
    api.app.flagMetrics.register({
      ring,
      kind: 'frontend',
      appName: 'web',
      instanceId: 'browser-2',
    })
    api.app.flagMetrics.record(ring, metricsBody(flag))
    api.app.flagMetrics.record(ring, {
      appName: 'web',
      bucket: {
        start: new Date().toISOString(),
        toggles: { [flag]: { variants: { 'v\u0000': 1 } } },
      },
    })

    const shown = await api.request({
      method: 'GET',
      url: `/v1/flags/${flag}/metrics?ring=${ring}`,
    })
    t.equal(shown.status, 200, 'the metrics of every flag are still readable')
    t.same(shown.body.buckets, [{ ring, hour: hour(), yes: 3, no: 1, variants: { blue: 2 } }])
    t.equal(api.app.flagMetrics.pendingBuckets, 0, 'nothing is left to retry forever')
    const registrations = await api.app.store.read.sdkRegistrations.list({ ring })
    t.same(
      registrations.map((registration) => registration.appName),
      ['web'],
      'the good registration was stored, the refused one dropped',
    )

    api.app.flagMetrics.record(ring, metricsBody(flag))
    const again = await api.app.flagMetrics.flush()
    t.same(again.refused, [], 'later flushes write as before')
    const after = await api.request({
      method: 'GET',
      url: `/v1/flags/${flag}/metrics?ring=${ring}`,
    })
    t.equal(after.body.totals.yes, 6)
  },
)

t.test('the store refuses an unstorable value as input, not as a server fault', async (t) => {
  const { api } = await ringWithFlag(t)
  const error = await api.app.store
    .transaction((tx) =>
      tx.sdkRegistrations.upsert({
        ring: 'r',
        kind: 'client',
        appName: 'a\u0000',
        instanceId: 'i',
        sdkVersion: null,
        strategies: [],
        startedAt: null,
        intervalMs: null,
        seenAt: new Date().toISOString(),
      }),
    )
    .then(
      () => undefined,
      (caught: unknown) => caught,
    )
  t.match(error, { name: 'InvalidInputError', code: 'unstorable-value' }, testDatabaseKind)
})

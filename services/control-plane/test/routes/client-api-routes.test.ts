import { compileFlags, evaluate } from '@ringmaster/flag-evaluator'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import {
  type AdminCall,
  sampleContexts,
  seedFlags,
  snapshotCaughtUp,
} from '../helpers/flag-fixtures.js'

// The Unleash client API over inject: ETags and 304s, both segment shapes, filters, the delta
// protocol, SDK headers, registration and metrics, and who may call what.

const adminCall =
  (api: TestApp): AdminCall =>
  async (method, url, body) => {
    const response = await api.request({ method, url, body })
    return { status: response.status, body: response.body }
  }

async function ringWithFlags(t: Parameters<typeof build>[0]) {
  const api = await build(t)
  const ring = uniqueName('ring')
  const created = await api.request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: ring, order: 0 },
  })
  t.equal(created.status, 201)
  const flags = await seedFlags(adminCall(api), ring)
  const client = await api.tokenFor('client', undefined, ring)
  return { api, ring, flags, client }
}

/** A GET the way unleash-client sends it: the bare token in Authorization, its own headers. */
async function sdkGet(
  api: TestApp,
  url: string,
  token: string,
  headers: Record<string, string> = {},
) {
  const response = await api.app.inject({
    method: 'GET',
    url,
    headers: {
      authorization: token,
      'unleash-appname': 'checkout',
      'unleash-instanceid': 'checkout-1',
      'unleash-sdk': 'unleash-node-sdk:6.12.1',
      'unleash-connection-id': '8a7b1c9e-0000-4000-8000-000000000000',
      'unleash-interval': 'undefined',
      'user-agent': 'checkout',
      ...headers,
    },
  })
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body === '' ? undefined : response.json(),
  }
}

t.test('client features: the ring state, an ETag, and 304 while nothing changes', async (t) => {
  const { api, ring, flags, client } = await ringWithFlags(t)
  const first = await sdkGet(api, '/api/client/features', client, {
    'unleash-client-spec': '5.2.0',
  })
  t.equal(first.status, 200)
  t.match(first.headers['content-type'], 'application/json')
  t.same(
    first.body.features.map((feature: { name: string }) => feature.name),
    flags,
    'every flag, in name order',
  )
  t.match(first.body, {
    version: 2,
    query: { environment: ring, inlineSegmentConstraints: false },
    meta: { etag: first.headers.etag },
    segments: [{ name: 'internal', constraints: [{ contextName: 'email' }] }],
  })
  const byName = new Map(
    first.body.features.map((feature: { name: string }) => [feature.name, feature]),
  )
  t.match(byName.get('off-in-ring'), { enabled: false })
  t.match(byName.get('unconfigured'), { enabled: false, strategies: [] })
  t.match(byName.get('staff-only'), {
    enabled: true,
    strategies: [{ name: 'default', segments: [first.body.segments[0].id] }],
  })

  const again = await sdkGet(api, '/api/client/features', client, {
    'unleash-client-spec': '5.2.0',
    'if-none-match': first.headers.etag as string,
  })
  t.equal(again.status, 304)
  t.equal(again.body, undefined)
  t.equal(again.headers.etag, first.headers.etag)

  const changed = await api.request({
    method: 'PATCH',
    url: `/v1/flags/everyone/rings/${ring}`,
    body: { enabled: false },
  })
  t.equal(changed.status, 200)
  await snapshotCaughtUp(api.app, ring)
  const after = await sdkGet(api, '/api/client/features', client, {
    'unleash-client-spec': '5.2.0',
    'if-none-match': first.headers.etag as string,
  })
  t.equal(after.status, 200, 'the change is served once the snapshot caught up')
  t.not(after.headers.etag, first.headers.etag)
  t.match(
    after.body.features.find((feature: { name: string }) => feature.name === 'everyone'),
    { enabled: false },
  )
  t.ok(after.body.meta.revisionId > first.body.meta.revisionId)
})

t.test('old SDKs get segment constraints inlined; both shapes decide alike', async (t) => {
  const { api, client } = await ringWithFlags(t)
  const separate = await sdkGet(api, '/api/client/features', client, {
    'unleash-client-spec': '4.2.0',
  })
  const inlined = await sdkGet(api, '/api/client/features', client)
  t.ok(separate.body.segments)
  t.notOk('segments' in inlined.body, 'no segment list without Unleash-Client-Spec')
  t.equal(inlined.body.query.inlineSegmentConstraints, true)
  t.not(inlined.headers.etag, separate.headers.etag)
  const staff = inlined.body.features.find((f: { name: string }) => f.name === 'staff-only')
  t.same(staff.strategies[0].constraints, [
    {
      contextName: 'email',
      operator: 'STR_ENDS_WITH',
      values: ['@example.com'],
      caseInsensitive: true,
    },
  ])
  const a = compileFlags(separate.body)
  const b = compileFlags(inlined.body)
  for (const context of sampleContexts()) {
    for (const name of a.flags.keys()) {
      t.same(
        evaluate(b, name, context),
        evaluate(a, name, context),
        `${name} for ${context.userId}`,
      )
    }
  }
})

t.test('project, namePrefix and tag filters', async (t) => {
  const { api, client } = await ringWithFlags(t)
  const names = async (query: string) => {
    const response = await sdkGet(api, `/api/client/features?${query}`, client)
    t.equal(response.status, 200, query)
    return response.body.features.map((feature: { name: string }) => feature.name)
  }
  t.same(await names('project=payments'), ['payments-only'])
  t.same(await names('namePrefix=beta'), ['beta-child', 'beta-plan'])
  t.same(await names('tag=simple:team:payments'), ['payments-only'], 'Unleash tags: type:value')
  t.same(await names('tag=team:payments'), ['payments-only'])
  t.same(await names('project=payments&project=default&namePrefix=pay'), ['payments-only'])
  const filtered = await sdkGet(api, '/api/client/features?project=payments', client)
  const all = await sdkGet(api, '/api/client/features', client)
  t.not(filtered.headers.etag, all.headers.etag, 'a filtered answer has its own ETag')
  t.same(filtered.body.query.project, ['payments'])
})

t.test('delta: hydration, 304, then only what changed', async (t) => {
  const { api, ring, flags, client } = await ringWithFlags(t)
  const hydration = await sdkGet(api, '/api/client/delta', client, {
    'unleash-client-spec': '5.2.0',
  })
  t.equal(hydration.status, 200)
  t.equal(hydration.body.events.length, 1)
  t.match(hydration.body.events[0], { type: 'hydration', segments: [{ name: 'internal' }] })
  t.equal(hydration.body.events[0].features.length, flags.length)
  const etag = hydration.headers.etag as string
  t.match(etag, /^"[0-9a-z]+:\d+"$/)
  t.equal(hydration.body.events[0].eventId, Number(/:(\d+)"$/.exec(etag)![1]))

  const unchanged = await sdkGet(api, '/api/client/delta', client, { 'if-none-match': etag })
  t.equal(unchanged.status, 304)

  await api.request({
    method: 'PUT',
    url: `/v1/flags/rollout-30/rings/${ring}/strategies`,
    body: { strategies: [{ name: 'flexibleRollout', parameters: { rollout: '60' } }] },
  })
  await api.request({ method: 'DELETE', url: '/v1/flags/listed-users' })
  await api.request({
    method: 'PUT',
    url: '/v1/segments/internal',
    body: { constraints: [{ contextName: 'email', operator: 'STR_CONTAINS', values: ['@'] }] },
  })
  await snapshotCaughtUp(api.app, ring)
  const delta = await sdkGet(api, '/api/client/delta', client, { 'if-none-match': etag })
  t.equal(delta.status, 200)
  t.match(delta.body.events, [
    {
      type: 'feature-updated',
      feature: { name: 'rollout-30', strategies: [{ parameters: { rollout: '60' } }] },
    },
    { type: 'feature-removed', featureName: 'listed-users' },
    {
      type: 'segment-updated',
      segment: { name: 'internal', constraints: [{ operator: 'STR_CONTAINS' }] },
    },
  ])
  const ids = delta.body.events.map((event: { eventId: number }) => event.eventId)
  t.same(
    ids,
    [...ids].sort((a, b) => a - b),
    'oldest change first',
  )
  t.not(delta.headers.etag, etag)

  const stranger = await sdkGet(api, '/api/client/delta', client, { 'if-none-match': '"0"' })
  t.equal(stranger.body.events[0].type, 'hydration', 'an ETag that is not ours gets everything')
  const otherQuery = await sdkGet(api, '/api/client/delta?project=payments', client, {
    'if-none-match': etag,
  })
  t.match(otherQuery.body.events, [{ type: 'hydration', features: [{ name: 'payments-only' }] }])
})

t.test('registration and metrics, shown per flag, ring and hour', async (t) => {
  const { api, ring, client } = await ringWithFlags(t)
  const post = (url: string, body: unknown) =>
    api.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: client,
        'content-type': 'application/json',
        'unleash-interval': 'undefined',
        'unleash-appname': 'checkout',
      },
      payload: JSON.stringify(body),
    })
  const registered = await post('/api/client/register', {
    appName: 'checkout',
    instanceId: 'checkout-1',
    connectionId: 'c-1',
    sdkVersion: 'unleash-node-sdk:6.12.1',
    strategies: ['default', 'flexibleRollout'],
    started: new Date().toISOString(),
    interval: 60000,
    platformName: 'node',
    platformVersion: process.versions.node,
    yggdrasilVersion: null,
    specVersion: '5.2.0',
  })
  t.equal(registered.statusCode, 202)
  t.equal(registered.body, '')
  const start = new Date()
  const metrics = await post('/api/client/metrics', {
    appName: 'checkout',
    instanceId: 'checkout-1',
    connectionId: 'c-1',
    bucket: {
      start: start.toISOString(),
      stop: new Date().toISOString(),
      toggles: {
        colours: { yes: 5, no: 2, variants: { red: 3, blue: 2, disabled: 2 } },
        'no-such-flag': { yes: 1, no: 0, variants: {} },
      },
    },
    platformName: 'node',
    yggdrasilVersion: null,
  })
  t.equal(metrics.statusCode, 202)
  await post('/api/client/metrics', {
    appName: 'checkout',
    bucket: { start: start.toISOString(), toggles: { colours: { yes: 1, no: 0, variants: {} } } },
  })

  const shown = await api.request({ method: 'GET', url: `/v1/flags/colours/metrics?ring=${ring}` })
  t.equal(shown.status, 200)
  const hour = new Date(Math.floor(start.getTime() / 3_600_000) * 3_600_000).toISOString()
  t.same(shown.body.buckets, [
    { ring, hour, yes: 6, no: 2, variants: { red: 3, blue: 2, disabled: 2 } },
  ])
  t.same(shown.body.totals, { yes: 6, no: 2, variants: { red: 3, blue: 2, disabled: 2 } })
  const registrations = await api.app.store.read.sdkRegistrations.list({ ring })
  t.match(registrations, [
    {
      ring,
      kind: 'client',
      appName: 'checkout',
      instanceId: 'checkout-1',
      sdkVersion: 'unleash-node-sdk:6.12.1',
      strategies: ['default', 'flexibleRollout'],
      intervalMs: 60000,
    },
  ])
  t.equal((await api.request({ method: 'GET', url: '/v1/flags/no-such-flag/metrics' })).status, 404)
  const bad = await post('/api/client/metrics', { appName: 'x', bucket: { toggles: {} } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().type, '/problems/validation-failed')
})

t.test('SDK tokens reach their ring and nothing else', async (t) => {
  const { api, ring, client } = await ringWithFlags(t)
  const frontend = await api.tokenFor('frontend', undefined, ring)
  t.equal((await sdkGet(api, '/api/client/features', frontend)).status, 403)
  t.equal((await sdkGet(api, '/v1/flags', `Bearer ${client}`)).status, 403)
  t.equal((await sdkGet(api, '/api/client/features', `Bearer ${client}`)).status, 200)
  const missing = await sdkGet(api, '/api/client/features', '')
  t.equal(missing.status, 401)

  // A second ring: its token sees its own state, not the first ring's.
  const other = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: other, order: 1 } })
  const otherClient = await api.tokenFor('client', undefined, other)
  const otherFeatures = await sdkGet(api, '/api/client/features', otherClient)
  t.equal(otherFeatures.body.query.environment, other)
  t.ok(
    otherFeatures.body.features.every((feature: { enabled: boolean }) => !feature.enabled),
    'no flag is configured in the other ring',
  )
})

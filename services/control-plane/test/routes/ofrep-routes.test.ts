import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { type AdminCall, seedFlags, snapshotCaughtUp } from '../helpers/flag-fixtures.js'

// OFREP over inject: values, variants and reasons; the protocol's error codes and shapes; bulk
// evaluation with ETags; and the tokens that may call it.

const adminCall =
  (api: TestApp): AdminCall =>
  async (method, url, body) => {
    const response = await api.request({ method, url, body })
    return { status: response.status, body: response.body }
  }

async function setup(t: Parameters<typeof build>[0]) {
  const api = await build(t)
  const ring = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
  await seedFlags(adminCall(api), ring)
  const client = await api.tokenFor('client', undefined, ring)
  const frontend = await api.tokenFor('frontend', undefined, ring)
  const evaluate = async (
    key: string,
    payload: unknown,
    token = client,
    headers: Record<string, string> = {},
  ) => {
    const response = await api.app.inject({
      method: 'POST',
      url: key === '*' ? '/ofrep/v1/evaluate/flags' : `/ofrep/v1/evaluate/flags/${key}`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...headers,
      },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body === '' ? undefined : response.json(),
    }
  }
  return { api, ring, client, frontend, evaluate }
}

t.test('single evaluation: booleans, variant payloads and reasons', async (t) => {
  const { evaluate, frontend } = await setup(t)
  const cases: { key: string; context: Record<string, unknown>; expected: object }[] = [
    { key: 'everyone', context: {}, expected: { value: true, variant: 'on', reason: 'STATIC' } },
    { key: 'no-strategies', context: {}, expected: { value: true, reason: 'STATIC' } },
    {
      key: 'off-in-ring',
      context: {},
      expected: { value: false, variant: 'off', reason: 'DISABLED' },
    },
    { key: 'unconfigured', context: {}, expected: { value: false, reason: 'DISABLED' } },
    {
      key: 'beta-plan',
      context: { targetingKey: 'u1', plan: 'pilot' },
      expected: { value: true, reason: 'TARGETING_MATCH', metadata: { strategy: 'default' } },
    },
    {
      key: 'beta-plan',
      context: { targetingKey: 'u1', plan: 'free' },
      expected: { value: false, reason: 'DEFAULT', metadata: { featureEnabled: false } },
    },
    {
      key: 'listed-users',
      context: { targetingKey: 'u3' },
      expected: { value: true, reason: 'TARGETING_MATCH' },
    },
    {
      key: 'staff-only',
      context: { targetingKey: 'x', email: 'Ann@EXAMPLE.com' },
      expected: { value: true, reason: 'TARGETING_MATCH' },
    },
    {
      key: 'adults',
      context: { targetingKey: 'x', age: 30, country: 'DE' },
      expected: { value: true },
    },
    {
      key: 'colours',
      context: { targetingKey: 'u2' },
      expected: { variant: 'blue', value: 'blue', reason: 'TARGETING_MATCH' },
    },
  ]
  for (const { key, context, expected } of cases) {
    const response = await evaluate(key, { context })
    t.equal(response.status, 200, `${key} ${JSON.stringify(context)}`)
    t.match(response.body, { key, ...expected }, `${key} ${JSON.stringify(context)}`)
  }
  const split = await evaluate('colours', { context: { targetingKey: 'u9' } })
  t.equal(split.body.reason, 'SPLIT')
  t.ok(
    (split.body.variant === 'red' && split.body.value.hex === '#f00') ||
      (split.body.variant === 'blue' && split.body.value === 'blue'),
    'a json payload is an object, a string payload a string',
  )
  const experiment = await evaluate('checkout-experiment', { context: { targetingKey: 'u4' } })
  t.match(experiment.body, { reason: 'SPLIT' })
  t.ok(
    experiment.body.variant === 'wizard'
      ? experiment.body.value === 'wizard'
      : experiment.body.variant === 'one-page'
        ? experiment.body.value === 1
        : !('value' in experiment.body),
    'a number payload is a number; a variant without payload is its name; none: no value',
  )
  const viaFrontend = await evaluate('everyone', { context: {} }, frontend)
  t.equal(viaFrontend.status, 200, 'frontend tokens may call OFREP too')
})

t.test('the protocol error codes and shapes', async (t) => {
  const { evaluate, api, ring } = await setup(t)
  const notFound = await evaluate('no-such-flag', { context: {} })
  t.equal(notFound.status, 404)
  t.same(notFound.body, {
    key: 'no-such-flag',
    errorCode: 'FLAG_NOT_FOUND',
    errorDetails: "no flag 'no-such-flag' in this ring",
  })
  t.match(notFound.headers['content-type'], 'application/json')

  const missingKey = await evaluate('rollout-30', { context: { plan: 'beta' } })
  t.equal(missingKey.status, 400)
  t.match(missingKey.body, { key: 'rollout-30', errorCode: 'TARGETING_KEY_MISSING' })

  const invalid = await evaluate('everyone', { context: { targetingKey: 'u1', nested: { a: 1 } } })
  t.equal(invalid.status, 400)
  t.match(invalid.body, { key: 'everyone', errorCode: 'INVALID_CONTEXT', errorDetails: /nested/ })

  const badKey = await evaluate('everyone', { context: { targetingKey: 7 } })
  t.match(badKey.body, { errorCode: 'INVALID_CONTEXT' })

  const garbled = await evaluate('everyone', '{"context": ')
  t.equal(garbled.status, 400)
  t.match(garbled.body, { key: 'everyone', errorCode: 'PARSE_ERROR' })

  const wrongShape = await evaluate('everyone', { context: 'u1' })
  t.match(wrongShape.body, {
    key: 'everyone',
    errorCode: 'INVALID_CONTEXT',
    errorDetails: /context/,
  })
  const notAnObject = await evaluate('everyone', [])
  t.match(notAnObject.body, { key: 'everyone', errorCode: 'PARSE_ERROR' })

  const bulkGarbled = await evaluate('*', '[')
  t.equal(bulkGarbled.status, 400)
  t.same(Object.keys(bulkGarbled.body).sort(), ['errorCode', 'errorDetails'], 'no key in bulk')

  const anonymous = await api.app.inject({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags/everyone',
    headers: { 'content-type': 'application/json' },
    payload: '{}',
  })
  t.equal(anonymous.statusCode, 401)
  const viewer = await api.tokenFor('viewer')
  t.equal((await evaluate('everyone', { context: {} }, viewer)).status, 403)
  t.ok(ring)
})

t.test('bulk evaluation: every flag, an ETag, 304 while the answer holds', async (t) => {
  const { evaluate, api, ring } = await setup(t)
  const first = await evaluate('*', { context: { targetingKey: 'u3', plan: 'beta' } })
  t.equal(first.status, 200)
  const keys = first.body.flags.map((flag: { key: string }) => flag.key)
  t.same(keys, [...keys].sort(), 'in name order')
  t.ok(keys.includes('off-in-ring') && keys.includes('unconfigured'), 'off flags are listed too')
  t.match(
    first.body.flags.find((flag: { key: string }) => flag.key === 'listed-users'),
    { value: true },
  )
  const etag = first.headers.etag as string
  const again = await evaluate('*', { context: { targetingKey: 'u3', plan: 'beta' } }, undefined, {
    'if-none-match': etag,
  })
  t.equal(again.status, 304)
  const otherContext = await evaluate('*', { context: { targetingKey: 'u4' } }, undefined, {
    'if-none-match': etag,
  })
  t.equal(otherContext.status, 200, 'another context, another answer')

  await api.request({
    method: 'PATCH',
    url: `/v1/flags/everyone/rings/${ring}`,
    body: { enabled: false },
  })
  await snapshotCaughtUp(api.app, ring)
  const changed = await evaluate(
    '*',
    { context: { targetingKey: 'u3', plan: 'beta' } },
    undefined,
    { 'if-none-match': etag },
  )
  t.equal(changed.status, 200, 'a flag change changes the answer')
  t.not(changed.headers.etag, etag)
})

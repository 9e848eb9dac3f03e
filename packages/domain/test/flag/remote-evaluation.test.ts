import {
  type ClientFeaturesState,
  compileFlags,
  type UnleashContext,
} from '@ringmaster/flag-evaluator'
import t from 'tap'
import {
  evaluateOfrep,
  explainFlags,
  InvalidContextError,
  isOfrepFailure,
  type OfrepEvaluation,
  type OfrepSuccess,
  ofrepContext,
  unleashContext,
} from '../../src/flag/remote-evaluation.js'

const state: ClientFeaturesState = {
  version: 2,
  features: [
    { name: 'always', enabled: true, strategies: [] },
    { name: 'off', enabled: false, strategies: [{ name: 'default' }] },
    { name: 'everyone', enabled: true, strategies: [{ name: 'default', parameters: {} }] },
    {
      name: 'beta-users',
      enabled: true,
      impressionData: true,
      strategies: [
        {
          name: 'default',
          constraints: [{ contextName: 'plan', operator: 'IN', values: ['beta'] }],
        },
      ],
    },
    {
      name: 'half',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '50', stickiness: 'userId', groupId: 'half' },
        },
      ],
    },
    {
      name: 'listed',
      enabled: true,
      strategies: [{ name: 'userWithId', parameters: { userIds: 'u1,u2' } }],
    },
    {
      name: 'colour',
      enabled: true,
      strategies: [{ name: 'default' }],
      variants: [
        { name: 'red', weight: 500, payload: { type: 'json', value: '{"hex":"#f00"}' } },
        {
          name: 'blue',
          weight: 500,
          payload: { type: 'number', value: '42' },
          overrides: [{ contextName: 'userId', values: ['vip'] }],
        },
      ],
    },
    {
      name: 'broken-json',
      enabled: true,
      strategies: [{ name: 'default' }],
      variants: [{ name: 'x', weight: 1000, payload: { type: 'json', value: '{nope' } }],
    },
    {
      name: 'variants-off',
      enabled: false,
      strategies: [],
      variants: [{ name: 'a', weight: 1000, payload: { type: 'string', value: 'A' } }],
    },
  ],
  segments: [],
}
const compiled = compileFlags(state)

function success(evaluation: OfrepEvaluation): OfrepSuccess {
  if (isOfrepFailure(evaluation)) throw new Error(`unexpected ${evaluation.errorCode}`)
  return evaluation
}

t.test('context from query parameters and bodies', async (t) => {
  t.same(
    unleashContext({
      userId: 'u1',
      appName: 'web',
      'properties[plan]': 'beta',
      tenant: 'acme',
      count: 3,
      flag: true,
      empty: null,
      sessionId: ['s1', 's2'],
      properties: { region: 'eu' },
    }),
    {
      userId: 'u1',
      appName: 'web',
      sessionId: 's1',
      properties: { plan: 'beta', tenant: 'acme', count: '3', flag: 'true', region: 'eu' },
    },
  )
  t.throws(() => unleashContext({ nested: { a: 1 } }), InvalidContextError)
  t.throws(() => unleashContext({ properties: 'x' }), InvalidContextError)
  t.same(ofrepContext({ targetingKey: 'u9', plan: 'beta' }), {
    userId: 'u9',
    properties: { plan: 'beta' },
  })
  t.same(ofrepContext(undefined), {})
  t.throws(() => ofrepContext({ targetingKey: 5 }), InvalidContextError)
})

t.test('OFREP values, variants and reasons', async (t) => {
  const cases: { key: string; context: UnleashContext; expected: Record<string, unknown> }[] = [
    { key: 'always', context: {}, expected: { reason: 'STATIC', value: true, variant: 'on' } },
    { key: 'off', context: {}, expected: { reason: 'DISABLED', value: false, variant: 'off' } },
    { key: 'everyone', context: {}, expected: { reason: 'STATIC', value: true } },
    {
      key: 'beta-users',
      context: { properties: { plan: 'beta' } },
      expected: { reason: 'TARGETING_MATCH', value: true },
    },
    {
      key: 'beta-users',
      context: { properties: { plan: 'free' } },
      expected: { reason: 'DEFAULT', value: false, variant: 'off' },
    },
    { key: 'listed', context: { userId: 'u1' }, expected: { reason: 'TARGETING_MATCH' } },
    {
      key: 'colour',
      context: { userId: 'vip' },
      expected: { reason: 'TARGETING_MATCH', variant: 'blue', value: 42 },
    },
    {
      key: 'variants-off',
      context: {},
      expected: { reason: 'DISABLED', variant: 'disabled', value: undefined },
    },
  ]
  for (const { key, context, expected } of cases) {
    const result = evaluateOfrep(compiled, key, context)
    t.match(result, { key, ...expected }, `${key} ${JSON.stringify(context)}`)
    if ('value' in expected && expected.value === undefined) {
      t.notOk('value' in result, 'no value: the code default holds')
    }
  }
  const colour = success(evaluateOfrep(compiled, 'colour', { userId: 'someone' }))
  t.equal(colour.reason, 'SPLIT')
  t.ok(
    JSON.stringify(colour.value) === '{"hex":"#f00"}' || colour.value === 42,
    'json payloads are parsed, numbers are numbers',
  )
  const half = [...Array(40).keys()].map((i) =>
    success(evaluateOfrep(compiled, 'half', { userId: `u${i}` })),
  )
  t.ok(half.some((result) => result.reason === 'SPLIT' && result.value === true))
  t.ok(half.some((result) => result.reason === 'DEFAULT' && result.value === false))
})

t.test('OFREP errors', async (t) => {
  t.same(evaluateOfrep(compiled, 'nope', {}), {
    key: 'nope',
    errorCode: 'FLAG_NOT_FOUND',
    errorDetails: "no flag 'nope' in this ring",
  })
  t.match(evaluateOfrep(compiled, 'half', {}), { errorCode: 'TARGETING_KEY_MISSING' })
  t.match(evaluateOfrep(compiled, 'listed', {}), { errorCode: 'TARGETING_KEY_MISSING' })
  t.match(evaluateOfrep(compiled, 'listed', { userId: 'u7' }), { value: false })
  t.match(evaluateOfrep(compiled, 'broken-json', {}), {
    errorCode: 'GENERAL',
    errorDetails: /not valid JSON/,
  })
})

t.test('explanations for named flags or all of them', async (t) => {
  t.equal(explainFlags(compiled, {}).length, state.features.length)
  const [beta, missing] = explainFlags(compiled, { properties: { plan: 'free' } }, [
    'beta-users',
    'nope',
  ])
  t.match(beta, {
    flagName: 'beta-users',
    enabled: false,
    decision: { code: 'NO_STRATEGY_MATCHED' },
    strategies: [{ failure: { code: 'CONSTRAINT_FAILED', contextName: 'plan' } }],
  })
  t.match(missing, { decision: { code: 'FLAG_NOT_FOUND' } })
})

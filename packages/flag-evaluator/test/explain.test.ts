import t from 'tap'
import type { ClientFeaturesState } from '../src/index.js'
import { compileFlags, explain, rolloutBucket } from '../src/index.js'

const state: ClientFeaturesState = {
  version: 1,
  segments: [{ id: 7, constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }] }],
  features: [
    { name: 'off', enabled: false, strategies: [{ name: 'default' }] },
    { name: 'everyone', enabled: true, strategies: [] },
    {
      name: 'beta',
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [
            { contextName: 'plan', operator: 'IN', values: ['pro'] },
            { contextName: 'version', operator: 'SEMVER_GT', value: '2.0.0', inverted: true },
          ],
        },
        {
          name: 'flexibleRollout',
          parameters: { rollout: '10', stickiness: 'userId', groupId: 'beta' },
        },
        { name: 'default', segments: [7] },
        { name: 'default', segments: [99] },
        { name: 'custom' },
      ],
    },
    {
      name: 'colours',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', groupId: 'colours' },
          variants: [{ name: 'blue', weight: 1, payload: { type: 'string', value: 'b' } }],
        },
      ],
    },
    { name: 'child', enabled: true, strategies: [], dependencies: [{ feature: 'off' }] },
    {
      name: 'child-of-variant',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'colours', variants: ['red'] }],
    },
    {
      name: 'regex',
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [{ contextName: 'userId', operator: 'REGEX', value: '^(a)\\1$' }],
        },
      ],
    },
  ],
}
const compiled = compileFlags(state)

// Find a user the 10% rollout leaves out, and one it lets in, so the buckets are real.
const outUser = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].find(
  (u) => rolloutBucket(u, 'beta') > 10,
) as string
const inUser = Array.from({ length: 200 }, (_, i) => `user-${i}`).find(
  (u) => rolloutBucket(u, 'beta') <= 10,
) as string

t.test('an unknown flag', async (t) => {
  const result = explain(compiled, 'nope', {})
  t.same(result.decision, { code: 'FLAG_NOT_FOUND' })
  t.equal(result.enabled, false)
  t.equal(result.message, 'Flag "nope" is not in this state, so it is off.')
})

t.test('a disabled flag', async (t) => {
  const result = explain(compiled, 'off', {})
  t.same(result.decision, { code: 'FLAG_DISABLED' })
  t.same(result.strategies, [])
  t.match(result.message, /disabled in this environment/)
})

t.test('an enabled flag without strategies', async (t) => {
  const result = explain(compiled, 'everyone', {})
  t.same(result.decision, { code: 'NO_STRATEGIES' })
  t.equal(result.enabled, true)
})

t.test('every strategy fails, each for its own reason', async (t) => {
  const result = explain(compiled, 'beta', {
    userId: outUser,
    properties: { plan: 'free', country: 'SE' },
  })
  t.equal(result.enabled, false)
  t.same(result.decision, { code: 'NO_STRATEGY_MATCHED' })
  t.same(
    result.strategies.map((s) => s.failure?.code),
    [
      'CONSTRAINT_FAILED',
      'ROLLOUT_NOT_REACHED',
      'CONSTRAINT_FAILED',
      'SEGMENT_NOT_FOUND',
      'UNKNOWN_STRATEGY',
    ],
  )
  t.match(result.strategies[0]?.failure, {
    code: 'CONSTRAINT_FAILED',
    origin: { kind: 'strategy', constraintIndex: 0 },
    contextName: 'plan',
    operator: 'IN',
    values: ['pro'],
    contextValue: 'free',
    inverted: false,
  })
  t.match(result.strategies[1]?.failure, {
    code: 'ROLLOUT_NOT_REACHED',
    stickiness: 'userId',
    stickinessValue: outUser,
    groupId: 'beta',
    bucket: rolloutBucket(outUser, 'beta'),
    rollout: 10,
  })
  t.match(result.strategies[2]?.failure, {
    origin: { kind: 'segment', segmentId: 7, constraintIndex: 0 },
    contextValue: 'SE',
  })
  t.same(result.strategies[3]?.failure, { code: 'SEGMENT_NOT_FOUND', segmentId: 99 })
  t.match(
    result.message,
    /^Flag "beta" is off: no strategy matched; strategy #0 \(default\) failed constraint #0: plan IN \["pro"\], but the context value was "free"; /,
  )
  t.match(
    result.message,
    new RegExp(
      `in bucket ${rolloutBucket(outUser, 'beta')} of group "beta", above the rollout of 10%`,
    ),
  )
  t.match(result.message, /strategy #4 \(custom\) is not a strategy this evaluator knows/)
})

t.test('the second constraint fails and is reported with inverted and its value', async (t) => {
  const result = explain(compiled, 'beta', {
    userId: outUser,
    properties: { plan: 'pro', version: '3.0.0' },
  })
  t.match(result.strategies[0]?.failure, {
    origin: { constraintIndex: 1 },
    operator: 'SEMVER_GT',
    value: '2.0.0',
    inverted: true,
    contextValue: '3.0.0',
  })
  t.match(result.message, /SEMVER_GT "2\.0\.0" \(inverted\)/)
})

t.test('a rollout that lets the user in names the strategy and the bucket', async (t) => {
  const result = explain(compiled, 'beta', { userId: inUser })
  t.equal(result.enabled, true)
  t.same(result.decision, {
    code: 'STRATEGY_MATCHED',
    strategyIndex: 1,
    strategyName: 'flexibleRollout',
  })
  t.equal(result.strategies[1]?.bucket, rolloutBucket(inUser, 'beta'))
  t.match(
    result.message,
    `strategy #1 (flexibleRollout) matched (bucket ${rolloutBucket(inUser, 'beta')} ≤ rollout 10%)`,
  )
})

t.test('a missing stickiness value', async (t) => {
  const result = explain(compiled, 'beta', { properties: { plan: 'free' } })
  t.same(result.strategies[1]?.failure, { code: 'STICKINESS_MISSING', stickiness: 'userId' })
})

t.test('a strategy variant says where it came from', async (t) => {
  const result = explain(compiled, 'colours', { userId: 'x' })
  t.same(result.variant, {
    name: 'blue',
    enabled: true,
    payload: { type: 'string', value: 'b' },
    feature_enabled: true,
    featureEnabled: true,
  })
  t.match(result.variantSource, { code: 'STRATEGY_VARIANT', strategyIndex: 0, override: false })
  t.match(result.message, /Variant "blue" comes from strategy #0\./)
})

t.test('unmet dependencies name the parent and the cause', async (t) => {
  const child = explain(compiled, 'child', {})
  t.same(child.decision, {
    code: 'DEPENDENCY_UNMET',
    parent: 'off',
    expected: 'enabled',
    cause: 'PARENT_DISABLED',
  })
  t.equal(
    child.message,
    'Flag "child" is off: it needs parent "off" enabled, but it is off for this context.',
  )
  const variantChild = explain(compiled, 'child-of-variant', { userId: 'x' })
  t.same(variantChild.decision, {
    code: 'DEPENDENCY_UNMET',
    parent: 'colours',
    expected: 'enabled',
    expectedVariants: ['red'],
    cause: 'VARIANT_NOT_EXPECTED',
    parentVariant: 'blue',
  })
  t.match(
    variantChild.message,
    /needs parent "colours" enabled with variant "red", but its variant is "blue"/,
  )
})

t.test('a constraint that can never match says why', async (t) => {
  const result = explain(compiled, 'regex', { userId: 'aa' })
  t.match(result.strategies[0]?.failure, {
    code: 'CONSTRAINT_FAILED',
    operator: 'REGEX',
    invalid: /not a valid RE2 regular expression/,
  })
  t.match(result.message, /it can never match/)
})

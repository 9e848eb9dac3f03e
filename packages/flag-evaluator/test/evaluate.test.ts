import t from 'tap'
import type { ClientFeaturesState } from '../src/index.js'
import {
  compileFlags,
  evaluateAll,
  evaluateAllJson,
  evaluateAllJsonWithDigest,
  getVariant,
  isEnabled,
} from '../src/index.js'

const state: ClientFeaturesState = {
  version: 2,
  features: [
    {
      name: 'plain',
      enabled: true,
      impressionData: true,
      strategies: [{ name: 'default', parameters: {} }],
    },
    { name: 'off', enabled: false, strategies: [] },
    {
      name: 'pro-only',
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [
            { contextName: 'plan', operator: 'IN', values: ['pro'] },
            { contextName: 'version', operator: 'SEMVER_GTE', value: '2.0.0' },
            { contextName: 'remoteAddress', operator: 'IN_CIDR', values: ['10.0.0.0/8'] },
          ],
        },
      ],
    },
    {
      name: 'colours',
      enabled: true,
      strategies: [],
      variants: [
        { name: 'red', weight: 500, payload: { type: 'string', value: 'r' } },
        { name: 'blue', weight: 500, overrides: [{ contextName: 'userId', values: ['vip'] }] },
      ],
    },
    {
      name: 'child',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'colours', variants: ['blue'] }],
    },
  ],
}

t.test('evaluateAll: the flags that are on, in order, in the frontend API shape', async (t) => {
  const compiled = compileFlags(state)
  const context = {
    userId: 'vip',
    remoteAddress: '10.1.2.3',
    properties: { plan: 'pro', version: '2.1.0' },
  }
  const toggles = evaluateAll(compiled, context)
  t.same(toggles, [
    {
      name: 'plain',
      enabled: true,
      variant: { name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true },
      impressionData: true,
    },
    {
      name: 'pro-only',
      enabled: true,
      variant: { name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true },
      impressionData: false,
    },
    {
      name: 'colours',
      enabled: true,
      variant: { name: 'blue', enabled: true, feature_enabled: true, featureEnabled: true },
      impressionData: false,
    },
    {
      name: 'child',
      enabled: true,
      variant: { name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true },
      impressionData: false,
    },
  ])
  for (const toggle of toggles) {
    t.same(toggle.variant, getVariant(compiled, toggle.name, context), toggle.name)
  }
  t.equal(evaluateAllJson(compiled, context), JSON.stringify(toggles))
  t.equal(evaluateAllJson(compiled, context), JSON.stringify(toggles), 'from the kept JSON')
  t.ok(Object.isFrozen(toggles[0]), 'shared toggles are frozen')
  t.same(
    evaluateAll(compiled, { userId: 'vip', properties: { plan: 'free' } }).map((t) => t.name),
    ['plain', 'colours', 'child'],
  )
  t.same(evaluateAll(compileFlags({ features: [] })), [])
  t.equal(evaluateAllJson(compileFlags({ features: [] })), '[]')

  // The digest names the JSON: equal answers, equal digests; other answers, other digests.
  const first = evaluateAllJsonWithDigest(compiled, context)
  t.equal(first.json, JSON.stringify(toggles))
  t.match(first.digest, /^[0-9a-f]{16}$/)
  t.equal(evaluateAllJsonWithDigest(compiled, { ...context }).digest, first.digest)
  const recompiled = compileFlags(state)
  t.equal(evaluateAllJsonWithDigest(recompiled, context).digest, first.digest, 'across compiles')
  const vip = evaluateAllJsonWithDigest(compiled, { userId: 'vip', properties: { plan: 'free' } })
  t.not(vip.digest, first.digest)
  t.not(evaluateAllJsonWithDigest(compileFlags({ features: [] })).digest, first.digest)
})

t.test('getVariant hands out copies, not the shared answers', async (t) => {
  const compiled = compileFlags(state)
  const first = getVariant(compiled, 'colours', { userId: 'vip' })
  first.name = 'changed'
  t.equal(getVariant(compiled, 'colours', { userId: 'vip' }).name, 'blue')
  t.equal(evaluateAll(compiled, { userId: 'vip' })[1]?.variant.name, 'blue')
})

t.test('nothing read from one context leaks into the next evaluation', async (t) => {
  const compiled = compileFlags(state)
  const context = {
    remoteAddress: '10.1.2.3',
    properties: { plan: 'pro', version: '2.1.0' } as Record<string, string>,
  }
  t.equal(isEnabled(compiled, 'pro-only', context), true)
  context.properties.plan = 'free'
  t.equal(isEnabled(compiled, 'pro-only', context), false, 'the same object, changed')
  context.properties.plan = 'pro'
  context.properties.version = '1.9.9'
  t.equal(
    evaluateAll(compiled, context).some((toggle) => toggle.name === 'pro-only'),
    false,
  )
  context.properties.version = '2.0.0'
  context.remoteAddress = '192.168.0.1'
  t.equal(isEnabled(compiled, 'pro-only', context), false)
  context.remoteAddress = '10.9.9.9'
  t.equal(isEnabled(compiled, 'pro-only', context), true)
})

t.test('an evaluation started during another one gets its own scope', async (t) => {
  const inner: boolean[] = []
  const compiled = compileFlags(
    {
      features: [
        {
          name: 'random',
          enabled: true,
          strategies: [{ name: 'gradualRolloutRandom', parameters: { percentage: '100' } }],
        },
        {
          name: 'pro',
          enabled: true,
          strategies: [
            {
              name: 'default',
              constraints: [{ contextName: 'plan', operator: 'IN', values: ['pro'] }],
            },
          ],
        },
      ],
    },
    {
      random: () => {
        inner.push(isEnabled(compiled, 'pro', { properties: { plan: 'free' } }))
        return 0
      },
    },
  )
  t.equal(isEnabled(compiled, 'pro', { properties: { plan: 'pro' } }), true)
  t.same(
    evaluateAll(compiled, { properties: { plan: 'pro' } }).map((toggle) => toggle.name),
    ['random', 'pro'],
    'the outer evaluation still sees its own context',
  )
  t.same(inner, [false])
})

t.test('an error thrown while evaluating frees the scope', async (t) => {
  let fail = true
  const compiled = compileFlags(
    {
      features: [
        {
          name: 'random',
          enabled: true,
          strategies: [{ name: 'gradualRolloutRandom', parameters: { percentage: '50' } }],
        },
      ],
    },
    {
      random: () => {
        if (fail) throw new Error('no randomness')
        return 0
      },
    },
  )
  t.throws(() => isEnabled(compiled, 'random'), /no randomness/)
  fail = false
  t.equal(compiled.scope.busy, false)
  t.equal(isEnabled(compiled, 'random'), true)
})

import { RE2JS } from 're2js'
import t from 'tap'
import type { ClientFeaturesState } from '../src/index.js'
import { applyDelta, compileFlags, evaluate, getVariant, isEnabled } from '../src/index.js'

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

const state: ClientFeaturesState = deepFreeze({
  version: 3,
  segments: [
    { id: 1, constraints: [{ contextName: 'plan', operator: 'IN', values: ['pro', 'team'] }] },
  ],
  features: [
    {
      name: 'checkout',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', groupId: 'checkout' },
          constraints: [{ contextName: 'email', operator: 'REGEX', value: '@example\\.com$' }],
          segments: [1],
        },
      ],
      variants: [
        { name: 'a', weight: 500, payload: { type: 'string', value: 'A' } },
        { name: 'b', weight: 500, overrides: [{ contextName: 'userId', values: ['vip'] }] },
      ],
    },
  ],
})

t.test('a compiled state is reused: the regex is compiled once, not per evaluation', async (t) => {
  const original = RE2JS.compile
  let compilations = 0
  RE2JS.compile = ((...args: Parameters<typeof RE2JS.compile>) => {
    compilations++
    return original.apply(RE2JS, args)
  }) as typeof RE2JS.compile
  t.teardown(() => {
    RE2JS.compile = original
  })
  const compiled = compileFlags(state)
  t.equal(compilations, 1)
  let on = 0
  for (let i = 0; i < 500; i++) {
    const email = i % 2 ? `user${i}@example.com` : `user${i}@other.org`
    if (isEnabled(compiled, 'checkout', { userId: `u${i}`, properties: { email, plan: 'pro' } }))
      on++
  }
  t.equal(on, 250)
  t.equal(compilations, 1)
})

t.test(
  'compiling does not change the input, and one compiled state gives stable answers',
  async (t) => {
    const compiled = compileFlags(state)
    t.equal(compiled.version, 3)
    const context = { userId: 'u1', properties: { email: 'a@example.com', plan: 'team' } }
    const first = getVariant(compiled, 'checkout', context)
    t.same(getVariant(compiled, 'checkout', context), first)
    t.same(getVariant(compileFlags(state), 'checkout', context), first)
    t.same(evaluate(compiled, 'checkout', context), { enabled: true, variant: first })
    t.equal(
      getVariant(compiled, 'checkout', { ...context, userId: 'vip' }).name,
      'b',
      'override wins',
    )
    t.equal(
      isEnabled(compiled, 'checkout', {
        ...context,
        properties: { email: 'a@example.com', plan: 'free' },
      }),
      false,
    )
  },
)

t.test('a delta stream compiles to the same answers as the full state it describes', async (t) => {
  const delta = {
    events: [
      { type: 'hydration' as const, eventId: 1, features: [...state.features], segments: [] },
      { type: 'segment-updated' as const, eventId: 2, segment: state.segments![0]! },
      {
        type: 'feature-updated' as const,
        eventId: 3,
        feature: { name: 'gone', enabled: true, strategies: [] },
      },
      { type: 'feature-removed' as const, eventId: 4, featureName: 'gone', project: 'default' },
    ],
  }
  const fromDelta = compileFlags(delta)
  t.same([...fromDelta.flags.keys()], ['checkout'])
  const context = { userId: 'u9', properties: { email: 'z@example.com', plan: 'pro' } }
  t.same(
    getVariant(fromDelta, 'checkout', context),
    getVariant(compileFlags(state), 'checkout', context),
  )
  t.equal(isEnabled(fromDelta, 'gone'), false)

  const removed = applyDelta(state, {
    events: [{ type: 'segment-removed', eventId: 5, segmentId: 1 }],
  })
  t.same(removed.segments, [])
  t.equal(state.segments?.length, 1, 'the input state is untouched')
  t.equal(
    isEnabled(compileFlags(removed), 'checkout', context),
    false,
    'a missing segment fails the strategy',
  )
})

import t from 'tap'
import { InvalidInputError } from '../src/errors.js'
import {
  defaultRingPolicy,
  formatMinutes,
  mergeRingPolicy,
  type RingPolicy,
  type RingPolicyInput,
  resolveRingPolicy,
  storedRingPolicy,
} from '../src/ring-policy.js'

const defaults: RingPolicy = {
  preApproval: null,
  postApproval: null,
  bakeMinutes: 0,
  approvalTimeoutMinutes: null,
  maxParallel: 1,
  manualPromotion: false,
  autoRollback: true,
  health: {},
}

const approverGate = { role: 'approver', minApprovals: 2, ttlHours: 24 } as const
const sreGate = { role: 'sre', minApprovals: 1, ttlHours: 4 } as const

t.test('the documented defaults', async (t) => {
  t.strictSame(defaultRingPolicy, defaults)
  t.ok(Object.isFrozen(defaultRingPolicy))
})

t.test('resolveRingPolicy fills omitted fields with the defaults', async (t) => {
  const cases: { name: string; input: RingPolicyInput | undefined; expected: RingPolicy }[] = [
    { name: 'no policy at all', input: undefined, expected: defaults },
    { name: 'an empty policy', input: {}, expected: defaults },
    {
      name: 'a pre-approval gate only',
      input: { preApproval: approverGate },
      expected: { ...defaults, preApproval: approverGate },
    },
    {
      name: 'a post-approval gate only',
      input: { postApproval: sreGate },
      expected: { ...defaults, postApproval: sreGate },
    },
    {
      name: 'a bake time only',
      input: { bakeMinutes: 30 },
      expected: { ...defaults, bakeMinutes: 30 },
    },
    {
      name: 'an approval timeout only',
      input: { approvalTimeoutMinutes: 240 },
      expected: { ...defaults, approvalTimeoutMinutes: 240 },
    },
    {
      name: 'maxParallel only',
      input: { maxParallel: 4 },
      expected: { ...defaults, maxParallel: 4 },
    },
    {
      name: 'manual promotion only',
      input: { manualPromotion: true },
      expected: { ...defaults, manualPromotion: true },
    },
    {
      name: 'autoRollback turned off',
      input: { autoRollback: false },
      expected: { ...defaults, autoRollback: false },
    },
    {
      name: 'health thresholds only',
      input: { health: { maxErrorRate: 0.02, maxP99Ms: 800 } },
      expected: { ...defaults, health: { maxErrorRate: 0.02, maxP99Ms: 800 } },
    },
    {
      name: 'every field given',
      input: {
        preApproval: approverGate,
        postApproval: sreGate,
        bakeMinutes: 60,
        approvalTimeoutMinutes: 90,
        maxParallel: 3,
        manualPromotion: true,
        autoRollback: false,
        health: { maxP99Ms: 250 },
      },
      expected: {
        preApproval: approverGate,
        postApproval: sreGate,
        bakeMinutes: 60,
        approvalTimeoutMinutes: 90,
        maxParallel: 3,
        manualPromotion: true,
        autoRollback: false,
        health: { maxP99Ms: 250 },
      },
    },
    {
      name: 'the smallest accepted gate and parallelism',
      input: { preApproval: { role: 'admin', minApprovals: 1, ttlHours: 1 }, maxParallel: 1 },
      expected: { ...defaults, preApproval: { role: 'admin', minApprovals: 1, ttlHours: 1 } },
    },
  ]
  for (const { name, input, expected } of cases) {
    t.strictSame(resolveRingPolicy(input), expected, name)
  }
})

t.test('a resolved policy shares no health object with its input or the defaults', async (t) => {
  const input: RingPolicyInput = { health: { maxErrorRate: 0.1 } }
  const policy = resolveRingPolicy(input)
  policy.health.maxErrorRate = 0.5
  t.strictSame(input.health, { maxErrorRate: 0.1 })

  const fromDefaults = resolveRingPolicy(undefined)
  fromDefaults.health.maxP99Ms = 100
  t.strictSame(defaultRingPolicy.health, {})
  t.strictSame(resolveRingPolicy(undefined).health, {})
})

t.test('mergeRingPolicy applies a partial change to a stored policy', async (t) => {
  const stored: RingPolicy = {
    preApproval: approverGate,
    postApproval: null,
    bakeMinutes: 15,
    approvalTimeoutMinutes: 60,
    maxParallel: 2,
    manualPromotion: false,
    autoRollback: true,
    health: { maxErrorRate: 0.01, maxP99Ms: 500 },
  }
  const cases: { name: string; change: RingPolicyInput; expected: RingPolicy }[] = [
    { name: 'an empty change keeps everything', change: {}, expected: stored },
    {
      name: 'one scalar field changes, the rest is kept',
      change: { bakeMinutes: 45 },
      expected: { ...stored, bakeMinutes: 45 },
    },
    {
      name: 'a gate can be removed with null',
      change: { preApproval: null },
      expected: { ...stored, preApproval: null },
    },
    {
      name: 'the approval timeout can be removed with null',
      change: { approvalTimeoutMinutes: null },
      expected: { ...stored, approvalTimeoutMinutes: null },
    },
    {
      name: 'a gate can be added',
      change: { postApproval: sreGate },
      expected: { ...stored, postApproval: sreGate },
    },
    {
      name: 'health is replaced as a whole, not merged',
      change: { health: { maxP99Ms: 900 } },
      expected: { ...stored, health: { maxP99Ms: 900 } },
    },
    {
      name: 'an empty health removes every threshold',
      change: { health: {} },
      expected: { ...stored, health: {} },
    },
    {
      name: 'omitting health keeps the stored thresholds',
      change: { manualPromotion: true, autoRollback: false },
      expected: { ...stored, manualPromotion: true, autoRollback: false },
    },
  ]
  for (const { name, change, expected } of cases) {
    t.strictSame(mergeRingPolicy(stored, change), expected, name)
  }
  t.strictSame(
    stored.health,
    { maxErrorRate: 0.01, maxP99Ms: 500 },
    'the stored policy is untouched',
  )
})

t.test('policies that break a rule are refused with invalid-ring-policy', async (t) => {
  const cases: { name: string; input: RingPolicyInput; message: RegExp }[] = [
    {
      name: 'a pre-approval gate needing no approval',
      input: { preApproval: { role: 'approver', minApprovals: 0, ttlHours: 1 } },
      message: /policy\.preApproval\.minApprovals must be at least 1/,
    },
    {
      name: 'a post-approval gate with a negative count',
      input: { postApproval: { role: 'sre', minApprovals: -2, ttlHours: 1 } },
      message: /policy\.postApproval\.minApprovals must be at least 1/,
    },
    {
      name: 'an approval timeout of no time',
      input: { approvalTimeoutMinutes: 0 },
      message: /policy\.approvalTimeoutMinutes must be a whole number of minutes, at least 1/,
    },
    {
      name: 'a negative approval timeout',
      input: { approvalTimeoutMinutes: -30 },
      message: /policy\.approvalTimeoutMinutes must be a whole number of minutes, at least 1/,
    },
    {
      name: 'an approval timeout in part of a minute',
      input: { approvalTimeoutMinutes: 1.5 },
      message: /policy\.approvalTimeoutMinutes must be a whole number of minutes, at least 1/,
    },
    {
      name: 'no scale unit at a time',
      input: { maxParallel: 0 },
      message: /policy\.maxParallel must be at least 1/,
    },
    {
      name: 'a negative parallelism',
      input: { maxParallel: -1 },
      message: /policy\.maxParallel must be at least 1/,
    },
  ]
  for (const { name, input, message } of cases) {
    for (const [how, apply] of [
      ['resolve', () => resolveRingPolicy(input)],
      ['merge', () => mergeRingPolicy(resolveRingPolicy({}), input)],
    ] as const) {
      try {
        apply()
        t.fail(`${how}: ${name} was accepted`)
      } catch (error) {
        t.type(error, InvalidInputError, `${how}: ${name}`)
        t.equal((error as InvalidInputError).code, 'invalid-ring-policy', `${how}: ${name}`)
        t.match((error as InvalidInputError).message, message, `${how}: ${name}`)
      }
    }
  }
})

t.test('a field given as undefined keeps its default or current value', async (t) => {
  t.same(resolveRingPolicy({ maxParallel: undefined, bakeMinutes: 5 }), {
    ...defaultRingPolicy,
    bakeMinutes: 5,
  })
  const current = resolveRingPolicy({ maxParallel: 4 })
  t.equal(mergeRingPolicy(current, { maxParallel: undefined }).maxParallel, 4)
})

t.test('a policy stored before the approval timeout existed reads with none', async (t) => {
  const { approvalTimeoutMinutes: _none, ...older } = resolveRingPolicy({ bakeMinutes: 10 })
  t.strictSame(storedRingPolicy(older), { ...defaults, bakeMinutes: 10 })
  t.strictSame(
    storedRingPolicy({ ...older, approvalTimeoutMinutes: 30 }),
    { ...defaults, bakeMinutes: 10, approvalTimeoutMinutes: 30 },
    'a stored timeout is kept',
  )
})

t.test('formatMinutes writes a duration as people do', async (t) => {
  const cases: [number, string][] = [
    [1, '1min'],
    [45, '45min'],
    [60, '1h'],
    [90, '1h 30min'],
    [240, '4h'],
    [1501, '25h 1min'],
  ]
  for (const [minutes, expected] of cases) t.equal(formatMinutes(minutes), expected, `${minutes}`)
})

import t, { type Test } from 'tap'
import { InvalidInputError } from '../../src/errors.js'
import type { ReleaseKind } from '../../src/release/release.js'
import { planRelease, type RingRange, splitIntoWaves } from '../../src/release/release-plan.js'
import { defaultRingPolicy, type RingPolicy } from '../../src/ring-policy.js'
import type { Ring, ScaleUnit } from '../../src/topology.js'

const createdAt = '2025-01-01T00:00:00.000Z'

function ring(name: string, order: number, policy: Partial<RingPolicy> = {}): Ring {
  return {
    name,
    order,
    description: `${name} audience`,
    policy: { ...defaultRingPolicy, health: {}, ...policy },
    scaleUnits: [],
    createdAt,
    updatedAt: createdAt,
  }
}

function unit(name: string, ringName = 'ring-0', pairedWith: string | null = null): ScaleUnit {
  return {
    name,
    region: 'westeurope',
    ring: ringName,
    pairedWith,
    labels: {},
    trafficWeight: 1,
    createdAt,
    updatedAt: createdAt,
  }
}

/** Units paired both ways, as the topology service stores them. */
function units(names: readonly string[], pairs: readonly [string, string][] = []): ScaleUnit[] {
  const partner = new Map<string, string>()
  for (const [a, b] of pairs) {
    partner.set(a, b)
    partner.set(b, a)
  }
  return names.map((name) => unit(name, 'ring-0', partner.get(name) ?? null))
}

const ring0 = ring('ring-0', 0, { maxParallel: 1 })
const ring1 = ring('ring-1', 10, {
  preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 },
  maxParallel: 2,
  bakeMinutes: 30,
})
const ring2 = ring('ring-2', 20, {
  postApproval: { role: 'sre', minApprovals: 2, ttlHours: 4 },
  maxParallel: 3,
  manualPromotion: true,
})
const rings = [ring2, ring0, ring1]

function expectInvalid(
  t: Test,
  name: string,
  apply: () => unknown,
  code: string,
  message: string,
): void {
  try {
    apply()
    t.fail(`${name} was accepted`)
  } catch (error) {
    t.type(error, InvalidInputError, name)
    t.equal((error as InvalidInputError).code, code, name)
    t.equal((error as InvalidInputError).message, message, name)
  }
}

t.test('planRelease picks the rings in the range, in ring order', async (t) => {
  const cases: {
    name: string
    range: RingRange
    kind: ReleaseKind
    ringFrom: string
    ringTo: string
    stages: string[]
  }[] = [
    {
      name: 'the default range covers every ring',
      range: {},
      kind: 'standard',
      ringFrom: 'ring-0',
      ringTo: 'ring-2',
      stages: ['ring-0', 'ring-1', 'ring-2'],
    },
    {
      name: 'undefined ends mean the first and last ring',
      range: { from: undefined, to: undefined },
      kind: 'standard',
      ringFrom: 'ring-0',
      ringTo: 'ring-2',
      stages: ['ring-0', 'ring-1', 'ring-2'],
    },
    {
      name: 'a standard release may stop early',
      range: { to: 'ring-1' },
      kind: 'standard',
      ringFrom: 'ring-0',
      ringTo: 'ring-1',
      stages: ['ring-0', 'ring-1'],
    },
    {
      name: 'a standard release naming the first ring explicitly',
      range: { from: 'ring-0', to: 'ring-0' },
      kind: 'standard',
      ringFrom: 'ring-0',
      ringTo: 'ring-0',
      stages: ['ring-0'],
    },
    {
      name: 'a hotfix may start at a later ring',
      range: { from: 'ring-1' },
      kind: 'hotfix',
      ringFrom: 'ring-1',
      ringTo: 'ring-2',
      stages: ['ring-1', 'ring-2'],
    },
    {
      name: 'a hotfix to a single ring',
      range: { from: 'ring-2', to: 'ring-2' },
      kind: 'hotfix',
      ringFrom: 'ring-2',
      ringTo: 'ring-2',
      stages: ['ring-2'],
    },
    {
      name: 'a hotfix may also start at the first ring',
      range: { to: 'ring-1' },
      kind: 'hotfix',
      ringFrom: 'ring-0',
      ringTo: 'ring-1',
      stages: ['ring-0', 'ring-1'],
    },
  ]
  for (const { name, range, kind, ringFrom, ringTo, stages } of cases) {
    for (const input of [rings, [...rings].reverse(), [ring0, ring1, ring2]]) {
      const plan = planRelease(input, [], range, kind)
      t.equal(plan.ringFrom, ringFrom, `${name}: ringFrom`)
      t.equal(plan.ringTo, ringTo, `${name}: ringTo`)
      t.strictSame(
        plan.stages.map((stage) => stage.ring),
        stages,
        `${name}: stages`,
      )
      t.strictSame(
        plan.stages.map((stage) => stage.position),
        stages.map((_, index) => index),
        `${name}: positions count from 0`,
      )
    }
  }
  t.strictSame(
    rings.map((r) => r.name),
    ['ring-2', 'ring-0', 'ring-1'],
    'the input is not reordered',
  )
})

t.test('each stage copies its ring order and policy', async (t) => {
  const plan = planRelease(rings, [], {}, 'standard')
  t.strictSame(
    plan.stages.map((stage) => stage.ringOrder),
    [0, 10, 20],
  )
  t.strictSame(plan.stages[0]!.policy, ring0.policy)
  t.strictSame(plan.stages[1]!.policy, ring1.policy)
  t.strictSame(plan.stages[2]!.policy, ring2.policy)
})

t.test('scale units are planned into their own ring’s stage', async (t) => {
  const scaleUnits = [
    unit('r2-c', 'ring-2'),
    unit('r1-b', 'ring-1'),
    unit('r0-a', 'ring-0'),
    unit('r2-a', 'ring-2'),
    unit('r1-a', 'ring-1'),
    unit('r2-b', 'ring-2'),
    unit('r2-d', 'ring-2'),
    unit('r1-c', 'ring-1'),
    unit('elsewhere', 'ring-9'),
  ]
  const plan = planRelease(rings, scaleUnits, {}, 'standard')
  t.strictSame(
    plan.stages.map((stage) => stage.waves),
    [[['r0-a']], [['r1-a', 'r1-b'], ['r1-c']], [['r2-a', 'r2-b', 'r2-c'], ['r2-d']]],
    'waves follow each ring’s maxParallel; units of unknown rings are left out',
  )

  const hotfix = planRelease(rings, scaleUnits, { from: 'ring-1', to: 'ring-1' }, 'hotfix')
  t.strictSame(hotfix.stages, [
    {
      position: 0,
      ring: 'ring-1',
      ringOrder: 10,
      policy: ring1.policy,
      waves: [['r1-a', 'r1-b'], ['r1-c']],
    },
  ])

  const empty = planRelease([ring0], [unit('r1-a', 'ring-1')], {}, 'standard')
  t.strictSame(empty.stages[0]!.waves, [], 'a ring without scale units has no waves')
})

t.test('planRelease refuses ranges that break a rule', async (t) => {
  const cases: {
    name: string
    rings: Ring[]
    range: RingRange
    kind: ReleaseKind
    code: string
    message: string
  }[] = [
    {
      name: 'no rings at all',
      rings: [],
      range: {},
      kind: 'standard',
      code: 'no-rings',
      message: 'there are no rings yet; create at least one ring first',
    },
    {
      name: 'no rings, even for a hotfix with a range',
      rings: [],
      range: { from: 'ring-1' },
      kind: 'hotfix',
      code: 'no-rings',
      message: 'there are no rings yet; create at least one ring first',
    },
    {
      name: 'an unknown from ring',
      rings,
      range: { from: 'ring-9' },
      kind: 'hotfix',
      code: 'unknown-ring',
      message: "rings.from: ring 'ring-9' does not exist",
    },
    {
      name: 'an unknown to ring',
      rings,
      range: { to: 'Ring-1' },
      kind: 'standard',
      code: 'unknown-ring',
      message: "rings.to: ring 'Ring-1' does not exist",
    },
    {
      name: 'from after to, hotfix',
      rings,
      range: { from: 'ring-2', to: 'ring-1' },
      kind: 'hotfix',
      code: 'invalid-ring-range',
      message: "rings.from 'ring-2' comes after rings.to 'ring-1'",
    },
    {
      name: 'from after to, standard (the range is checked first)',
      rings,
      range: { from: 'ring-1', to: 'ring-0' },
      kind: 'standard',
      code: 'invalid-ring-range',
      message: "rings.from 'ring-1' comes after rings.to 'ring-0'",
    },
    {
      name: 'a standard release starting at a later ring',
      rings,
      range: { from: 'ring-1' },
      kind: 'standard',
      code: 'standard-release-must-start-at-first-ring',
      message:
        "a standard release starts at the first ring 'ring-0'; use kind hotfix with a reason to start at 'ring-1'",
    },
    {
      name: 'a standard release to a single later ring',
      rings,
      range: { from: 'ring-2', to: 'ring-2' },
      kind: 'standard',
      code: 'standard-release-must-start-at-first-ring',
      message:
        "a standard release starts at the first ring 'ring-0'; use kind hotfix with a reason to start at 'ring-2'",
    },
  ]
  for (const c of cases) {
    expectInvalid(t, c.name, () => planRelease(c.rings, [], c.range, c.kind), c.code, c.message)
  }
})

t.test('splitIntoWaves: waves of at most maxParallel, in name order, pairs apart', async (t) => {
  const cases: {
    name: string
    names: string[]
    pairs?: [string, string][]
    maxParallel: number
    waves: string[][]
  }[] = [
    { name: 'no scale units', names: [], maxParallel: 3, waves: [] },
    { name: 'one scale unit', names: ['a'], maxParallel: 1, waves: [['a']] },
    {
      name: 'one at a time, sorted by name',
      names: ['c', 'a', 'b'],
      maxParallel: 1,
      waves: [['a'], ['b'], ['c']],
    },
    {
      name: 'two at a time with a remainder',
      names: ['e', 'd', 'c', 'b', 'a'],
      maxParallel: 2,
      waves: [['a', 'b'], ['c', 'd'], ['e']],
    },
    {
      name: 'maxParallel equal to the count',
      names: ['b', 'a', 'c'],
      maxParallel: 3,
      waves: [['a', 'b', 'c']],
    },
    {
      name: 'maxParallel above the count',
      names: ['b', 'a', 'c'],
      maxParallel: 10,
      waves: [['a', 'b', 'c']],
    },
    {
      name: 'names sort by code unit, not numerically',
      names: ['eu-2', 'eu-10', 'eu-1'],
      maxParallel: 2,
      waves: [['eu-1', 'eu-10'], ['eu-2']],
    },
    {
      name: 'a pair that would share the first wave',
      names: ['a', 'b', 'c', 'd'],
      pairs: [['a', 'b']],
      maxParallel: 2,
      waves: [
        ['a', 'c'],
        ['b', 'd'],
      ],
    },
    {
      name: 'a pair that falls in different waves anyway',
      names: ['a', 'b', 'c', 'd'],
      pairs: [['a', 'c']],
      maxParallel: 2,
      waves: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    },
    {
      name: 'a pair that is not adjacent by name',
      names: ['a', 'b', 'c', 'd'],
      pairs: [['a', 'c']],
      maxParallel: 3,
      waves: [['a', 'b', 'd'], ['c']],
    },
    {
      name: 'a deferred unit leads the next wave',
      names: ['a', 'b', 'c', 'd', 'e'],
      pairs: [['a', 'b']],
      maxParallel: 2,
      waves: [['a', 'c'], ['b', 'd'], ['e']],
    },
    {
      name: 'a pair one at a time needs nothing special',
      names: ['a', 'b', 'c'],
      pairs: [['a', 'b']],
      maxParallel: 1,
      waves: [['a'], ['b'], ['c']],
    },
    {
      name: 'only a pair, everything at once',
      names: ['b', 'a'],
      pairs: [['a', 'b']],
      maxParallel: 5,
      waves: [['a'], ['b']],
    },
    {
      name: 'a pair and a loner, everything at once',
      names: ['a', 'b', 'c'],
      pairs: [['a', 'b']],
      maxParallel: 3,
      waves: [['a', 'c'], ['b']],
    },
    {
      name: 'several pairs, two at a time',
      names: ['a', 'b', 'c', 'd'],
      pairs: [
        ['a', 'b'],
        ['c', 'd'],
      ],
      maxParallel: 2,
      waves: [
        ['a', 'c'],
        ['b', 'd'],
      ],
    },
    {
      name: 'several pairs, everything at once',
      names: ['f', 'e', 'd', 'c', 'b', 'a'],
      pairs: [
        ['a', 'b'],
        ['c', 'd'],
        ['e', 'f'],
      ],
      maxParallel: 10,
      waves: [
        ['a', 'c', 'e'],
        ['b', 'd', 'f'],
      ],
    },
    {
      name: 'several pairs, three at a time',
      names: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      pairs: [
        ['a', 'b'],
        ['c', 'd'],
        ['e', 'g'],
      ],
      maxParallel: 3,
      waves: [['a', 'c', 'e'], ['b', 'd', 'f'], ['g']],
    },
    {
      name: 'a partner in another ring does not hold a unit back',
      names: ['a', 'b'],
      pairs: [['a', 'zz-other-ring']],
      maxParallel: 2,
      waves: [['a', 'b']],
    },
  ]
  for (const { name, names, pairs, maxParallel, waves } of cases) {
    const input = units(names, pairs).filter((u) => names.includes(u.name))
    t.strictSame(splitIntoWaves(input, maxParallel), waves, name)
    t.strictSame(
      input.map((u) => u.name),
      names,
      `${name}: the input is not reordered`,
    )
  }
})

t.test('splitIntoWaves refuses a parallelism below one', async (t) => {
  for (const maxParallel of [0, -1]) {
    t.throws(
      () => splitIntoWaves(units(['a']), maxParallel),
      RangeError,
      `maxParallel ${maxParallel}`,
    )
  }
})

/** mulberry32: a tiny seeded PRNG so every run checks the same topologies. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function randomTopology(random: () => number, maxCount: number): ScaleUnit[] {
  const count = Math.floor(random() * (maxCount + 1))
  const names = Array.from({ length: count }, (_, i) => `su-${Math.floor(random() * 1000)}-${i}`)
  // Shuffle so the input order is unrelated to name order.
  for (let i = names.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1))
    ;[names[i], names[j]] = [names[j]!, names[i]!]
  }
  const unpaired = [...names]
  const pairs: [string, string][] = []
  while (unpaired.length >= 2 && random() < 0.6) {
    const a = unpaired.splice(Math.floor(random() * unpaired.length), 1)[0]!
    const b = unpaired.splice(Math.floor(random() * unpaired.length), 1)[0]!
    pairs.push([a, b])
  }
  return units(names, pairs)
}

function checkWaves(t: Test, label: string, input: readonly ScaleUnit[], maxParallel: number) {
  const waves = splitIntoWaves(input, maxParallel)
  const problems: string[] = []
  const partner = new Map(input.map((u) => [u.name, u.pairedWith]))
  for (const [index, wave] of waves.entries()) {
    if (wave.length < 1 || wave.length > maxParallel) {
      problems.push(`wave ${index} has ${wave.length} units`)
    }
    for (const name of wave) {
      const other = partner.get(name)
      if (other != null && wave.includes(other)) {
        problems.push(`wave ${index} holds the pair ${name}/${other}`)
      }
    }
  }
  const placed = waves.flat()
  if (new Set(placed).size !== placed.length) problems.push('a unit appears twice')
  const expected = input.map((u) => u.name).sort()
  if (placed.length !== expected.length || [...placed].sort().join() !== expected.join()) {
    problems.push('the waves do not hold exactly the input units')
  }
  t.strictSame(problems, [], label)
  return waves
}

t.test('splitIntoWaves on generated topologies', async (t) => {
  const random = prng(20250101)
  let checked = 0
  for (let run = 0; run < 400; run += 1) {
    const input = randomTopology(random, 40)
    const maxParallel = 1 + Math.floor(random() * 6)
    checkWaves(
      t,
      `run ${run}: ${input.length} units, maxParallel ${maxParallel}`,
      input,
      maxParallel,
    )
    checked += 1
  }
  t.equal(checked, 400)
})

t.test('splitIntoWaves handles 10,000 scale units', async (t) => {
  const random = prng(7)
  const names = Array.from({ length: 10_000 }, (_, i) => `su-${String(i).padStart(5, '0')}`)
  const pairs: [string, string][] = []
  for (let i = 0; i + 1 < names.length; i += 2) {
    if (random() < 0.5) pairs.push([names[i]!, names[i + 1]!])
  }
  const input = units(names, pairs)
  for (const maxParallel of [1, 7, 10_000]) {
    const waves = checkWaves(t, `maxParallel ${maxParallel}`, input, maxParallel)
    if (maxParallel === 1) t.equal(waves.length, 10_000, 'one wave per unit')
    if (maxParallel === 10_000) t.equal(waves.length, 2, 'pairs split into exactly two waves')
  }
})

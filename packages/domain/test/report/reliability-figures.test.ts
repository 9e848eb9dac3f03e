import type { Test } from 'tap'
import t from 'tap'
import {
  type ReliabilityFiguresInput,
  reliabilityFigures,
} from '../../src/report/reliability-figures.js'
import type { ReliabilityIncident, RingArrival } from '../../src/report/reliability-records.js'
import type { ReliabilityReport } from '../../src/report/reliability-report.js'

// Every figure below is worked out by hand from the fixture above it; the definitions are in
// docs/reliability-metrics.md. Windows are ten days unless a case says otherwise.

const from = '2026-01-01T00:00:00.000Z'
const to = '2026-01-11T00:00:00.000Z'
const hour = 3600
/** The instant `hours` after `from` (negative: before it). */
const h = (hours: number) => new Date(Date.parse(from) + hours * 3_600_000).toISOString()

let nextId = 0
function incident(
  startedAt: number,
  detectedAt: number,
  resolvedAt: number | null,
  overrides: Partial<ReliabilityIncident> = {},
): ReliabilityIncident {
  nextId += 1
  return {
    id: nextId,
    service: 'checkout',
    ring: null,
    trafficShare: 1,
    startedAt: h(startedAt),
    detectedAt: h(detectedAt),
    resolvedAt: resolvedAt === null ? null : h(resolvedAt),
    ...overrides,
  }
}

function arrival(reachedAt: number, overrides: Partial<RingArrival> = {}): RingArrival {
  nextId += 1
  return {
    releaseId: nextId,
    service: 'checkout',
    ring: 'world',
    kind: 'standard',
    fixesIncidentId: null,
    commitTime: null,
    reachedAt: h(reachedAt),
    rolledBackAt: null,
    openRollbackDeployments: 0,
    lastRollbackFinishedAt: null,
    blamingIncidents: 0,
    openBlamingIncidents: 0,
    firstBlameDetectedAt: null,
    lastBlameResolvedAt: null,
    ...overrides,
  }
}

function input(overrides: Partial<ReliabilityFiguresInput>): ReliabilityFiguresInput {
  return {
    service: 'checkout',
    ring: null,
    doraRing: 'world',
    from,
    to,
    incidents: [],
    arrivals: [],
    ...overrides,
  }
}

const none = { count: 0, meanSeconds: null, medianSeconds: null }
const stats = (count: number, meanSeconds: number, medianSeconds: number) => ({
  count,
  meanSeconds,
  medianSeconds,
})

interface Case {
  name: string
  input: ReliabilityFiguresInput
  /** The figures the case is about; every other figure is checked by another case. */
  expected: DeepPartial<ReliabilityReport>
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? DeepPartial<T[K]> : T[K] }

const cases: Case[] = [
  {
    name: 'no incidents and no deployments',
    input: input({}),
    expected: {
      service: 'checkout',
      ring: null,
      from,
      to,
      incidents: { total: 0, open: 0, resolved: 0 },
      mttr: none,
      mtbf: none,
      availability: 1,
      trafficWeightedMttr: none,
      trafficWeightedAvailability: 1,
      dora: {
        ring: 'world',
        deployments: 0,
        deploymentFrequencyPerDay: 0,
        leadTimeForChanges: none,
        failedDeployments: 0,
        changeFailureRate: null,
        failedDeploymentRecoveryTime: none,
        reworkDeployments: 0,
        deploymentReworkRate: null,
      },
    },
  },
  {
    // A (share 0.5) is still open: a failure from h9 to the end of the window. B (share 0.25)
    // lies inside it. Downtime 231 h of 240; weighted 231 × 0.5 + 3 × 0.25 = 116.25 h.
    name: 'an open incident is a failure until the end of the window and has no time to restore',
    input: input({
      incidents: [
        incident(9, 10, null, { trafficShare: 0.5 }),
        incident(20, 21, 23, { trafficShare: 0.25 }),
      ],
    }),
    expected: {
      incidents: { total: 2, open: 1, resolved: 1 },
      mttr: stats(1, 2 * hour, 2 * hour),
      mtbf: none,
      availability: 1 - 231 / 240,
      trafficWeightedMttr: stats(1, 0.5 * hour, 0.5 * hour),
      trafficWeightedAvailability: 1 - 116.25 / 240,
    },
  },
  {
    // Failure periods: A ∪ B = [h0, h5], C = [h10, h12], D = [h20, h26]; 13 h down, gaps 5 h
    // and 8 h. Times to restore 2, 3, 1 and 6 h: mean 3 h, median (2 + 3) / 2 = 2.5 h. Weighted
    // 2, 1.5, 0.25 and 6 h: mean 2.4375 h, median (1.5 + 2) / 2 = 1.75 h. Weighted downtime
    // 3 × 1 + 3 × 0.5 + 2 × 0.25 + 6 × 1 = 11 h (overlaps count once per incident).
    name: 'overlapping incidents merge into one failure; medians of even counts average',
    input: input({
      incidents: [
        incident(0, 1, 3),
        incident(2, 2, 5, { trafficShare: 0.5 }),
        incident(10, 11, 12, { trafficShare: 0.25 }),
        incident(20, 20, 26),
      ],
    }),
    expected: {
      incidents: { total: 4, open: 0, resolved: 4 },
      mttr: stats(4, 3 * hour, 2.5 * hour),
      mtbf: stats(2, 6.5 * hour, 6.5 * hour),
      availability: 1 - 13 / 240,
      trafficWeightedMttr: stats(4, 2.4375 * hour, 1.75 * hour),
      trafficWeightedAvailability: 1 - 11 / 240,
    },
  },
  {
    // Counted: only the one detected exactly at `from`. Failures in the window: [h0, h2] (it and
    // the one detected before `from`, resolved at h2) and [h238, h240] (detected exactly at `to`,
    // so not counted, but already going on). Resolved exactly at `from` or started exactly at
    // `to`: nothing inside the window. Deployments: exactly at `from` counts, at `to` does not.
    name: 'window edges: [from, to) for detection and arrival, failures clipped to the window',
    input: input({
      incidents: [
        incident(-2, 0, 1),
        incident(238, 240, null),
        incident(-3, -2, 0),
        incident(240, 240, null),
        incident(-1, -1, 2),
      ],
      arrivals: [arrival(0), arrival(240), arrival(-1 / 3_600_000)],
    }),
    expected: {
      incidents: { total: 1, open: 0, resolved: 1 },
      mttr: stats(1, hour, hour),
      mtbf: stats(1, 236 * hour, 236 * hour),
      availability: 1 - 4 / 240,
      dora: { deployments: 1, deploymentFrequencyPerDay: 0.1 },
    },
  },
  {
    name: 'a ring takes its own incidents and fleet-wide ones; a service only its own',
    input: input({
      ring: 'ring-1',
      incidents: [
        incident(1, 1, 2, { ring: 'ring-1' }),
        incident(3, 3, 5, { ring: null }),
        incident(6, 6, 10, { ring: 'ring-0' }),
        incident(12, 12, 20, { service: 'search' }),
      ],
    }),
    expected: {
      ring: 'ring-1',
      incidents: { total: 2, open: 0, resolved: 2 },
      mttr: stats(2, 1.5 * hour, 1.5 * hour),
      mtbf: stats(1, hour, hour),
      availability: 1 - 3 / 240,
    },
  },
  {
    // Two fleet-wide incidents over the whole window: the weighted sum is twice the window.
    name: 'traffic-weighted availability stays between 0 and 1',
    input: input({ incidents: [incident(-5, -5, null), incident(-4, -4, null)] }),
    expected: {
      incidents: { total: 0, open: 0, resolved: 0 },
      availability: 0,
      trafficWeightedAvailability: 0,
    },
  },
  {
    // Six deployments at `world` (two others are not: another ring, another service). Lead
    // times 24, 4, 1 and 10 h (one has no commit time, one a commit after it arrived): mean
    // 9.75 h, median (4 + 10) / 2 = 7 h. Failed: rolled back (recovered after 1 h), rolled back
    // and blamed (failure at the first detection h31, recovery at the later of h33 and h35:
    // 4 h), blamed by an open incident and rolled back with a rollback still running (both not
    // recovered). Rework: the hotfix for incident 7; the hotfix without an incident is not.
    name: 'DORA: frequency, lead time, change failure, recovery and rework',
    input: input({
      arrivals: [
        arrival(24, { commitTime: h(0) }),
        arrival(14, {
          commitTime: h(10),
          rolledBackAt: h(15),
          lastRollbackFinishedAt: h(16),
        }),
        arrival(30, {
          rolledBackAt: h(32),
          lastRollbackFinishedAt: h(33),
          blamingIncidents: 2,
          firstBlameDetectedAt: h(31),
          lastBlameResolvedAt: h(35),
        }),
        arrival(41, {
          kind: 'hotfix',
          fixesIncidentId: 7,
          commitTime: h(40),
          blamingIncidents: 1,
          openBlamingIncidents: 1,
          firstBlameDetectedAt: h(42),
        }),
        arrival(60, {
          kind: 'hotfix',
          commitTime: h(50),
          rolledBackAt: h(61),
          openRollbackDeployments: 1,
        }),
        arrival(69, { commitTime: h(70) }),
        arrival(20, { ring: 'ring-1', rolledBackAt: h(21) }),
        arrival(20, { service: 'search', rolledBackAt: h(21) }),
      ],
    }),
    expected: {
      dora: {
        ring: 'world',
        deployments: 6,
        deploymentFrequencyPerDay: 0.6,
        leadTimeForChanges: stats(4, 9.75 * hour, 7 * hour),
        failedDeployments: 4,
        changeFailureRate: 4 / 6,
        failedDeploymentRecoveryTime: stats(2, 2.5 * hour, 2.5 * hour),
        reworkDeployments: 1,
        deploymentReworkRate: 1 / 6,
      },
    },
  },
  {
    name: 'a rollback with nothing to undo recovers when it is made',
    input: input({
      arrivals: [arrival(5, { rolledBackAt: h(6) })],
    }),
    expected: {
      dora: {
        failedDeployments: 1,
        changeFailureRate: 1,
        failedDeploymentRecoveryTime: stats(1, 0, 0),
      },
    },
  },
  {
    name: 'without rings there is nothing to deploy to',
    input: input({ doraRing: null, arrivals: [arrival(5)] }),
    expected: { dora: { ring: null, deployments: 0, changeFailureRate: null } },
  },
  {
    name: 'every service at once',
    input: input({
      service: null,
      incidents: [incident(1, 1, 2), incident(3, 3, 4, { service: 'search' })],
      arrivals: [arrival(1), arrival(2, { service: 'search' })],
    }),
    expected: {
      service: null,
      incidents: { total: 2, open: 0, resolved: 2 },
      dora: { deployments: 2 },
    },
  },
]

for (const { name, input, expected } of cases) {
  t.test(name, async (t) => {
    assertClose(t, reliabilityFigures(input), expected, 'report')
  })
}

/** The figures the documentation states for its worked example (minutes as the doc has them). */
const workedExample = {
  incidents: { total: 4, open: 1, resolved: 3 },
  mttr: stats(3, 70 * 60, 60 * 60),
  mtbf: stats(2, 3837.5 * 60, 3837.5 * 60),
  availability: 1 - 365 / 10080,
  trafficWeightedMttr: stats(3, 30 * 60, 30 * 60),
  trafficWeightedAvailability: 1 - 218.5 / 10080,
  dora: {
    ring: 'world',
    deployments: 4,
    deploymentFrequencyPerDay: 4 / 7,
    leadTimeForChanges: stats(4, 18.875 * hour, 19.25 * hour),
    failedDeployments: 2,
    changeFailureRate: 0.5,
    failedDeploymentRecoveryTime: stats(1, 30 * 60, 30 * 60),
    reworkDeployments: 1,
    deploymentReworkRate: 0.25,
  },
}

t.test('the worked example in docs/reliability-metrics.md', async (t) => {
  const march = (day: number, time: string) =>
    `2026-03-${String(day).padStart(2, '0')}T${time}:00.000Z`
  const example: ReliabilityIncident[] = [
    {
      id: 1,
      service: 'checkout',
      ring: 'canary',
      trafficShare: 0.1,
      startedAt: march(2, '10:00'),
      detectedAt: march(2, '10:15'),
      resolvedAt: march(2, '11:15'),
    },
    {
      id: 2,
      service: 'checkout',
      ring: null,
      trafficShare: 1,
      startedAt: march(4, '09:00'),
      detectedAt: march(4, '09:10'),
      resolvedAt: march(4, '09:40'),
    },
    {
      id: 3,
      service: 'checkout',
      ring: 'world',
      trafficShare: 0.45,
      startedAt: march(4, '09:30'),
      detectedAt: march(4, '09:50'),
      resolvedAt: march(4, '11:50'),
    },
    {
      id: 4,
      service: 'checkout',
      ring: 'world',
      trafficShare: 0.9,
      startedAt: march(7, '22:00'),
      detectedAt: march(7, '22:30'),
      resolvedAt: null,
    },
  ]
  const release = (overrides: Partial<RingArrival>): RingArrival => ({
    ...arrival(0),
    ...overrides,
  })
  const arrivals = [
    release({ commitTime: march(1, '12:00'), reachedAt: march(2, '09:00') }),
    release({
      commitTime: march(3, '15:00'),
      reachedAt: march(4, '08:30'),
      rolledBackAt: march(4, '09:20'),
      lastRollbackFinishedAt: march(4, '09:35'),
      blamingIncidents: 1,
      firstBlameDetectedAt: march(4, '09:10'),
      lastBlameResolvedAt: march(4, '09:40'),
    }),
    release({
      kind: 'hotfix',
      fixesIncidentId: 2,
      commitTime: march(4, '10:00'),
      reachedAt: march(4, '12:00'),
    }),
    release({
      commitTime: march(6, '09:00'),
      reachedAt: march(7, '20:00'),
      blamingIncidents: 1,
      openBlamingIncidents: 1,
      firstBlameDetectedAt: march(7, '22:30'),
    }),
  ]
  const report = reliabilityFigures({
    service: 'checkout',
    ring: null,
    doraRing: 'world',
    from: march(1, '00:00'),
    to: march(8, '00:00'),
    incidents: example,
    arrivals,
  })
  assertClose(t, report, workedExample, 'report')
})

/** Like t.match, with numbers compared to 9 significant digits (the fixtures are fractions). */
function assertClose(t: Test, actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    t.ok(
      Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `${path}: ${actual} ≈ ${expected}`,
    )
    return
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') {
      t.fail(`${path}: expected an object, got ${JSON.stringify(actual)}`)
      return
    }
    for (const [key, value] of Object.entries(expected)) {
      assertClose(t, (actual as Record<string, unknown>)[key], value, `${path}.${key}`)
    }
    return
  }
  t.equal(actual, expected, path)
}

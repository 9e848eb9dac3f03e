import t from 'tap'
import { InvalidInputError, NotFoundError } from '../../src/errors.js'
import type { FlagMetricsBucket, SdkRegistration } from '../../src/flag/flag.js'
import { FlagMetricsService } from '../../src/flag/flag-metrics-service.js'
import type { Store } from '../../src/store.js'

/** A store with only what the metrics service touches; `failing` makes writes throw. */
function fakeStore() {
  const written: FlagMetricsBucket[] = []
  const registrations: SdkRegistration[] = []
  const state = { failing: false, refusesAppName: undefined as string | undefined }
  const tx = {
    flagMetrics: {
      add: async (buckets: FlagMetricsBucket[]) => {
        if (state.failing) throw new Error('database unreachable')
        const unstorable = (bucket: FlagMetricsBucket) =>
          bucket.flag === 'unstorable' ||
          Object.keys(bucket.variants).some((name) => name.includes('\u0000'))
        if (buckets.some(unstorable)) {
          throw new InvalidInputError('unstorable-value', 'a value cannot be stored')
        }
        written.push(...buckets.map((bucket) => structuredClone(bucket)))
      },
      list: async (flag: string, filter: { ring?: string; from: string; to: string }) =>
        written.filter(
          (bucket) =>
            bucket.flag === flag &&
            (filter.ring === undefined || bucket.ring === filter.ring) &&
            bucket.hour >= filter.from &&
            bucket.hour < filter.to,
        ),
    },
    sdkRegistrations: {
      upsert: async (registration: SdkRegistration) => {
        if (state.failing) throw new Error('database unreachable')
        if (registration.appName === state.refusesAppName) {
          throw new InvalidInputError('unstorable-value', 'a value cannot be stored')
        }
        registrations.push(registration)
      },
    },
    flags: { findByKey: async (key: string) => (key === 'known' ? { key } : null) },
  }
  const store = {
    read: tx,
    transaction: async (work: (tx: unknown) => Promise<unknown>) => work(tx),
  } as unknown as Store
  return { store, written, registrations, state }
}

const clock = { now: () => new Date('2030-01-01T10:30:00.000Z') }

t.test('reports fold into hourly buckets per flag and ring', async (t) => {
  const { store, written } = fakeStore()
  const metrics = new FlagMetricsService(store, clock)
  const report = (start: string, yes: number, variants = {}) => ({
    appName: 'checkout',
    bucket: { start, toggles: { known: { yes, no: 1, variants } } },
  })
  t.same(metrics.record('ring-0', report('2030-01-01T10:05:00Z', 2, { red: 2 })), {
    counted: 1,
    ignored: [],
    overflow: false,
  })
  metrics.record('ring-0', report('2030-01-01T10:55:00Z', 3, { red: 1, blue: 2 }))
  metrics.record('ring-0', report('2030-01-01T09:59:59Z', 1))
  metrics.record('ring-1', report('2030-01-01T10:00:00Z', 5))
  metrics.record('ring-0', report('2031-01-01T00:00:00Z', 1), () => true)
  t.equal(metrics.pendingBuckets, 3, 'a bucket from the future is counted in the current hour')
  await metrics.flush()
  t.equal(metrics.pendingBuckets, 0)
  t.same(
    written
      .map(({ ring, hour, yes, no, variants }) => ({ ring, hour, yes, no, variants }))
      .sort((a, b) => (a.ring + a.hour).localeCompare(b.ring + b.hour)),
    [
      { ring: 'ring-0', hour: '2030-01-01T09:00:00.000Z', yes: 1, no: 1, variants: {} },
      {
        ring: 'ring-0',
        hour: '2030-01-01T10:00:00.000Z',
        yes: 6,
        no: 3,
        variants: { red: 3, blue: 2 },
      },
      { ring: 'ring-1', hour: '2030-01-01T10:00:00.000Z', yes: 5, no: 1, variants: {} },
    ],
  )
})

t.test('unknown flags, junk counts and the memory bound', async (t) => {
  const { store } = fakeStore()
  const metrics = new FlagMetricsService(store, clock, 2)
  const recorded = metrics.record(
    'ring-0',
    {
      appName: 'web',
      bucket: {
        start: 'not a date',
        toggles: {
          a: { yes: -4, no: Number.NaN, variants: { x: 0 } },
          b: { yes: 1.7 },
          c: { no: 2 },
          d: { yes: 1 },
          unknown: { yes: 1 },
        },
      },
    },
    (flag) => flag !== 'unknown',
  )
  t.same(recorded, { counted: 2, ignored: ['unknown'], overflow: true })
  t.equal(metrics.pendingBuckets, 2)
})

t.test('a failed write keeps the counts for the next flush', async (t) => {
  const { store, written, registrations, state } = fakeStore()
  const metrics = new FlagMetricsService(store, clock)
  metrics.record('ring-0', {
    appName: 'web',
    bucket: { start: '2030-01-01T10:00:00Z', toggles: { known: { yes: 1 } } },
  })
  metrics.register({
    ring: 'ring-0',
    kind: 'client',
    appName: 'web',
    instanceId: 'i-1',
    sdkVersion: 'unleash-node-sdk:6.12.1',
    strategies: ['default'],
    startedAt: '2030-01-01T09:00:00Z',
    intervalMs: 15000,
  })
  state.failing = true
  await t.rejects(metrics.flush(), /unreachable/)
  metrics.record('ring-0', {
    appName: 'web',
    bucket: { start: '2030-01-01T10:10:00Z', toggles: { known: { yes: 2 } } },
  })
  state.failing = false
  await metrics.flush()
  t.match(written, [{ flag: 'known', yes: 3 }])
  t.match(registrations, [
    {
      ring: 'ring-0',
      kind: 'client',
      appName: 'web',
      instanceId: 'i-1',
      startedAt: '2030-01-01T09:00:00.000Z',
      intervalMs: 15000,
      seenAt: '2030-01-01T10:30:00.000Z',
    },
  ])
})

t.test('a record the database refuses is dropped alone; the others are written', async (t) => {
  const { store, written, registrations, state } = fakeStore()
  state.refusesAppName = 'bad-app'
  const metrics = new FlagMetricsService(store, clock)
  metrics.record('ring-0', {
    appName: 'web',
    bucket: {
      start: '2030-01-01T10:00:00Z',
      toggles: {
        known: { yes: 2 },
        unstorable: { yes: 1 },
        other: { no: 4, variants: { 'bad\u0000': 1, blue: 3 } },
      },
    },
  })
  for (const appName of ['web', 'bad-app', 'mobile']) {
    metrics.register({ ring: 'ring-0', kind: 'frontend', appName, instanceId: 'i-1' })
  }
  const flushed = await metrics.flush()
  t.same(
    written.map((bucket) => [bucket.flag, bucket.yes, bucket.no, bucket.variants]),
    [
      ['known', 2, 0, {}],
      ['other', 0, 4, {}],
      ['other', 0, 0, { blue: 3 }],
    ],
    'a bad variant name costs only its own count',
  )
  t.same(
    registrations.map((registration) => registration.appName),
    ['web', 'mobile'],
  )
  t.match(flushed.refused, [
    { kind: 'counts', ring: 'ring-0', name: 'unstorable' },
    { kind: 'counts', ring: 'ring-0', name: 'other' },
    { kind: 'registration', ring: 'ring-0', name: 'bad-app' },
  ])
  t.equal(flushed.refused.length, 3)
  t.equal(metrics.pendingBuckets, 0, 'the refused counts are not retried forever')
  t.same((await metrics.flush()).refused, [], 'nothing is left to write')

  // An outage is not a refusal: everything is kept for the next flush.
  metrics.record('ring-0', {
    appName: 'web',
    bucket: {
      start: '2030-01-01T10:00:00Z',
      toggles: { known: { yes: 1 }, unstorable: { yes: 1 } },
    },
  })
  state.failing = true
  await t.rejects(metrics.flush(), /unreachable/)
  t.equal(metrics.pendingBuckets, 2)
})

t.test('an interval no column holds is stored as unknown', async (t) => {
  const { store, registrations } = fakeStore()
  const metrics = new FlagMetricsService(store, clock)
  metrics.register({
    ring: 'ring-0',
    kind: 'client',
    appName: 'web',
    instanceId: 'i-1',
    intervalMs: 1e12,
  })
  metrics.register({
    ring: 'ring-0',
    kind: 'client',
    appName: 'web',
    instanceId: 'i-2',
    intervalMs: 15_000,
  })
  await metrics.flush()
  t.same(
    registrations.map((registration) => registration.intervalMs),
    [null, 15_000],
  )
})

t.test('listing flushes first, totals the buckets and checks the range', async (t) => {
  const { store } = fakeStore()
  const metrics = new FlagMetricsService(store, clock)
  metrics.record('ring-0', {
    appName: 'web',
    bucket: { start: '2030-01-01T10:00:00Z', toggles: { known: { yes: 1, variants: { a: 1 } } } },
  })
  metrics.record('ring-1', {
    appName: 'web',
    bucket: { start: '2030-01-01T08:00:00Z', toggles: { known: { no: 2, variants: { a: 2 } } } },
  })
  const all = await metrics.list('known')
  t.equal(all.from, '2029-12-31T11:00:00.000Z', 'the last 24 hours by default')
  t.equal(all.to, '2030-01-01T10:30:00.000Z')
  t.same(all.totals, { yes: 1, no: 2, variants: { a: 3 } })
  const ring1 = await metrics.list('known', { ring: 'ring-1' })
  t.same(ring1.totals, { yes: 0, no: 2, variants: { a: 2 } })
  t.equal(ring1.ring, 'ring-1')
  await t.rejects(metrics.list('nope'), NotFoundError)
  await t.rejects(
    metrics.list('known', { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }),
    InvalidInputError,
  )
  await t.rejects(metrics.list('known', { from: 'yesterday' }), /ISO 8601/)
  await t.rejects(
    metrics.list('known', { from: '2029-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' }),
    /at most 31 days/,
  )
})

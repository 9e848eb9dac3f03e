import { type Clock, systemClock } from '../clock.js'
import { InvalidInputError, NotFoundError } from '../errors.js'
import type { Store } from '../store.js'
import type { FlagMetricsBucket, SdkKind, SdkRegistration } from './flag.js'

/** What an Unleash SDK posts to `/client/metrics`: one bucket of counts per flag. */
export interface SdkMetricsReport {
  appName: string
  instanceId?: string | undefined
  bucket: {
    start: string
    stop?: string | undefined
    toggles: Record<
      string,
      { yes?: number | undefined; no?: number | undefined; variants?: Record<string, number> }
    >
  }
}

/** What an SDK says when it starts (`/client/register`). */
export interface SdkRegistrationInput {
  ring: string
  kind: SdkKind
  appName: string
  instanceId: string
  sdkVersion?: string | null | undefined
  strategies?: string[] | undefined
  /** ISO 8601 or epoch ms; anything else is stored as unknown. */
  startedAt?: string | number | null | undefined
  intervalMs?: number | null | undefined
}

export interface RecordedMetrics {
  /** Flags whose counts were kept. */
  counted: number
  /** Flags the ring does not have; their counts are dropped. */
  ignored: string[]
  /** True when counts were dropped because too many are waiting for the database. */
  overflow: boolean
}

/** A record the database refused when the metrics were written; it was dropped. */
export interface RefusedMetric {
  kind: 'counts' | 'registration'
  ring: string
  /** The flag of counts, the application of a registration. */
  name: string
  reason: string
}

export interface FlushedMetrics {
  refused: RefusedMetric[]
}

export interface FlagMetricsQuery {
  ring?: string | undefined
  from?: string | undefined
  to?: string | undefined
}

export interface FlagMetricsView {
  flag: string
  ring: string | null
  from: string
  to: string
  /** Oldest hour first. */
  buckets: FlagMetricsBucket[]
  totals: { yes: number; no: number; variants: Record<string, number> }
}

const hourMs = 3_600_000
// An SDK clock a little ahead of ours is normal; a bucket from further in the future is counted now.
const futureToleranceMs = 5 * 60_000
export const maxMetricsRangeDays = 31
const maxIntervalMs = 2_147_483_647

const registrationKey = (registration: SdkRegistration) =>
  JSON.stringify([
    registration.ring,
    registration.kind,
    registration.appName,
    registration.instanceId,
  ])

const startOfHour = (ms: number) => new Date(Math.floor(ms / hourMs) * hourMs).toISOString()

const count = (value: number | undefined) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0

/**
 * Folds SDK metrics into hourly counts per flag and ring. Reports are added up in memory and
 * written in batches by `flush` (the control plane calls it on a timer and on close), so an SDK
 * posting every few seconds costs no write per post, and a database outage loses nothing that
 * fits in memory.
 */
export class FlagMetricsService {
  private pending = new Map<string, FlagMetricsBucket>()
  private registrations = new Map<string, SdkRegistration>()
  private flushing: Promise<void> | undefined

  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
    private readonly maxPendingBuckets = 100_000,
  ) {}

  /** Counts waiting to be written. */
  get pendingBuckets(): number {
    return this.pending.size
  }

  record(
    ring: string,
    report: SdkMetricsReport,
    isKnownFlag: (flag: string) => boolean = () => true,
  ): RecordedMetrics {
    const now = this.clock.now().getTime()
    const started = Date.parse(report.bucket.start)
    const hour = startOfHour(
      Number.isNaN(started) || started > now + futureToleranceMs ? now : started,
    )
    const recorded: RecordedMetrics = { counted: 0, ignored: [], overflow: false }
    for (const [flag, counts] of Object.entries(report.bucket.toggles)) {
      if (!isKnownFlag(flag)) {
        recorded.ignored.push(flag)
        continue
      }
      const variants = Object.entries(counts.variants ?? {})
        .map(([name, value]) => [name, count(value)] as const)
        .filter(([, value]) => value > 0)
      const bucket: FlagMetricsBucket = {
        flag,
        ring,
        hour,
        yes: count(counts.yes),
        no: count(counts.no),
        variants: Object.fromEntries(variants),
      }
      if (bucket.yes === 0 && bucket.no === 0 && variants.length === 0) continue
      if (!this.add(bucket)) {
        recorded.overflow = true
        continue
      }
      recorded.counted++
    }
    return recorded
  }

  register(input: SdkRegistrationInput): void {
    const registration: SdkRegistration = {
      ring: input.ring,
      kind: input.kind,
      appName: input.appName,
      instanceId: input.instanceId,
      sdkVersion: input.sdkVersion ?? null,
      strategies: input.strategies ?? [],
      startedAt: validDate(input.startedAt),
      // Stored as a 32-bit integer; an interval past 24 days is no interval an SDK keeps.
      intervalMs:
        typeof input.intervalMs === 'number' &&
        Number.isFinite(input.intervalMs) &&
        input.intervalMs <= maxIntervalMs
          ? Math.max(0, Math.floor(input.intervalMs))
          : null,
      seenAt: this.clock.now().toISOString(),
    }
    const key = registrationKey(registration)
    if (this.registrations.size < this.maxPendingBuckets || this.registrations.has(key)) {
      this.registrations.set(key, registration)
    }
  }

  /**
   * Writes what is waiting. Counts whose write fails are put back and tried again on the next
   * flush; concurrent calls share one write and then write what arrived meanwhile. When the
   * database refuses a value (InvalidInputError), each record is written alone so only the ones
   * at fault are dropped: one bad report must not hold back everyone's counts.
   */
  async flush(): Promise<FlushedMetrics> {
    while (this.flushing) await this.flushing
    const flushed: FlushedMetrics = { refused: [] }
    if (this.pending.size === 0 && this.registrations.size === 0) return flushed
    const buckets = [...this.pending.values()]
    const registrations = [...this.registrations.values()]
    this.pending = new Map()
    this.registrations = new Map()
    this.flushing = (async () => {
      try {
        await this.store.transaction(async (tx) => {
          if (buckets.length > 0) await tx.flagMetrics.add(buckets)
          for (const registration of registrations) await tx.sdkRegistrations.upsert(registration)
        })
      } catch (error) {
        if (!(error instanceof InvalidInputError)) {
          this.putBack(buckets, registrations)
          throw error
        }
        flushed.refused = await this.writeEachAlone(buckets, registrations)
      } finally {
        this.flushing = undefined
      }
    })()
    await this.flushing
    return flushed
  }

  /**
   * One transaction per record; a record the database refuses is dropped and reported. Counts
   * refused whole are split first (on and off, then each variant), so a bad variant name an SDK
   * sent costs only that variant's count.
   */
  private async writeEachAlone(
    buckets: FlagMetricsBucket[],
    registrations: SdkRegistration[],
  ): Promise<RefusedMetric[]> {
    type Item = { bucket: FlagMetricsBucket; split: boolean } | { registration: SdkRegistration }
    const queue: Item[] = [
      ...buckets.map((bucket) => ({ bucket, split: false })),
      ...registrations.map((registration) => ({ registration })),
    ]
    const refused: RefusedMetric[] = []
    while (queue.length > 0) {
      const item = queue[0]!
      try {
        await this.store.transaction(async (tx) => {
          if ('bucket' in item) await tx.flagMetrics.add([item.bucket])
          else await tx.sdkRegistrations.upsert(item.registration)
        })
        queue.shift()
      } catch (error) {
        if (!(error instanceof InvalidInputError)) {
          this.putBack(
            queue.flatMap((rest) => ('bucket' in rest ? [rest.bucket] : [])),
            queue.flatMap((rest) => ('registration' in rest ? [rest.registration] : [])),
          )
          throw error
        }
        queue.shift()
        if ('bucket' in item && !item.split) {
          queue.unshift(...splitBucket(item.bucket).map((bucket) => ({ bucket, split: true })))
          continue
        }
        refused.push(
          'bucket' in item
            ? {
                kind: 'counts',
                ring: item.bucket.ring,
                name: item.bucket.flag,
                reason: error.message,
              }
            : {
                kind: 'registration',
                ring: item.registration.ring,
                name: item.registration.appName,
                reason: error.message,
              },
        )
      }
    }
    return refused
  }

  private putBack(buckets: FlagMetricsBucket[], registrations: SdkRegistration[]): void {
    for (const bucket of buckets) this.add(bucket)
    for (const registration of registrations) {
      const key = registrationKey(registration)
      if (!this.registrations.has(key)) this.registrations.set(key, registration)
    }
  }

  /** Hourly counts of one flag, oldest first; by default the last 24 hours. */
  async list(flag: string, query: FlagMetricsQuery = {}): Promise<FlagMetricsView> {
    const now = this.clock.now().getTime()
    const to = query.to === undefined ? now : parseInstant('to', query.to)
    const from =
      query.from === undefined
        ? Date.parse(startOfHour(to)) - 23 * hourMs
        : parseInstant('from', query.from)
    if (from >= to) {
      throw new InvalidInputError('invalid-metrics-range', "'from' must be before 'to'")
    }
    if (to - from > maxMetricsRangeDays * 24 * hourMs) {
      throw new InvalidInputError(
        'invalid-metrics-range',
        `ask for at most ${maxMetricsRangeDays} days of metrics at a time`,
      )
    }
    if (!(await this.store.read.flags.findByKey(flag))) {
      throw new NotFoundError('flag-not-found', `no flag '${flag}'`)
    }
    // Counts this replica still holds would otherwise be missing from the answer.
    await this.flush()
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
    const buckets = await this.store.read.flagMetrics.list(flag, { ring: query.ring, ...range })
    const totals = { yes: 0, no: 0, variants: {} as Record<string, number> }
    for (const bucket of buckets) {
      totals.yes += bucket.yes
      totals.no += bucket.no
      for (const [name, value] of Object.entries(bucket.variants)) {
        totals.variants[name] = (totals.variants[name] ?? 0) + value
      }
    }
    return { flag, ring: query.ring ?? null, ...range, buckets, totals }
  }

  private add(bucket: FlagMetricsBucket): boolean {
    const key = `${bucket.ring}\u0000${bucket.flag}\u0000${bucket.hour}`
    const existing = this.pending.get(key)
    if (!existing) {
      if (this.pending.size >= this.maxPendingBuckets) return false
      this.pending.set(key, { ...bucket, variants: { ...bucket.variants } })
      return true
    }
    existing.yes += bucket.yes
    existing.no += bucket.no
    for (const [name, value] of Object.entries(bucket.variants)) {
      existing.variants[name] = (existing.variants[name] ?? 0) + value
    }
    return true
  }
}

/** The on and off counts alone, then each variant's count alone. */
function splitBucket(bucket: FlagMetricsBucket): FlagMetricsBucket[] {
  const pieces: FlagMetricsBucket[] = []
  if (bucket.yes > 0 || bucket.no > 0) pieces.push({ ...bucket, variants: {} })
  for (const [name, value] of Object.entries(bucket.variants)) {
    pieces.push({ ...bucket, yes: 0, no: 0, variants: { [name]: value } })
  }
  return pieces
}

function parseInstant(field: string, value: string): number {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(
      'invalid-metrics-range',
      `'${field}' must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z; got '${value}'`,
    )
  }
  return ms
}

function validDate(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  const ms = typeof value === 'number' ? value : Date.parse(value)
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

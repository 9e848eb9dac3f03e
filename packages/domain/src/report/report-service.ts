import { type Clock, systemClock } from '../clock.js'
import { InvalidInputError } from '../errors.js'
import type { Store, StoreTransaction } from '../store.js'
import type { Ring } from '../topology.js'
import { reliabilityFigures } from './reliability-figures.js'
import type { ReliabilityReport } from './reliability-report.js'

export interface ReliabilityQuery {
  service?: string | undefined
  ring?: string | undefined
  /** Default: 30 days before `to`. */
  from?: string | undefined
  /** Default: now. */
  to?: string | undefined
}

export const defaultReportDays = 30
export const maxReportDays = 366
/** How far a window may end after this server's clock: the caller's clock may run ahead. */
const clockSkewMs = 5 * 60_000
const dayMs = 86_400_000

/** Reliability figures over a window, for people (the API) and for the metrics export. */
export class ReportService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  async reliability(query: ReliabilityQuery): Promise<ReliabilityReport> {
    const read = this.store.read
    const window = this.window(query)
    if (query.service !== undefined && !(await read.services.findByName(query.service))) {
      throw new InvalidInputError(
        'unknown-service',
        `service '${query.service}' does not exist; GET /v1/services lists them`,
      )
    }
    const doraRing = await this.doraRing(read, query.ring)
    const [incidents, arrivals] = await Promise.all([
      read.reliabilityRecords.listIncidents({
        ...window,
        service: query.service,
        ring: query.ring,
      }),
      doraRing === null
        ? []
        : read.reliabilityRecords.listRingArrivals({
            ...window,
            service: query.service,
            ring: doraRing,
          }),
    ])
    return reliabilityFigures({
      service: query.service ?? null,
      ring: query.ring ?? null,
      doraRing,
      ...window,
      incidents,
      arrivals,
    })
  }

  /** One report per service, from one read of the records: what the metrics export publishes. */
  async reliabilityForAll(query: Omit<ReliabilityQuery, 'service'>): Promise<ReliabilityReport[]> {
    const read = this.store.read
    const window = this.window(query)
    const doraRing = await this.doraRing(read, query.ring)
    const [services, incidents, arrivals] = await Promise.all([
      read.services.list(),
      read.reliabilityRecords.listIncidents({ ...window, ring: query.ring }),
      doraRing === null
        ? []
        : read.reliabilityRecords.listRingArrivals({ ...window, ring: doraRing }),
    ])
    return services.map((service) =>
      reliabilityFigures({
        service: service.name,
        ring: query.ring ?? null,
        doraRing,
        ...window,
        incidents: incidents.filter((incident) => incident.service === service.name),
        arrivals: arrivals.filter((arrival) => arrival.service === service.name),
      }),
    )
  }

  private window(query: ReliabilityQuery): { from: string; to: string } {
    const now = this.clock.now().getTime()
    const to = query.to === undefined ? now : Date.parse(query.to)
    const from = query.from === undefined ? to - defaultReportDays * dayMs : Date.parse(query.from)
    if (Number.isNaN(from) || Number.isNaN(to)) {
      throw new InvalidInputError('invalid-report-window', 'from and to must be ISO 8601 times')
    }
    if (from >= to) {
      throw new InvalidInputError(
        'invalid-report-window',
        `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`,
      )
    }
    if (to - from > maxReportDays * dayMs) {
      throw new InvalidInputError(
        'invalid-report-window',
        `a report covers at most ${maxReportDays} days; ask for a shorter window`,
      )
    }
    if (to > now + clockSkewMs) {
      throw new InvalidInputError(
        'invalid-report-window',
        `to (${new Date(to).toISOString()}) is in the future; a report covers what has happened`,
      )
    }
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
  }

  /** The ring asked for, or the outermost ring (highest order); null when there are no rings. */
  private async doraRing(read: StoreTransaction, ring: string | undefined): Promise<string | null> {
    if (ring !== undefined) {
      if (!(await read.rings.findByName(ring))) {
        throw new InvalidInputError(
          'unknown-ring',
          `ring '${ring}' does not exist; GET /v1/rings lists them`,
        )
      }
      return ring
    }
    const outermost = (await read.rings.list()).reduce<Ring | null>(
      (outermost, candidate) =>
        outermost === null || candidate.order > outermost.order ? candidate : outermost,
      null,
    )
    return outermost?.name ?? null
  }
}

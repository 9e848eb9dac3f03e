import type { CommandContext } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import { openHalt } from '../release/stop-the-line-service.js'
import type { Store, StoreTransaction } from '../store.js'
import type { Incident, IncidentChange, IncidentSeverity } from './incident.js'
import { incidentSpans } from './incident-spans.js'

export interface CreateIncidentInput {
  service: string
  severity: IncidentSeverity
  title: string
  /** Where it happened; defaults to the ring of the given scale units when they share one. */
  ring?: string | undefined
  scaleUnits?: string[] | undefined
  /** The release suspected of causing it. */
  releaseId?: number | undefined
  /** Default: when it was detected. */
  startedAt?: string | undefined
  /** Default: now. */
  detectedAt?: string | undefined
  /** Stop the line for the service in the same transaction. */
  halt?: boolean | undefined
}

export interface UpdateIncidentInput {
  severity?: IncidentSeverity | undefined
  title?: string | undefined
  reviewUrl?: string | null | undefined
  notes?: string | undefined
}

export interface IncidentListFilter {
  service?: string | undefined
  open?: boolean | undefined
  beforeId?: number | undefined
  limit?: number | undefined
}

export const maxIncidentPageSize = 200
/** How far ahead of this server's clock a reported time may be: the reporter's clock may run ahead. */
const clockSkewMs = 5 * 60_000

/**
 * Incidents from declaration to resolution. Declaring one may stop the line for its service;
 * resolving one records its spans. Every change is audited in its own transaction.
 */
export class IncidentService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  async createIncident(context: CommandContext, input: CreateIncidentInput): Promise<Incident> {
    const detectedAt = this.reportedTime('detectedAt', input.detectedAt)
    const startedAt = input.startedAt === undefined ? detectedAt : iso(input.startedAt)
    if (Date.parse(startedAt) > Date.parse(detectedAt)) {
      throw new InvalidInputError(
        'invalid-incident-time',
        `startedAt (${startedAt}) is after detectedAt (${detectedAt}); an incident is detected after it starts`,
      )
    }
    return executeCommand(this.store, context, async (tx) => {
      if (!(await tx.services.findByName(input.service))) {
        throw new InvalidInputError(
          'unknown-service',
          `service '${input.service}' does not exist; GET /v1/services lists them`,
        )
      }
      const { ring, scaleUnits, trafficShare } = await this.placeOf(tx, input)
      if (input.releaseId !== undefined) {
        const release = await tx.releases.findById(input.releaseId)
        if (!release) {
          throw new InvalidInputError(
            'unknown-release',
            `release ${input.releaseId} does not exist`,
          )
        }
        if (release.service !== input.service) {
          throw new InvalidInputError(
            'release-of-another-service',
            `release ${release.id} is a release of ${release.service}, not of ${input.service}`,
          )
        }
      }
      let incident = await tx.incidents.insert({
        service: input.service,
        severity: input.severity,
        title: input.title,
        ring,
        scaleUnits,
        trafficShare,
        releaseId: input.releaseId ?? null,
        haltId: null,
        startedAt,
        detectedAt,
        createdBy: context.actor.subject,
      })
      if (input.halt) {
        const halt = await openHalt(
          tx,
          context,
          {
            scope: 'service',
            target: input.service,
            reason: `incident ${incident.id}: ${incident.title}`,
          },
          this.clock.now().toISOString(),
        )
        incident = await tx.incidents.update(incident.id, { haltId: halt.id })
      }
      await audit(tx, context, 'incident.created', incidentSubject(incident), {
        service: incident.service,
        severity: incident.severity,
        title: incident.title,
        ring: incident.ring,
        scaleUnits: incident.scaleUnits,
        trafficShare: incident.trafficShare,
        releaseId: incident.releaseId,
        haltId: incident.haltId,
        startedAt: incident.startedAt,
        detectedAt: incident.detectedAt,
      })
      return incident
    })
  }

  listIncidents(filter: IncidentListFilter): Promise<Incident[]> {
    return this.store.read.incidents.list({
      service: filter.service,
      open: filter.open,
      beforeId: filter.beforeId,
      limit: Math.min(filter.limit ?? 50, maxIncidentPageSize),
    })
  }

  async getIncident(id: number): Promise<Incident> {
    return requireIncident(this.store.read, id)
  }

  async updateIncident(
    context: CommandContext,
    id: number,
    input: UpdateIncidentInput,
  ): Promise<Incident> {
    return executeCommand(this.store, context, async (tx) => {
      const incident = await requireIncident(tx, id, true)
      const change: IncidentChange = {}
      const before: Record<string, unknown> = {}
      for (const field of ['severity', 'title', 'reviewUrl', 'notes'] as const) {
        const value = input[field]
        if (value === undefined || value === incident[field]) continue
        before[field] = incident[field]
        Object.assign(change, { [field]: value })
      }
      if (Object.keys(change).length === 0) return incident
      const updated = await tx.incidents.update(id, change)
      await audit(tx, context, 'incident.updated', incidentSubject(incident), {
        before,
        after: change,
      })
      return updated
    })
  }

  async mitigateIncident(
    context: CommandContext,
    id: number,
    input: { at?: string | undefined } = {},
  ): Promise<Incident> {
    const at = this.reportedTime('at', input.at)
    return executeCommand(this.store, context, async (tx) => {
      const incident = await requireIncident(tx, id, true)
      if (incident.mitigatedAt !== null) {
        if (sameInstant(incident.mitigatedAt, at)) return incident
        throw new ConflictError(
          'incident-already-mitigated',
          `incident ${id} was mitigated at ${incident.mitigatedAt}; it cannot be mitigated again at ${at}`,
          { mitigatedAt: incident.mitigatedAt },
        )
      }
      if (incident.resolvedAt !== null) {
        throw new ConflictError(
          'incident-resolved',
          `incident ${id} was resolved at ${incident.resolvedAt} without a mitigation; there is nothing left to mitigate`,
          { resolvedAt: incident.resolvedAt },
        )
      }
      assertNotBefore(at, 'mitigation', incident.detectedAt, 'detection')
      const updated = await tx.incidents.update(id, { mitigatedAt: at })
      await audit(tx, context, 'incident.mitigated', incidentSubject(incident), { at })
      return updated
    })
  }

  async resolveIncident(
    context: CommandContext,
    id: number,
    input: { at?: string | undefined } = {},
  ): Promise<Incident> {
    const at = this.reportedTime('at', input.at)
    return executeCommand(this.store, context, async (tx) => {
      const incident = await requireIncident(tx, id, true)
      if (incident.resolvedAt !== null) {
        if (sameInstant(incident.resolvedAt, at)) return incident
        throw new ConflictError(
          'incident-already-resolved',
          `incident ${id} was resolved at ${incident.resolvedAt}; it cannot be resolved again at ${at}`,
          { resolvedAt: incident.resolvedAt },
        )
      }
      assertNotBefore(at, 'resolution', incident.detectedAt, 'detection')
      if (incident.mitigatedAt !== null) {
        assertNotBefore(at, 'resolution', incident.mitigatedAt, 'mitigation')
      }
      const updated = await tx.incidents.update(id, { resolvedAt: at })
      const blamed =
        updated.releaseId === null ? null : await tx.releases.findById(updated.releaseId)
      await tx.rolloutSpans.insertMany(incidentSpans(updated, blamed))
      await audit(tx, context, 'incident.resolved', incidentSubject(incident), {
        at,
        timeToRestoreSeconds: (Date.parse(at) - Date.parse(incident.detectedAt)) / 1000,
      })
      return updated
    })
  }

  /** A time a person reports (default now), which may not lie in the future. */
  private reportedTime(field: string, value: string | undefined): string {
    const now = this.clock.now()
    if (value === undefined) return now.toISOString()
    const at = iso(value)
    if (Date.parse(at) > now.getTime() + clockSkewMs) {
      throw new InvalidInputError(
        'invalid-incident-time',
        `${field} (${at}) is in the future; report what has happened`,
      )
    }
    return at
  }

  /** The ring, scale units and the share of fleet traffic they carry, checked against the topology. */
  private async placeOf(
    tx: StoreTransaction,
    input: CreateIncidentInput,
  ): Promise<{ ring: string | null; scaleUnits: string[]; trafficShare: number }> {
    if (input.ring !== undefined && !(await tx.rings.findByName(input.ring))) {
      throw new InvalidInputError(
        'unknown-ring',
        `ring '${input.ring}' does not exist; GET /v1/rings lists them`,
      )
    }
    const fleet = await tx.scaleUnits.list({})
    const names = [...new Set(input.scaleUnits ?? [])]
    const touched = names.map((name) => {
      const unit = fleet.find((candidate) => candidate.name === name)
      if (!unit) {
        throw new InvalidInputError('unknown-scale-unit', `scale unit '${name}' does not exist`)
      }
      if (input.ring !== undefined && unit.ring !== input.ring) {
        throw new InvalidInputError(
          'scale-unit-not-in-ring',
          `scale unit '${name}' is in ${unit.ring}, not in ${input.ring}`,
        )
      }
      return unit
    })
    const rings = new Set(touched.map((unit) => unit.ring))
    const ring = input.ring ?? (rings.size === 1 ? [...rings][0]! : null)
    const weight = (units: typeof fleet) => units.reduce((sum, unit) => sum + unit.trafficWeight, 0)
    const total = weight(fleet)
    // No scale units named and no ring: the whole fleet. A ring without units touches nothing.
    const trafficShare =
      total === 0 || (touched.length === 0 && input.ring === undefined)
        ? 1
        : weight(touched.length > 0 ? touched : fleet.filter((unit) => unit.ring === input.ring)) /
          total
    return { ring, scaleUnits: names, trafficShare }
  }
}

export function incidentSubject(incident: Pick<Incident, 'id'>): string {
  return `incident:${incident.id}`
}

async function requireIncident(
  tx: StoreTransaction,
  id: number,
  forUpdate = false,
): Promise<Incident> {
  const incident = await tx.incidents.findById(id, { forUpdate })
  if (!incident) throw new NotFoundError('incident-not-found', `no incident with id ${id}`)
  return incident
}

function assertNotBefore(at: string, what: string, earliest: string, earlier: string): void {
  if (Date.parse(at) < Date.parse(earliest)) {
    throw new InvalidInputError(
      'invalid-incident-time',
      `the ${what} (${at}) cannot come before the ${earlier} (${earliest})`,
    )
  }
}

function iso(value: string): string {
  const at = Date.parse(value)
  if (Number.isNaN(at)) {
    throw new InvalidInputError('invalid-incident-time', `'${value}' is not an ISO 8601 time`)
  }
  return new Date(at).toISOString()
}

function sameInstant(a: string, b: string): boolean {
  return Date.parse(a) === Date.parse(b)
}

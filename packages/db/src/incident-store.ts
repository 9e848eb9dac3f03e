import type {
  Incident,
  IncidentChange,
  IncidentFilter,
  IncidentRepository,
  NewIncident,
  ReadOptions,
} from '@ringmaster/domain'
import { and, desc, eq, gte, isNotNull, isNull, lt, sql } from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import { incidents, services } from './schema/index.js'
import { dateChange, iso, isoOrNull } from './timestamps.js'

export class DrizzleIncidentRepository implements IncidentRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(incident: NewIncident): Promise<Incident> {
    const [row] = await this.db
      .insert(incidents)
      .values({
        serviceId: sql`(select ${services.id} from ${services} where ${services.name} = ${incident.service})`,
        severity: incident.severity,
        title: incident.title,
        ring: incident.ring,
        scaleUnits: incident.scaleUnits,
        trafficShare: incident.trafficShare,
        releaseId: incident.releaseId,
        haltId: incident.haltId,
        startedAt: new Date(incident.startedAt),
        detectedAt: new Date(incident.detectedAt),
        createdBy: incident.createdBy,
      })
      .returning()
    return toIncident({ incident: row!, service: incident.service })
  }

  async findById(id: number, options: ReadOptions = {}): Promise<Incident | null> {
    const query = this.select().where(eq(incidents.id, id))
    const [row] = await (options.forUpdate
      ? query.for('update', { of: incidents })
      : options.forShare
        ? query.for('share', { of: incidents })
        : query)
    return row ? toIncident(row) : null
  }

  async list(filter: IncidentFilter): Promise<Incident[]> {
    const rows = await this.select()
      .where(
        and(
          filter.service === undefined ? undefined : eq(services.name, filter.service),
          filter.open === undefined
            ? undefined
            : filter.open
              ? isNull(incidents.resolvedAt)
              : isNotNull(incidents.resolvedAt),
          filter.detectedFrom === undefined
            ? undefined
            : gte(incidents.detectedAt, new Date(filter.detectedFrom)),
          filter.detectedBefore === undefined
            ? undefined
            : lt(incidents.detectedAt, new Date(filter.detectedBefore)),
          filter.beforeId === undefined ? undefined : lt(incidents.id, filter.beforeId),
        ),
      )
      .orderBy(desc(incidents.id))
      .limit(filter.limit)
    return rows.map(toIncident)
  }

  async update(id: number, change: IncidentChange): Promise<Incident> {
    await this.db
      .update(incidents)
      .set({
        ...(change.severity !== undefined && { severity: change.severity }),
        ...(change.title !== undefined && { title: change.title }),
        ...(change.reviewUrl !== undefined && { reviewUrl: change.reviewUrl }),
        ...(change.notes !== undefined && { notes: change.notes }),
        ...(change.haltId !== undefined && { haltId: change.haltId }),
        ...(change.mitigatedAt !== undefined && { mitigatedAt: dateChange(change.mitigatedAt) }),
        ...(change.resolvedAt !== undefined && { resolvedAt: dateChange(change.resolvedAt) }),
        updatedAt: new Date(),
      })
      .where(eq(incidents.id, id))
    return (await this.findById(id))!
  }

  private select() {
    return this.db
      .select({ incident: incidents, service: services.name })
      .from(incidents)
      .innerJoin(services, eq(services.id, incidents.serviceId))
      .$dynamic()
  }
}

function toIncident(row: { incident: typeof incidents.$inferSelect; service: string }): Incident {
  const { incident } = row
  return {
    id: incident.id,
    service: row.service,
    severity: incident.severity,
    title: incident.title,
    ring: incident.ring,
    scaleUnits: incident.scaleUnits,
    trafficShare: incident.trafficShare,
    releaseId: incident.releaseId,
    haltId: incident.haltId,
    startedAt: iso(incident.startedAt),
    detectedAt: iso(incident.detectedAt),
    mitigatedAt: isoOrNull(incident.mitigatedAt),
    resolvedAt: isoOrNull(incident.resolvedAt),
    reviewUrl: incident.reviewUrl,
    notes: incident.notes,
    createdBy: incident.createdBy,
    traceId: incident.traceId,
    createdAt: iso(incident.createdAt),
    updatedAt: iso(incident.updatedAt),
  }
}

import type {
  ReliabilityIncident,
  ReliabilityIncidentFilter,
  ReliabilityRecordRepository,
  RingArrival,
  RingArrivalFilter,
} from '@ringmaster/domain'
import { and, asc, eq, gte, isNull, lt, or, sql } from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import { deployments, incidents, releaseStages, releases, services } from './schema/index.js'
import { iso, isoOrNull } from './timestamps.js'

export class DrizzleReliabilityRecordRepository implements ReliabilityRecordRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async listRingArrivals(filter: RingArrivalFilter): Promise<RingArrival[]> {
    const rollbacks = sql`${deployments.releaseId} = ${releases.id} and ${deployments.kind} = 'rollback'`
    const blames = sql`${incidents.releaseId} = ${releases.id}`
    const rows = await this.db
      .select({
        releaseId: releases.id,
        service: services.name,
        ring: releaseStages.ring,
        kind: releases.kind,
        fixesIncidentId: releases.incidentId,
        commitTime: releases.commitTime,
        reachedAt: releaseStages.deployedAt,
        state: releases.state,
        finishedAt: releases.finishedAt,
        // Withdrawn rollbacks (rolled_back) are done too: there was nothing left to undo.
        openRollbackDeployments:
          sql<number>`(select count(*) from ${deployments} where ${rollbacks} and ${deployments.state} not in ('succeeded', 'rolled_back'))`.mapWith(
            Number,
          ),
        lastRollbackFinishedAt:
          sql<Date | null>`(select max(${deployments.finishedAt}) from ${deployments} where ${rollbacks})`.mapWith(
            deployments.finishedAt,
          ),
        blamingIncidents: sql<number>`(select count(*) from ${incidents} where ${blames})`.mapWith(
          Number,
        ),
        openBlamingIncidents:
          sql<number>`(select count(*) from ${incidents} where ${blames} and ${incidents.resolvedAt} is null)`.mapWith(
            Number,
          ),
        firstBlameDetectedAt:
          sql<Date | null>`(select min(${incidents.detectedAt}) from ${incidents} where ${blames})`.mapWith(
            incidents.detectedAt,
          ),
        lastBlameResolvedAt:
          sql<Date | null>`(select max(${incidents.resolvedAt}) from ${incidents} where ${blames})`.mapWith(
            incidents.resolvedAt,
          ),
      })
      .from(releaseStages)
      .innerJoin(releases, eq(releases.id, releaseStages.releaseId))
      .innerJoin(services, eq(services.id, releases.serviceId))
      .where(
        and(
          eq(releaseStages.ring, filter.ring),
          gte(releaseStages.deployedAt, new Date(filter.from)),
          lt(releaseStages.deployedAt, new Date(filter.to)),
          filter.service === undefined ? undefined : eq(services.name, filter.service),
        ),
      )
      .orderBy(asc(releaseStages.deployedAt), asc(releases.id))
    return rows.map((row) => ({
      releaseId: row.releaseId,
      service: row.service,
      ring: row.ring,
      kind: row.kind,
      fixesIncidentId: row.fixesIncidentId,
      commitTime: isoOrNull(row.commitTime),
      reachedAt: iso(row.reachedAt!),
      rolledBackAt: row.state === 'rolled_back' ? isoOrNull(row.finishedAt) : null,
      openRollbackDeployments: row.openRollbackDeployments,
      lastRollbackFinishedAt: isoOrNull(row.lastRollbackFinishedAt),
      blamingIncidents: row.blamingIncidents,
      openBlamingIncidents: row.openBlamingIncidents,
      firstBlameDetectedAt: isoOrNull(row.firstBlameDetectedAt),
      lastBlameResolvedAt: isoOrNull(row.lastBlameResolvedAt),
    }))
  }

  async listIncidents(filter: ReliabilityIncidentFilter): Promise<ReliabilityIncident[]> {
    const rows = await this.db
      .select({
        id: incidents.id,
        service: services.name,
        ring: incidents.ring,
        trafficShare: incidents.trafficShare,
        startedAt: incidents.startedAt,
        detectedAt: incidents.detectedAt,
        resolvedAt: incidents.resolvedAt,
      })
      .from(incidents)
      .innerJoin(services, eq(services.id, incidents.serviceId))
      .where(
        and(
          lt(incidents.startedAt, new Date(filter.to)),
          or(isNull(incidents.resolvedAt), gte(incidents.resolvedAt, new Date(filter.from))),
          filter.service === undefined ? undefined : eq(services.name, filter.service),
          filter.ring === undefined
            ? undefined
            : or(isNull(incidents.ring), eq(incidents.ring, filter.ring)),
        ),
      )
      .orderBy(asc(incidents.detectedAt), asc(incidents.id))
    return rows.map((row) => ({
      ...row,
      startedAt: iso(row.startedAt),
      detectedAt: iso(row.detectedAt),
      resolvedAt: isoOrNull(row.resolvedAt),
    }))
  }
}

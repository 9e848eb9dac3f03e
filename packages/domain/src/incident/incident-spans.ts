import type { Release } from '../release/release.js'
import {
  derivedSpanId,
  type NewRolloutSpan,
  type RolloutSpanFacts,
  type RolloutSpanLink,
  releaseRootSpanId,
} from '../trace/rollout-span.js'
import type { Incident } from './incident.js'

export type IncidentPhase = 'detect' | 'mitigate' | 'restore'

export function incidentRootSpanId(incident: Pick<Incident, 'traceId'>): string {
  return derivedSpanId(incident.traceId, 'incident')
}

export function incidentPhaseSpanId(
  incident: Pick<Incident, 'traceId'>,
  phase: IncidentPhase,
): string {
  return derivedSpanId(incident.traceId, 'incident-phase', phase)
}

/**
 * A resolved incident as spans in its own trace: the incident from start to resolution, linked to
 * the root span of the release it blames, with one child per phase (detect, mitigate when it was
 * mitigated, restore).
 */
export function incidentSpans(incident: Incident, blamed: Release | null): NewRolloutSpan[] {
  if (incident.resolvedAt === null) return []
  const traceId = incident.traceId
  const rootSpanId = incidentRootSpanId(incident)
  const facts: RolloutSpanFacts = {
    incidentId: incident.id,
    service: incident.service,
    severity: incident.severity,
    title: incident.title,
    scaleUnits: incident.scaleUnits,
    ...(incident.ring !== null && { ring: incident.ring }),
    ...(incident.releaseId !== null && { releaseId: incident.releaseId }),
  }
  const links: RolloutSpanLink[] =
    blamed === null
      ? []
      : [{ traceId: blamed.traceId, spanId: releaseRootSpanId(blamed.traceId), relation: 'blames' }]
  const phase = (name: IncidentPhase, startedAt: string, endedAt: string): NewRolloutSpan => ({
    traceId,
    spanId: incidentPhaseSpanId(incident, name),
    parentSpanId: rootSpanId,
    step: 'incident-phase',
    name: `incident ${name}`,
    startedAt,
    endedAt,
    status: 'unset',
    errorType: null,
    statusMessage: null,
    facts: { incidentId: incident.id, service: incident.service, phase: name },
    links: [],
  })
  return [
    {
      traceId,
      spanId: rootSpanId,
      parentSpanId: null,
      step: 'incident',
      name: `incident ${incident.service}`,
      startedAt: incident.startedAt,
      endedAt: incident.resolvedAt,
      status: 'error',
      errorType: 'incident',
      statusMessage: `${incident.severity}: ${incident.title}`,
      facts,
      links,
    },
    phase('detect', incident.startedAt, incident.detectedAt),
    ...(incident.mitigatedAt === null
      ? []
      : [phase('mitigate', incident.detectedAt, incident.mitigatedAt)]),
    phase('restore', incident.mitigatedAt ?? incident.detectedAt, incident.resolvedAt),
  ]
}

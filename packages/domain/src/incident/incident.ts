import type { ReadOptions } from '../read-options.js'

export const incidentSeverities = ['sev1', 'sev2', 'sev3', 'sev4'] as const
export type IncidentSeverity = (typeof incidentSeverities)[number]

/**
 * Something broke for users. It starts (`startedAt`), somebody notices (`detectedAt`), the bleeding
 * stops (`mitigatedAt`) and service is restored (`resolvedAt`). Time to restore runs from detection
 * to resolution; the reports take it from here.
 */
export interface Incident {
  id: number
  service: string
  severity: IncidentSeverity
  title: string
  ring: string | null
  scaleUnits: string[]
  /** The share (0 to 1) of the fleet's traffic weight on the scale units it touched. */
  trafficShare: number
  /** The release suspected of causing it. */
  releaseId: number | null
  /** The halt opened with it (`halt: true`). */
  haltId: number | null
  startedAt: string
  detectedAt: string
  mitigatedAt: string | null
  resolvedAt: string | null
  reviewUrl: string | null
  notes: string
  createdBy: string
  traceId: string
  createdAt: string
  updatedAt: string
}

export interface NewIncident {
  service: string
  severity: IncidentSeverity
  title: string
  ring: string | null
  scaleUnits: string[]
  trafficShare: number
  releaseId: number | null
  haltId: number | null
  startedAt: string
  detectedAt: string
  createdBy: string
}

export interface IncidentChange {
  severity?: IncidentSeverity
  title?: string
  mitigatedAt?: string | null
  resolvedAt?: string | null
  reviewUrl?: string | null
  notes?: string
  haltId?: number | null
}

export interface IncidentFilter {
  service?: string | undefined
  /** Only open (not resolved) incidents, or only resolved ones. */
  open?: boolean | undefined
  /** Only incidents detected before this instant / at or after it. */
  detectedBefore?: string | undefined
  detectedFrom?: string | undefined
  beforeId?: number | undefined
  limit: number
}

export interface IncidentRepository {
  insert(incident: NewIncident): Promise<Incident>
  findById(id: number, options?: ReadOptions): Promise<Incident | null>
  /** Newest first. */
  list(filter: IncidentFilter): Promise<Incident[]>
  update(id: number, change: IncidentChange): Promise<Incident>
}

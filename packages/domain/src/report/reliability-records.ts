import type { Incident } from '../incident/incident.js'
import type { ReleaseKind } from '../release/release.js'

/** What the reliability figures need of an incident. */
export type ReliabilityIncident = Pick<
  Incident,
  'id' | 'service' | 'ring' | 'trafficShare' | 'startedAt' | 'detectedAt' | 'resolvedAt'
>

/**
 * A release whose stage for a ring finished deploying (`reachedAt`): one deployment in the DORA
 * sense, with what decides whether it failed and when it recovered.
 */
export interface RingArrival {
  releaseId: number
  service: string
  ring: string
  kind: ReleaseKind
  /** The incident the release fixes; a hotfix with one is rework. */
  fixesIncidentId: number | null
  commitTime: string | null
  reachedAt: string
  /** When the release was rolled back (it ended `rolled_back`); null when it was not. */
  rolledBackAt: string | null
  /** Its rollback deployments that have not succeeded (or been withdrawn) yet. */
  openRollbackDeployments: number
  /** When its last rollback deployment finished. */
  lastRollbackFinishedAt: string | null
  /** Incidents naming this release as their suspected cause, and how many are still open. */
  blamingIncidents: number
  openBlamingIncidents: number
  /** The earliest detection and the latest resolution among them. */
  firstBlameDetectedAt: string | null
  lastBlameResolvedAt: string | null
}

export interface RingArrivalFilter {
  service?: string | undefined
  ring: string
  /** Stage finished deploying in [from, to). */
  from: string
  to: string
}

export interface ReliabilityIncidentFilter {
  service?: string | undefined
  /** Incidents on this ring and fleet-wide ones (no ring). */
  ring?: string | undefined
  from: string
  to: string
}

/** The reads behind the reliability report. */
export interface ReliabilityRecordRepository {
  /** Releases whose stage for `ring` finished deploying in [from, to), oldest arrival first. */
  listRingArrivals(filter: RingArrivalFilter): Promise<RingArrival[]>
  /**
   * Incidents that may touch [from, to): started before `to` and not resolved before `from`.
   * Every incident detected in the window is among them.
   */
  listIncidents(filter: ReliabilityIncidentFilter): Promise<ReliabilityIncident[]>
}

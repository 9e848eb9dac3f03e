import type {
  ApprovalGateName,
  DeploymentKind,
  HaltScope,
  ReleaseHaltCause,
  ReleaseKind,
} from '../release/release.js'

/** What a rollout span is about; the telemetry package names and attributes each kind. */
export const rolloutSpanSteps = [
  'release',
  'stage',
  'approval',
  'wave',
  'deployment',
  'bake',
  'health-gate',
  'halt',
  'rollback',
  'incident',
  'incident-phase',
] as const
export type RolloutSpanStep = (typeof rolloutSpanSteps)[number]

/**
 * What happened in a step, in the domain's words. The telemetry package maps each field to its
 * OpenTelemetry attribute (semantic conventions where they exist, `ringmaster.*` otherwise), so the
 * domain never spells an attribute name.
 */
export interface RolloutSpanFacts {
  /**
   * Which run of a pipeline task this step is, unique in its release: the path its span id is
   * derived from (`stage/12`, `deployment/40/2`), so every replica names it alike.
   */
  taskRunId?: string
  releaseId?: number
  service?: string
  version?: string
  commit?: string | null
  releaseKind?: ReleaseKind
  requester?: string
  /** How the step ended: a release, stage or deployment state, or an approval decision. */
  outcome?: string
  ring?: string
  ringOrder?: number
  scaleUnit?: string
  region?: string | null
  /** 1-based wave number and the stage's wave count. */
  wave?: number
  waves?: number
  scaleUnits?: string[]
  deploymentId?: number
  deploymentKind?: DeploymentKind
  attempt?: number
  previousVersion?: string | null
  gate?: ApprovalGateName
  approvers?: string[]
  decision?: 'approved' | 'rejected' | 'withdrawn'
  requiredApprovals?: number
  approverRole?: string
  verdict?: 'pass' | 'fail'
  /** The signal that decided a health gate, its value and the threshold it was held to. */
  signal?: string
  signalValue?: number
  signalThreshold?: number
  healthReportId?: number
  bakeMinutes?: number
  bakeCutShort?: boolean
  haltCause?: ReleaseHaltCause
  haltedBy?: string
  /** A stop of the line (`POST /v1/halts`, or an incident's): its id, scope and target. */
  haltId?: number
  haltScope?: HaltScope
  haltTarget?: string | null
  reason?: string
  incidentId?: number
  severity?: string
  title?: string
  /** An incident phase: detect, mitigate or restore. */
  phase?: string
}

/** A span in another trace this one relates to: the release a rollback repairs, and so on. */
export interface RolloutSpanLink {
  traceId: string
  spanId: string
  /** Why they are linked: `repairs`, `blames`, `responds-to`. */
  relation: string
}

/** One finished step, back-dated to when it began; written with the change that ended it. */
export interface NewRolloutSpan {
  traceId: string
  spanId: string
  parentSpanId: string | null
  step: RolloutSpanStep
  name: string
  startedAt: string
  endedAt: string
  status: 'ok' | 'error' | 'unset'
  /** A short, stable reason for an error status (`deployment_failed`, `rejected`, ...). */
  errorType: string | null
  statusMessage: string | null
  facts: RolloutSpanFacts
  links: RolloutSpanLink[]
}

export interface RolloutSpan extends NewRolloutSpan {
  id: number
  attempts: number
}

export interface RolloutSpanRepository {
  /** Spans already recorded (same trace and span id) are left as they are. */
  insertMany(spans: readonly NewRolloutSpan[]): Promise<void>
  /**
   * Leases up to `limit` spans nobody else holds until `leaseUntil`, oldest first, counting an
   * attempt on each. Rows another replica is leasing right now are skipped, not waited for.
   */
  lease(now: string, leaseUntil: string, limit: number): Promise<RolloutSpan[]>
  /** The collector accepted them. */
  deleteMany(ids: readonly number[]): Promise<void>
  /** The export failed: they may be leased again after `retryAt`. */
  release(ids: readonly number[], retryAt: string): Promise<void>
  countPending(): Promise<number>
}

/**
 * A span id for a step, derived from its trace id and what the step is (`stage/12`,
 * `deployment/40/2`). Every replica derives the same id, so a child can name its parent before the
 * parent has ended, and recording a step twice records it once.
 */
export function derivedSpanId(traceId: string, ...path: Array<string | number>): string {
  const key = `${traceId}/${path.join('/')}`
  const id = fnv1a32(key, 0x811c9dc5) + fnv1a32(key, 0x01000193 ^ 0x5bd1e995)
  return id === '0000000000000000' ? '0000000000000001' : id
}

/** A trace id derived from another (a rollback's trace from its release's). */
export function derivedTraceId(traceId: string, ...path: Array<string | number>): string {
  return derivedSpanId(traceId, 'trace', ...path) + derivedSpanId(traceId, 'trace-low', ...path)
}

/** The span every step of a release hangs from. */
export function releaseRootSpanId(traceId: string): string {
  return derivedSpanId(traceId, 'release')
}

function fnv1a32(text: string, seed: number): string {
  let hash = seed >>> 0
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

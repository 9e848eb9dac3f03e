import type { RingPolicy } from '../ring-policy.js'
import type { DeploymentState, ReleaseState, StageState } from './release-states.js'

export const releaseKinds = ['standard', 'hotfix'] as const
export type ReleaseKind = (typeof releaseKinds)[number]

/** Why a release stopped moving: a person stopped it, a deployment failed, or health failed. */
export type ReleaseHaltCause = 'manual' | 'deployment_failed' | 'health_failed'

export interface ReleaseHalt {
  by: string
  reason: string
  cause: ReleaseHaltCause
  at: string
  /** The state to return to on resume. */
  resumeTo: 'queued' | 'in_progress'
}

/** One version of one service on its way through a range of rings. */
export interface Release {
  id: number
  service: string
  version: string
  commit: string | null
  commitTime: string | null
  buildUrl: string | null
  notes: string
  kind: ReleaseKind
  reason: string | null
  requester: string
  ringFrom: string
  ringTo: string
  state: ReleaseState
  halt: ReleaseHalt | null
  /** The last word on why the release ended (failure, rollback, cancel), for people. */
  outcome: string | null
  /** The release's trace: every span of its rollout, on any replica, is recorded in it. */
  traceId: string
  /** The incident this release responds to, when it is a fix for one. */
  incidentId: number | null
  createdAt: string
  updatedAt: string
  finishedAt: string | null
}

export type ApprovalGateName = 'pre' | 'post'

/** A release's passage through one ring; policy and waves are copied when the release is made. */
export interface Stage {
  id: number
  releaseId: number
  position: number
  ring: string
  ringOrder: number
  policy: RingPolicy
  /** Scale unit names, one array per wave, in deployment order. */
  waves: string[][]
  state: StageState
  /** Index of the latest wave started; -1 before the first. */
  currentWave: number
  /** The approval gate the stage is waiting on, when it is `awaiting_approval`. */
  gate: ApprovalGateName | null
  /** When the stage entered its current state. */
  stateSince: string | null
  /** When its latest wave started. */
  waveStartedAt: string | null
  startedAt: string | null
  deployedAt: string | null
  bakeUntil: string | null
  /**
   * When its wait for approval ends in a rejection by the system (entered + the policy's
   * approvalTimeoutMinutes); null when it waits for none or without a timeout. Kept if it fails.
   */
  approvalExpiresAt: string | null
  finishedAt: string | null
  freezeOverride: { by: string; reason: string; at: string } | null
}

export const deploymentKinds = ['deploy', 'rollback'] as const
export type DeploymentKind = (typeof deploymentKinds)[number]

/** One release (or its rollback) on one scale unit: the unit of work an executor picks up. */
export interface Deployment {
  id: number
  releaseId: number
  stageId: number
  ring: string
  service: string
  scaleUnit: string
  wave: number
  kind: DeploymentKind
  /** What should run after this deployment; null on a rollback means "remove the service". */
  version: string | null
  previousVersion: string | null
  state: DeploymentState
  attempt: number
  message: string | null
  logsUrl: string | null
  createdAt: string
  /** When this attempt was asked for: creation, or the latest retry. */
  requestedAt: string
  startedAt: string | null
  finishedAt: string | null
}

export const approvalDecisions = ['approve', 'reject'] as const
export type ApprovalDecision = (typeof approvalDecisions)[number]

export interface Approval {
  id: number
  releaseId: number
  stageId: number
  ring: string
  gate: ApprovalGateName
  subject: string
  role: string
  decision: ApprovalDecision
  comment: string
  at: string
}

export const haltScopes = ['global', 'service', 'ring'] as const
export type HaltScope = (typeof haltScopes)[number]

/** Stop the line: while a halt is active no new wave starts anywhere it covers. */
export interface Halt {
  id: number
  scope: HaltScope
  target: string | null
  reason: string
  createdBy: string
  createdAt: string
  liftedBy: string | null
  liftedAt: string | null
  /** The incident that stopped the line with this halt (`halt: true`), when one did. */
  incidentId: number | null
}

/** Every week on these days (0 = Sunday), from `start` (HH:MM, UTC) for `durationMinutes`. */
export interface WeeklySchedule {
  daysOfWeek: number[]
  start: string
  durationMinutes: number
}

/** A period in which no release may be promoted into the rings it covers. */
export interface FreezeWindow {
  id: number
  name: string
  scope: HaltScope
  target: string | null
  startsAt: string | null
  endsAt: string | null
  schedule: WeeklySchedule | null
  reason: string
  createdBy: string
  createdAt: string
}

export const healthStatuses = ['healthy', 'degraded', 'unhealthy'] as const
export type HealthStatus = (typeof healthStatuses)[number]

export interface HealthReport {
  id: number
  scaleUnit: string
  service: string
  status: HealthStatus
  signals: Record<string, number>
  reportedBy: string
  at: string
}

/**
 * A halt that holds a release, as a pipeline or a person needs to name it: a stop of the line
 * (global, service or ring; an incident's is a service halt with its `incidentId`), or the
 * release's own halt (`scope: 'release'`, no id: it ends with a resume, not a lift).
 */
export interface HoldingHalt {
  /** The halt to lift (DELETE /v1/halts/{id}); null for the release's own halt. */
  id: number | null
  scope: HaltScope | 'release'
  /** The service or ring halted, the release id for the release's own halt, null when global. */
  target: string | null
  reason: string
  by: string
  since: string
  incidentId: number | null
}

/** What a person reads to learn why a release is not moving. */
export interface BlockedBy {
  kind: 'approval' | 'bake' | 'halt' | 'freeze' | 'ring-occupied' | 'deployments' | 'promotion'
  message: string
  until?: string | undefined
  /** With kind `halt`: which halt. */
  halt?: HoldingHalt | undefined
}

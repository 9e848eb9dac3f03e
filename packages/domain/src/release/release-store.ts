import type { ReadOptions } from '../read-options.js'
import type { RingPolicy } from '../ring-policy.js'
import type {
  Approval,
  ApprovalDecision,
  ApprovalGateName,
  Deployment,
  DeploymentKind,
  FreezeWindow,
  Halt,
  HaltScope,
  HealthReport,
  HealthStatus,
  Release,
  ReleaseHalt,
  ReleaseKind,
  Stage,
  WeeklySchedule,
} from './release.js'
import type { DeploymentState, ReleaseState, StageState } from './release-states.js'

export interface NewRelease {
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
  incidentId: number | null
  /** The domain clock's time, which the rollout trace starts from. */
  createdAt: string
}

export interface ReleaseChange {
  state?: ReleaseState
  halt?: ReleaseHalt | null
  outcome?: string | null
  finishedAt?: string | null
  /** When the engine should look at the release again without being told; null = only when told. */
  nextCheckAt?: string | null
}

export interface ReleaseFilter {
  service?: string | undefined
  /** Only releases of this version. */
  version?: string | undefined
  states?: readonly ReleaseState[] | undefined
  /** Only releases whose current stage (the first not succeeded) is in one of these states. */
  currentStageStates?: readonly StageState[] | undefined
  /** Only releases with a smaller id (paging newest first). */
  beforeId?: number | undefined
  limit: number
}

export interface ReleaseRepository {
  /** New releases start `queued`. */
  insert(release: NewRelease): Promise<Release>
  findById(id: number, options?: ReadOptions): Promise<Release | null>
  /** Newest first. */
  list(filter: ReleaseFilter): Promise<Release[]>
  update(id: number, change: ReleaseChange): Promise<Release>
  /**
   * Leases up to `limit` releases that are queued or in progress, due (`nextCheckAt` unset or
   * not after `now`) and not leased by another live owner, to `owner` until `leaseUntil`. Rows
   * another replica is leasing right now are skipped, not waited for.
   */
  leaseDue(owner: string, now: string, leaseUntil: string, limit: number): Promise<number[]>
}

export interface NewStage {
  releaseId: number
  position: number
  ring: string
  ringOrder: number
  policy: RingPolicy
  waves: string[][]
}

export interface StageChange {
  state?: StageState
  currentWave?: number
  gate?: ApprovalGateName | null
  stateSince?: string | null
  waveStartedAt?: string | null
  startedAt?: string | null
  deployedAt?: string | null
  bakeUntil?: string | null
  approvalExpiresAt?: string | null
  finishedAt?: string | null
  freezeOverride?: Stage['freezeOverride']
}

export interface StageRepository {
  /** New stages start `pending` with `currentWave` -1. */
  insertMany(stages: readonly NewStage[]): Promise<Stage[]>
  /** In position order. */
  listByRelease(releaseId: number): Promise<Stage[]>
  /** The current stage (the first not succeeded) of each of these releases that has one. */
  listCurrent(releaseIds: readonly number[]): Promise<Stage[]>
  update(id: number, change: StageChange): Promise<Stage>
  /**
   * Releases of `service` other than `excludeReleaseId` whose stage for `ring` is in one of
   * `states` while the release itself is queued, in progress or halted.
   */
  findRingHolders(
    service: string,
    ring: string,
    states: readonly StageState[],
    excludeReleaseId: number,
  ): Promise<Array<{ releaseId: number; state: StageState }>>
}

export interface NewDeployment {
  releaseId: number
  stageId: number
  ring: string
  service: string
  scaleUnit: string
  wave: number
  kind: DeploymentKind
  version: string | null
  previousVersion: string | null
  /** The domain clock's time: where the deployment's span starts. */
  requestedAt: string
}

export interface DeploymentChange {
  state?: DeploymentState
  attempt?: number
  message?: string | null
  logsUrl?: string | null
  requestedAt?: string
  startedAt?: string | null
  finishedAt?: string | null
}

export interface DeploymentRepository {
  /**
   * Inserts `pending` deployments. A deployment of the same kind for the same stage and scale unit
   * is never created twice (a unique constraint, not a check), so repeating this is harmless;
   * returns only the rows it created.
   */
  insertMany(deployments: readonly NewDeployment[]): Promise<Deployment[]>
  findById(id: number, options?: ReadOptions): Promise<Deployment | null>
  /** In id order. */
  listByRelease(releaseId: number): Promise<Deployment[]>
  /** Deploy-kind deployments of one wave of one stage. */
  listByStageWave(stageId: number, wave: number): Promise<Deployment[]>
  /** Pending and in-progress deployments on a scale unit, oldest first. */
  listOpenForScaleUnit(scaleUnit: string): Promise<Deployment[]>
  /**
   * Succeeded deploy-kind deployments of `service` on `scaleUnit` whose stage is deploying or
   * baking and whose release is in progress: the ones a health report gates.
   */
  listHealthGated(service: string, scaleUnit: string): Promise<Deployment[]>
  update(id: number, change: DeploymentChange): Promise<Deployment>
  /** Marks a release's pending deployments `rolled_back` with `message`; returns how many. */
  withdrawPending(releaseId: number, message: string, at: string): Promise<number>
}

export interface NewApproval {
  releaseId: number
  stageId: number
  ring: string
  gate: ApprovalGateName
  subject: string
  role: string
  decision: ApprovalDecision
  comment: string
}

export interface ApprovalRepository {
  insert(approval: NewApproval): Promise<Approval>
  /** Oldest first. */
  listByStage(stageId: number): Promise<Approval[]>
  listByRelease(releaseId: number): Promise<Approval[]>
}

export interface NewHalt {
  scope: HaltScope
  target: string | null
  reason: string
  createdBy: string
  /** The domain clock's time (the database's when absent): where halt spans start. */
  createdAt?: string | undefined
}

export interface HaltRepository {
  /**
   * Makes stopping the line atomic: a halt is created under the exclusive lock, a wave starts
   * under the shared one, so a wave that did not see a halt commits before the halt does.
   */
  lockLine(mode: 'shared' | 'exclusive'): Promise<void>
  insert(halt: NewHalt): Promise<Halt>
  findById(id: number, options?: ReadOptions): Promise<Halt | null>
  /** Not lifted, oldest first. */
  listActive(): Promise<Halt[]>
  /** Newest first, lifted ones included. */
  list(limit: number): Promise<Halt[]>
  lift(id: number, by: string, at: string): Promise<Halt>
}

export interface NewFreezeWindow {
  name: string
  scope: HaltScope
  target: string | null
  startsAt: string | null
  endsAt: string | null
  schedule: WeeklySchedule | null
  reason: string
  createdBy: string
}

export interface FreezeWindowRepository {
  insert(window: NewFreezeWindow): Promise<FreezeWindow>
  findById(id: number): Promise<FreezeWindow | null>
  /** Oldest first. */
  list(): Promise<FreezeWindow[]>
  delete(id: number): Promise<void>
}

export interface NewHealthReport {
  scaleUnit: string
  service: string
  status: HealthStatus
  signals: Record<string, number>
  reportedBy: string
  at: string
}

export interface HealthReportRepository {
  insert(report: NewHealthReport): Promise<HealthReport>
  /** Newest first. */
  listRecent(filter: {
    service?: string
    scaleUnit?: string
    limit: number
  }): Promise<HealthReport[]>
  /** The newest report of `service` on each of these scale units; units never reported are absent. */
  latestFor(service: string, scaleUnits: readonly string[]): Promise<HealthReport[]>
}

/** What version of each service runs on each scale unit, as last reported done by an executor. */
export interface InstalledVersionRepository {
  /** Versions of `service` on these scale units; units without it are absent from the map. */
  getMany(service: string, scaleUnits: readonly string[]): Promise<Map<string, string>>
  /** Every service's version on one scale unit. */
  listForScaleUnit(scaleUnit: string): Promise<Record<string, string>>
  /** null removes the service from the scale unit. */
  set(service: string, scaleUnit: string, version: string | null): Promise<void>
}

/** The release repositories, as seen from inside one transaction. */
export interface ReleaseStoreTransaction {
  releases: ReleaseRepository
  stages: StageRepository
  deployments: DeploymentRepository
  approvals: ApprovalRepository
  halts: HaltRepository
  freezeWindows: FreezeWindowRepository
  healthReports: HealthReportRepository
  installedVersions: InstalledVersionRepository
}

import type { CommandContext } from '../actor.js'
import { audit } from '../command.js'
import { NotFoundError } from '../errors.js'
import type { StoreTransaction } from '../store.js'
import {
  endingSpans,
  haltSpan,
  type ReleaseEnding,
  recordSpans,
  releaseEnding,
  rollbackSpan,
} from '../trace/rollout-trace.js'
import type { Approval, Deployment, Release, ReleaseHalt, Stage } from './release.js'
import {
  assertReleaseTransition,
  assertStageTransition,
  type ReleaseState,
  ringHoldingStageStates,
} from './release-states.js'
import { currentStage, type ReleaseSituation } from './release-step.js'

/** How a release ends: the final state, what people read about it, what it withdraws. */
export interface ReleaseEnd {
  state: Extract<ReleaseState, 'succeeded' | 'failed' | 'rolled_back' | 'cancelled' | 'superseded'>
  outcome: string
  at: string
  /** How the spans it leaves open end; `releaseEnding(state)` when not given. */
  ending?: ReleaseEnding
  /** The message on the deployments it withdraws; without one, pending deployments stay. */
  withdrawal?: string
}

/**
 * The one way a release reaches a final state: checked against the state machine, the spans it
 * leaves open (halt, gate, wave, bake, stage, release) recorded, its pending deployments
 * withdrawn, and the row closed with its outcome. `stages` are the stages as they were before the
 * caller changed any. The caller appends the audit event, whose details differ per ending.
 */
export async function endRelease(
  tx: StoreTransaction,
  release: Release,
  stages: readonly Stage[],
  end: ReleaseEnd,
): Promise<{ release: Release; withdrawn: number }> {
  assertReleaseTransition(release.id, release.state, end.state)
  // A release that had already ended (succeeded, or failed and then undone) recorded its root
  // then, and an exported span cannot be taken back: its trace stays as the rollout went. A
  // rollback's undo is its own trace, linked `repairs` (ADR 0005).
  if (release.finishedAt === null) {
    await recordSpans(
      tx,
      await endingSpans(tx, release, stages, end.at, end.ending ?? releaseEnding(end.state)),
    )
  }
  const withdrawn =
    end.withdrawal === undefined
      ? 0
      : await tx.deployments.withdrawPending(release.id, end.withdrawal, end.at)
  const ended = await tx.releases.update(release.id, {
    state: end.state,
    halt: null,
    outcome: end.outcome,
    finishedAt: end.at,
    nextCheckAt: null,
  })
  return { release: ended, withdrawn }
}

/**
 * Every change to a release takes the same two locks in the same order: its service's row, then
 * the release's row. Changes to one service's releases therefore happen one at a time on any
 * number of replicas, which is what "one active release per ring" and "never deploy twice" rest on.
 */
export async function lockRelease(tx: StoreTransaction, id: number): Promise<Release> {
  return lockReleaseOf(tx, await requireRelease(tx, id))
}

/** `lockRelease` for a release already read without a lock; returns it as it is now. */
export async function lockReleaseOf(tx: StoreTransaction, unlocked: Release): Promise<Release> {
  await tx.services.findByName(unlocked.service, { forUpdate: true })
  return (await tx.releases.findById(unlocked.id, { forUpdate: true }))!
}

export async function requireRelease(tx: StoreTransaction, id: number): Promise<Release> {
  const release = await tx.releases.findById(id)
  if (!release) throw new NotFoundError('release-not-found', `no release with id ${id}`)
  return release
}

export function releaseSubject(release: { id: number }): string {
  return `release:${release.id}`
}

export function stageSubject(stage: { releaseId: number; ring: string }): string {
  return `release:${stage.releaseId}:${stage.ring}`
}

export function deploymentSubject(deployment: Deployment): string {
  return `release:${deployment.releaseId}:${deployment.ring}:${deployment.scaleUnit}`
}

/** Reads what the promotion rules need to decide the release's next step. */
export async function situationOf(
  tx: StoreTransaction,
  release: Release,
  stages: readonly Stage[],
): Promise<ReleaseSituation> {
  const stage = currentStage(stages)
  const pending = stage?.state === 'pending'
  const [currentWaveDeployments, approvals, halts, freezeWindows, ringHolders] = await Promise.all([
    stage && stage.currentWave >= 0
      ? tx.deployments.listByStageWave(stage.id, stage.currentWave)
      : Promise.resolve([]),
    stage ? tx.approvals.listByStage(stage.id) : Promise.resolve([]),
    tx.halts.listActive(),
    pending ? tx.freezeWindows.list() : Promise.resolve([]),
    pending
      ? tx.stages.findRingHolders(release.service, stage.ring, ringHoldingStageStates, release.id)
      : Promise.resolve([]),
  ])
  return {
    release,
    stages,
    currentWaveDeployments,
    approvals,
    halts,
    freezeWindows,
    ringHolder: ringHolders[0] ?? null,
  }
}

export interface RollbackOutcome {
  release: Release
  /** Rollback deployments created now; in-flight deployments get theirs when they finish. */
  rollbacks: Deployment[]
  /** Scale units left alone because a newer version has replaced this release there. */
  skipped: string[]
}

/**
 * Ends a release by undoing it: open work is withdrawn and every scale unit still running this
 * release's version gets a rollback deployment to the version it had before. Rollbacks are not
 * held back by halts: undoing damage is exactly what stopping the line is for.
 */
export async function rollbackRelease(
  tx: StoreTransaction,
  context: CommandContext,
  release: Release,
  reason: string,
  now: Date,
): Promise<RollbackOutcome> {
  const at = now.toISOString()
  const stages = await tx.stages.listByRelease(release.id)
  const { release: updated } = await endRelease(tx, release, stages, {
    state: 'rolled_back',
    outcome: `rolled back by ${context.actor.subject}: ${reason}`,
    at,
    ending: releaseEnding('rolled_back', 'rolled_back', reason),
    withdrawal: `withdrawn before it started: release rolled back (${reason})`,
  })
  const deployments = await tx.deployments.listByRelease(release.id)
  for (const stage of stages) {
    if (stage.state === 'rolled_back') continue
    assertStageTransition(stage.ring, stage.state, 'rolled_back')
    await tx.stages.update(stage.id, {
      state: 'rolled_back',
      stateSince: at,
      finishedAt: stage.finishedAt ?? at,
    })
  }
  const deployed = deployments.filter((d) => d.kind === 'deploy' && d.state === 'succeeded')
  const installed = await tx.installedVersions.getMany(
    release.service,
    deployed.map((d) => d.scaleUnit),
  )
  const toUndo = deployed.filter((d) => installed.get(d.scaleUnit) === d.version)
  const skipped = deployed
    .filter((d) => installed.get(d.scaleUnit) !== d.version)
    .map((d) => d.scaleUnit)
  const rollbacks = await createRollbackDeployments(tx, toUndo, at)
  // With nothing to undo the rollback is over as it starts; otherwise its last deployment ends it.
  if (rollbacks.length === 0) await recordSpans(tx, [rollbackSpan(updated, at, [])])
  await audit(tx, context, 'release.rolled_back', releaseSubject(release), {
    from: release.state,
    reason,
    rollbackDeployments: rollbacks.map((d) => d.id),
    skipped,
  })
  return { release: updated, rollbacks, skipped }
}

export async function createRollbackDeployments(
  tx: StoreTransaction,
  deployed: readonly Deployment[],
  at: string,
): Promise<Deployment[]> {
  if (deployed.length === 0) return []
  const created = await tx.deployments.insertMany(
    deployed.map((d) => ({
      releaseId: d.releaseId,
      stageId: d.stageId,
      ring: d.ring,
      service: d.service,
      scaleUnit: d.scaleUnit,
      wave: d.wave,
      kind: 'rollback' as const,
      version: d.previousVersion,
      previousVersion: d.version,
      requestedAt: at,
    })),
  )
  await tx.webhookOutbox.enqueueMany(
    created[0]?.service ?? '',
    'deployment.requested',
    created.map((deployment) => ({ deployment })),
  )
  return created
}

/** Stops a queued or in-progress release where it is; a resume takes it back to that state. */
export async function haltRelease(
  tx: StoreTransaction,
  context: CommandContext,
  release: Release,
  halt: Omit<ReleaseHalt, 'resumeTo'>,
  auditData: Record<string, unknown>,
): Promise<Release> {
  assertReleaseTransition(release.id, release.state, 'halted')
  const halted = await tx.releases.update(release.id, {
    state: 'halted',
    // Only queued and in-progress releases may be halted (the transition table says so).
    halt: { ...halt, resumeTo: release.state as ReleaseHalt['resumeTo'] },
    nextCheckAt: null,
  })
  await audit(tx, context, 'release.halted', releaseSubject(release), {
    cause: halt.cause,
    ...auditData,
  })
  return halted
}

/** Takes a halted release back to the state it was halted in. */
export async function resumeRelease(
  tx: StoreTransaction,
  context: CommandContext,
  release: Release & { halt: ReleaseHalt },
  at: string,
  auditData: Record<string, unknown>,
): Promise<Release> {
  const to = release.halt.resumeTo
  assertReleaseTransition(release.id, release.state, to)
  const stage = currentStage(await tx.stages.listByRelease(release.id))
  await recordSpans(tx, [
    haltSpan(release, release.halt, stage?.startedAt ? stage : null, at, 'resumed'),
  ])
  const resumed = await tx.releases.update(release.id, { state: to, halt: null, nextCheckAt: null })
  await audit(tx, context, 'release.resumed', releaseSubject(release), auditData)
  return resumed
}

/** Who rejected a gate and why: a person's decision, or the system's when the wait expired. */
export type Rejection = Pick<Approval, 'subject' | 'gate' | 'comment'>

/** A rejection fails its stage and ends the release; open work is withdrawn. */
export async function failOnRejection(
  tx: StoreTransaction,
  context: CommandContext,
  release: Release,
  stage: Stage,
  rejection: Rejection,
  now: Date,
  cause: 'rejected' | 'approval_expired' = 'rejected',
): Promise<{ release: Release; stage: Stage }> {
  const at = now.toISOString()
  assertStageTransition(stage.ring, stage.state, 'failed')
  const outcome = `rejected by ${rejection.subject} at ${stage.ring}${rejection.comment ? `: ${rejection.comment}` : ''}`
  const { release: failed } = await endRelease(
    tx,
    release,
    await tx.stages.listByRelease(release.id),
    {
      state: 'failed',
      outcome,
      at,
      ending: releaseEnding('failed', 'rejected', outcome),
      withdrawal: `withdrawn before it started: rejected at ${stage.ring}`,
    },
  )
  const failedStage = await tx.stages.update(stage.id, {
    state: 'failed',
    stateSince: at,
    finishedAt: at,
  })
  await audit(tx, context, 'release.failed', releaseSubject(release), {
    cause,
    ring: stage.ring,
    gate: rejection.gate,
    by: rejection.subject,
  })
  return { release: failed, stage: failedStage }
}

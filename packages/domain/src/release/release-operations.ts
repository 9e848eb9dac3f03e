import type { CommandContext } from '../actor.js'
import { NotFoundError } from '../errors.js'
import type { StoreTransaction } from '../store.js'
import { audit } from '../topology-service.js'
import type { Deployment, Release, Stage } from './release.js'
import {
  assertReleaseTransition,
  assertStageTransition,
  ringHoldingStageStates,
} from './release-states.js'
import { currentStage, type ReleaseSituation } from './release-step.js'

/**
 * Every change to a release takes the same two locks in the same order: its service's row, then
 * the release's row. Changes to one service's releases therefore happen one at a time on any
 * number of replicas, which is what "one active release per ring" and "never deploy twice" rest on.
 */
export async function lockRelease(tx: StoreTransaction, id: number): Promise<Release> {
  const unlocked = await tx.releases.findById(id)
  if (!unlocked) throw new NotFoundError('release-not-found', `no release with id ${id}`)
  await tx.services.findByName(unlocked.service, { forUpdate: true })
  return (await tx.releases.findById(id, { forUpdate: true }))!
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
  assertReleaseTransition(release.id, release.state, 'rolled_back')
  const at = now.toISOString()
  await tx.deployments.withdrawPending(
    release.id,
    `withdrawn before it started: release rolled back (${reason})`,
    at,
  )
  const deployments = await tx.deployments.listByRelease(release.id)
  const stages = await tx.stages.listByRelease(release.id)
  for (const stage of stages) {
    if (stage.state === 'rolled_back') continue
    assertStageTransition(stage.ring, stage.state, 'rolled_back')
    await tx.stages.update(stage.id, { state: 'rolled_back', finishedAt: stage.finishedAt ?? at })
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
  const rollbacks = await createRollbackDeployments(tx, toUndo)
  const updated = await tx.releases.update(release.id, {
    state: 'rolled_back',
    halt: null,
    outcome: `rolled back by ${context.actor.subject}: ${reason}`,
    finishedAt: at,
    nextCheckAt: null,
  })
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
    })),
  )
  await tx.webhookOutbox.enqueueMany(
    created[0]?.service ?? '',
    'deployment.requested',
    created.map((deployment) => ({ deployment })),
  )
  return created
}

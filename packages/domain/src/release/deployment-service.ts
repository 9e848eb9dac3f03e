import { type CommandContext, systemActor } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { discardEffects, type EffectOutlet, type Effects } from '../effect.js'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import type { HealthThresholds } from '../ring-policy.js'
import type { Store, StoreTransaction } from '../store.js'
import {
  deploymentSpan,
  healthGateSpan,
  recordSpans,
  restoredCommit,
  rollbackSpan,
} from '../trace/rollout-trace.js'
import { haltsCovering } from './freeze-window.js'
import { evaluateHealth } from './health-gate.js'
import type { Deployment, HealthReport, HealthStatus, Release } from './release.js'
import {
  createRollbackDeployments,
  deploymentSubject,
  haltRelease,
  lockRelease,
  resumeRelease,
  rollbackRelease,
} from './release-operations.js'
import { assertDeploymentTransition } from './release-states.js'

/** What should run on a scale unit, and the open work an executor should pick up there. */
export interface DesiredState {
  scaleUnit: string
  services: Record<string, string>
  deployments: Deployment[]
}

export interface CompleteDeploymentInput {
  result: 'succeeded' | 'failed'
  message?: string | undefined
  logsUrl?: string | undefined
}

export interface HealthReportInput {
  service: string
  status: HealthStatus
  signals?: Record<string, number> | undefined
}

export interface HealthGateVerdict {
  releaseId: number
  ring: string
  passed: boolean
  reasons: string[]
  /** What the failed gate did to the release. */
  action: 'none' | 'halted' | 'rolled_back'
}

/** The latest health report of one scale unit a release targets, against its ring's thresholds. */
export interface ScaleUnitHealth {
  scaleUnit: string
  ring: string
  thresholds: HealthThresholds
  status: HealthStatus
  signals: Record<string, number>
  /** Whether the report holds against the ring's health gate, and why not. */
  passed: boolean
  reasons: string[]
  reportedAt: string
  reportedBy: string
}

export interface ReleaseHealth {
  releaseId: number
  service: string
  /** One per scale unit of the release that has a report, in ring and wave order. */
  scaleUnits: ScaleUnitHealth[]
}

export interface HealthReportResult {
  report: HealthReport
  verdicts: HealthGateVerdict[]
}

/**
 * The executor side: what runs where, executors reporting progress and results, retries, and
 * health reports that gate a stage's bake.
 */
export class DeploymentService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
    private readonly afterCommit: EffectOutlet = discardEffects,
  ) {}

  /** One command whose recorded effects reach `afterCommit` once it commits. */
  private command<T>(
    context: CommandContext,
    work: (tx: StoreTransaction, effects: Effects) => Promise<T>,
  ): Promise<T> {
    return executeCommand(this.store, context, work, { afterCommit: this.afterCommit })
  }

  async getDeployment(id: number): Promise<Deployment> {
    const deployment = await this.store.read.deployments.findById(id)
    if (!deployment) throw new NotFoundError('deployment-not-found', `no deployment with id ${id}`)
    return deployment
  }

  async desiredState(scaleUnit: string): Promise<DesiredState> {
    const read = this.store.read
    if (!(await read.scaleUnits.findByName(scaleUnit))) {
      throw new NotFoundError('scale-unit-not-found', `no scale unit named '${scaleUnit}'`)
    }
    const [services, open] = await Promise.all([
      read.installedVersions.listForScaleUnit(scaleUnit),
      read.deployments.listOpenForScaleUnit(scaleUnit),
    ])
    const releases = new Map<number, Release | null>()
    for (const deployment of open) {
      if (!releases.has(deployment.releaseId)) {
        releases.set(deployment.releaseId, await read.releases.findById(deployment.releaseId))
      }
    }
    // Work that has not started stays off the list while its release or the line is halted.
    const halts = await read.halts.listActive()
    const deployments = open.filter(
      (d) =>
        d.kind === 'rollback' ||
        d.state === 'in_progress' ||
        (releases.get(d.releaseId)?.state !== 'halted' &&
          haltsCovering(halts, { service: d.service, ring: d.ring }).length === 0),
    )
    for (const deployment of deployments) {
      if (deployment.version === null) delete services[deployment.service]
      else services[deployment.service] = deployment.version
    }
    return { scaleUnit, services, deployments }
  }

  async start(context: CommandContext, deploymentId: number): Promise<Deployment> {
    return this.command(context, async (tx) => {
      const { deployment, release } = await lockDeployment(tx, deploymentId, 'shared')
      if (deployment.state === 'in_progress') return deployment
      if (deployment.state !== 'pending') {
        throw new ConflictError(
          'deployment-not-pending',
          `deployment ${deployment.id} is ${deployment.state}; only a pending deployment can start`,
          { state: deployment.state },
        )
      }
      if (deployment.kind === 'deploy') await assertLineOpen(tx, deployment, release)
      assertDeploymentTransition(deployment.id, deployment.state, 'in_progress')
      const started = await tx.deployments.update(deployment.id, {
        state: 'in_progress',
        startedAt: this.clock.now().toISOString(),
      })
      await audit(tx, context, 'deployment.started', deploymentSubject(deployment), {
        deploymentId: deployment.id,
        kind: deployment.kind,
        version: deployment.version,
      })
      return started
    })
  }

  async complete(
    context: CommandContext,
    deploymentId: number,
    input: CompleteDeploymentInput,
  ): Promise<Deployment> {
    const completed = await this.command(context, async (tx, effects) => {
      const { deployment, release } = await lockDeployment(tx, deploymentId, 'shared')
      effects.record({ kind: 'releases-changed', releaseIds: [deployment.releaseId] })
      // The same report twice (an executor retrying after a timeout) is answered, not refused.
      if (deployment.state === input.result) return deployment
      if (deployment.state !== 'pending' && deployment.state !== 'in_progress') {
        throw new ConflictError(
          'deployment-already-completed',
          `deployment ${deployment.id} is already ${deployment.state}${deployment.state === 'rolled_back' ? ' (withdrawn or undone)' : ''}; it cannot become ${input.result}`,
          { state: deployment.state },
        )
      }
      if (deployment.state === 'pending' && deployment.kind === 'deploy') {
        await assertLineOpen(tx, deployment, release)
      }
      assertDeploymentTransition(deployment.id, deployment.state, input.result)
      const at = this.clock.now().toISOString()
      const updated = await tx.deployments.update(deployment.id, {
        state: input.result,
        message: input.message ?? null,
        logsUrl: input.logsUrl ?? null,
        startedAt: deployment.startedAt ?? at,
        finishedAt: at,
      })
      if (input.result === 'succeeded') await this.recordInstalled(tx, context, updated, release)
      await this.recordDeploymentSpans(tx, updated, release, at)
      // Last: appending the event takes the audit lock, held until commit (see ADR 0001).
      await audit(tx, context, `deployment.${input.result}`, deploymentSubject(deployment), {
        deploymentId: deployment.id,
        kind: deployment.kind,
        version: deployment.version,
        message: input.message ?? null,
        logsUrl: input.logsUrl ?? null,
      })
      return updated
    })
    return completed
  }

  async retry(context: CommandContext, deploymentId: number): Promise<Deployment> {
    const retried = await this.command(context, async (tx, effects) => {
      const { deployment, release } = await lockDeployment(tx, deploymentId, 'exclusive')
      effects.record({ kind: 'releases-changed', releaseIds: [deployment.releaseId] })
      if (deployment.state !== 'failed') {
        throw new ConflictError(
          'deployment-not-failed',
          `deployment ${deployment.id} is ${deployment.state}; only a failed deployment can be retried`,
          { state: deployment.state },
        )
      }
      if (!['in_progress', 'halted'].includes(release.state) && deployment.kind === 'deploy') {
        throw new ConflictError(
          'release-finished',
          `release ${release.id} has finished (${release.state}); its deployments cannot be retried`,
          { state: release.state },
        )
      }
      assertDeploymentTransition(deployment.id, deployment.state, 'pending')
      const pending = await tx.deployments.update(deployment.id, {
        state: 'pending',
        attempt: deployment.attempt + 1,
        requestedAt: this.clock.now().toISOString(),
        message: null,
        logsUrl: null,
        startedAt: null,
        finishedAt: null,
      })
      await tx.webhookOutbox.enqueue(deployment.service, 'deployment.requested', {
        deployment: pending,
      })
      await audit(tx, context, 'deployment.retried', deploymentSubject(deployment), {
        deploymentId: deployment.id,
        attempt: pending.attempt,
      })
      // A release stopped only by failed deployments goes on once none of them is failed any more.
      if (release.state === 'halted' && release.halt?.cause === 'deployment_failed') {
        const stillFailed = (
          await tx.deployments.listByStageWave(deployment.stageId, deployment.wave)
        ).some((d) => d.state === 'failed')
        if (!stillFailed) {
          await resumeRelease(
            tx,
            context,
            { ...release, halt: release.halt },
            this.clock.now().toISOString(),
            {
              reason: `retrying deployment ${deployment.id}`,
            },
          )
        }
      }
      return pending
    })
    return retried
  }

  /** The latest health report of each scale unit the release targets. */
  async releaseHealth(releaseId: number): Promise<ReleaseHealth> {
    const release = await this.store.read.releases.findById(releaseId)
    if (!release) throw new NotFoundError('release-not-found', `no release with id ${releaseId}`)
    const targets = (await this.store.read.stages.listByRelease(releaseId)).flatMap((stage) =>
      stage.waves.flat().map((scaleUnit) => ({ scaleUnit, stage })),
    )
    const reports = await this.store.read.healthReports.latestFor(
      release.service,
      targets.map((target) => target.scaleUnit),
    )
    const latest = new Map(reports.map((report) => [report.scaleUnit, report]))
    const scaleUnits: ScaleUnitHealth[] = []
    for (const { scaleUnit, stage } of targets) {
      const report = latest.get(scaleUnit)
      if (!report) continue
      const verdict = evaluateHealth(stage.policy.health, report)
      scaleUnits.push({
        scaleUnit,
        ring: stage.ring,
        thresholds: stage.policy.health,
        status: report.status,
        signals: report.signals,
        passed: verdict.passed,
        reasons: verdict.reasons,
        reportedAt: report.at,
        reportedBy: report.reportedBy,
      })
    }
    return { releaseId, service: release.service, scaleUnits }
  }

  async reportHealth(
    context: CommandContext,
    scaleUnit: string,
    input: HealthReportInput,
  ): Promise<HealthReportResult> {
    const result = await this.command(context, async (tx, effects) => {
      if (!(await tx.scaleUnits.findByName(scaleUnit))) {
        throw new NotFoundError('scale-unit-not-found', `no scale unit named '${scaleUnit}'`)
      }
      if (!(await tx.services.findByName(input.service))) {
        throw new InvalidInputError('unknown-service', `service '${input.service}' does not exist`)
      }
      const gated = await tx.deployments.listHealthGated(input.service, scaleUnit)
      const report = await tx.healthReports.insert({
        scaleUnit,
        service: input.service,
        status: input.status,
        signals: input.signals ?? {},
        reportedBy: context.actor.subject,
        at: this.clock.now().toISOString(),
      })
      const verdicts: HealthGateVerdict[] = []
      for (const releaseId of new Set(gated.map((d) => d.releaseId))) {
        verdicts.push(await this.applyHealthGate(tx, context, releaseId, report))
      }
      effects.record({
        kind: 'releases-changed',
        releaseIds: verdicts.map((verdict) => verdict.releaseId),
      })
      return { report, verdicts }
    })
    return result
  }

  private async applyHealthGate(
    tx: StoreTransaction,
    context: CommandContext,
    releaseId: number,
    report: HealthReport,
  ): Promise<HealthGateVerdict> {
    const release = await lockRelease(tx, releaseId)
    const stage = (await tx.stages.listByRelease(releaseId)).find(
      (s) => s.state === 'deploying' || s.state === 'baking',
    )
    if (!stage || release.state !== 'in_progress') {
      return { releaseId, ring: stage?.ring ?? '', passed: true, reasons: [], action: 'none' }
    }
    const verdict = evaluateHealth(stage.policy.health, report)
    const unit = await tx.scaleUnits.findByName(report.scaleUnit)
    await recordSpans(tx, [
      healthGateSpan(release, stage, report, unit?.region ?? null, {
        passed: verdict.passed,
        reasons: verdict.reasons,
        ...verdict.decidedBy,
      }),
    ])
    if (verdict.passed) {
      // Recorded so that the board of a rollout hears of every report that gates it.
      await audit(tx, context, 'health-gate.passed', `release:${releaseId}:${stage.ring}`, {
        scaleUnit: report.scaleUnit,
        reportId: report.id,
        status: report.status,
      })
      return { releaseId, ring: stage.ring, passed: true, reasons: [], action: 'none' }
    }
    const reason = `health gate failed on ${report.scaleUnit} in ${stage.ring}: ${verdict.reasons.join('; ')}`
    await audit(tx, context, 'health-gate.failed', `release:${releaseId}:${stage.ring}`, {
      scaleUnit: report.scaleUnit,
      reportId: report.id,
      reasons: verdict.reasons,
      autoRollback: stage.policy.autoRollback,
    })
    if (stage.policy.autoRollback) {
      await rollbackRelease(
        tx,
        { ...context, actor: systemActor },
        release,
        reason,
        this.clock.now(),
      )
      return {
        releaseId,
        ring: stage.ring,
        passed: false,
        reasons: verdict.reasons,
        action: 'rolled_back',
      }
    }
    await haltRelease(
      tx,
      { ...context, actor: systemActor },
      release,
      { by: 'health gate', reason, cause: 'health_failed', at: this.clock.now().toISOString() },
      { reason },
    )
    return {
      releaseId,
      ring: stage.ring,
      passed: false,
      reasons: verdict.reasons,
      action: 'halted',
    }
  }

  /**
   * The attempt's span; and when it was the last open rollback of a rolled-back release, the
   * rollback's root span too.
   */
  private async recordDeploymentSpans(
    tx: StoreTransaction,
    deployment: Deployment,
    release: Release,
    at: string,
  ): Promise<void> {
    const unit = await tx.scaleUnits.findByName(deployment.scaleUnit)
    const commit =
      deployment.kind === 'rollback'
        ? await restoredCommit(tx, release, deployment)
        : release.commit
    await recordSpans(tx, [deploymentSpan(release, deployment, unit?.region ?? null, commit)])
    if (deployment.kind !== 'rollback') return
    const rollbacks = (await tx.deployments.listByRelease(release.id)).filter(
      (d) => d.kind === 'rollback',
    )
    if (rollbacks.some((d) => d.state === 'pending' || d.state === 'in_progress')) return
    // The release row as it is now: a deploy that finished late may have changed nothing here.
    const current = (await tx.releases.findById(release.id)) ?? release
    await recordSpans(tx, [rollbackSpan(current, at, rollbacks)])
  }

  /** Keeps "what runs where" true, and finishes the undo of a rolled-back release. */
  private async recordInstalled(
    tx: StoreTransaction,
    context: CommandContext,
    deployment: Deployment,
    release: Release,
  ): Promise<void> {
    await tx.installedVersions.set(deployment.service, deployment.scaleUnit, deployment.version)
    if (deployment.kind === 'rollback') {
      const undone = (
        await tx.deployments.listByStageWave(deployment.stageId, deployment.wave)
      ).find((d) => d.scaleUnit === deployment.scaleUnit && d.state === 'succeeded')
      if (undone) {
        await tx.deployments.update(undone.id, { state: 'rolled_back' })
        await audit(tx, context, 'deployment.rolled_back', deploymentSubject(undone), {
          deploymentId: undone.id,
          by: deployment.id,
        })
      }
      return
    }
    // It finished after its release was rolled back: undo it too.
    if (release.state === 'rolled_back') {
      const [rollback] = await createRollbackDeployments(
        tx,
        [deployment],
        this.clock.now().toISOString(),
      )
      if (rollback) {
        await audit(
          tx,
          { ...context, actor: systemActor },
          'deployment.rollback-requested',
          deploymentSubject(deployment),
          {
            deploymentId: deployment.id,
            rollbackDeploymentId: rollback.id,
          },
        )
      }
    }
  }
}

/**
 * Executor reports (`shared`) lock only the release row, and only against changes to the release:
 * reports for one release run side by side, while a rollback, a halt or the engine (which lock
 * the release exclusively) wait for them, and they for it. Retries change the release and take
 * the full service-then-release lock (`exclusive`).
 */
async function lockDeployment(
  tx: StoreTransaction,
  deploymentId: number,
  mode: 'shared' | 'exclusive',
): Promise<{ deployment: Deployment; release: Release }> {
  const unlocked = await tx.deployments.findById(deploymentId)
  if (!unlocked) {
    throw new NotFoundError('deployment-not-found', `no deployment with id ${deploymentId}`)
  }
  const release =
    mode === 'exclusive'
      ? await lockRelease(tx, unlocked.releaseId)
      : (await tx.releases.findById(unlocked.releaseId, { forShare: true }))!
  const deployment = (await tx.deployments.findById(deploymentId, { forUpdate: true }))!
  return { deployment, release }
}

/** Stop the line: new work does not start under a halt; work already running may finish. */
async function assertLineOpen(
  tx: StoreTransaction,
  deployment: Deployment,
  release: Release,
): Promise<void> {
  if (release.state === 'halted') {
    throw new ConflictError(
      'release-halted',
      `release ${release.id} is halted by ${release.halt?.by ?? 'someone'}: ${release.halt?.reason ?? ''}; do not start new work`,
    )
  }
  const [halt] = haltsCovering(await tx.halts.listActive(), {
    service: deployment.service,
    ring: deployment.ring,
  })
  if (halt) {
    throw new ConflictError(
      'line-halted',
      `the line is halted by ${halt.createdBy} (${halt.scope}${halt.target ? ` ${halt.target}` : ''}): ${halt.reason}; do not start new work`,
      { haltId: halt.id },
    )
  }
}

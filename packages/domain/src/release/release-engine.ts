import { type CommandContext, systemActor } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit } from '../command.js'
import { formatMinutes } from '../ring-policy.js'
import type { Store, StoreTransaction } from '../store.js'
import type { NewRolloutSpan } from '../trace/rollout-span.js'
import {
  approvalSpan,
  bakeSpan,
  recordSpans,
  spanOk,
  stageSpan,
  waveSpan,
} from '../trace/rollout-trace.js'
import type { Release, Stage } from './release.js'
import {
  deploymentSubject,
  endRelease,
  failOnRejection,
  haltRelease,
  lockReleaseOf,
  releaseSubject,
  situationOf,
  stageSubject,
} from './release-operations.js'
import { assertReleaseTransition, assertStageTransition } from './release-states.js'
import { decideNextStep, type ReleaseStep } from './release-step.js'

/** A waiting release is looked at again after this long even if nobody says it changed. */
const safetyRecheckMs = 30_000
/** How long a replica owns the releases it leased in one tick. */
const leaseMs = 30_000
/** A release never takes more steps than this in one transaction (a guard against a rule loop). */
const maxStepsPerAdvance = 10_000

const engineContext: CommandContext = { actor: systemActor }

/**
 * Walks releases through their stages. `advance` applies the promotion rules to one release until
 * they say wait; `tick` finds releases that are due and advances them. Both are safe to run on
 * several replicas at once: leases spread the work, and the service-then-release row locks taken
 * by `advance` make two replicas advancing the same release take turns.
 */
export class ReleaseEngine {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Advances one release as far as it can go now; returns the steps taken. */
  async advance(releaseId: number): Promise<ReleaseStep[]> {
    return this.store.transaction(async (tx) => {
      const found = await tx.releases.findById(releaseId)
      if (!found || (found.state !== 'queued' && found.state !== 'in_progress')) return []
      // Taken before the release lock: a halt waits for every advance that read no halt.
      await tx.halts.lockLine('shared')
      let release = await lockReleaseOf(tx, found)
      let stages = await tx.stages.listByRelease(releaseId)
      const taken: ReleaseStep[] = []
      for (let count = 0; count < maxStepsPerAdvance; count += 1) {
        const now = this.clock.now()
        const step = decideNextStep(await situationOf(tx, release, stages), now)
        if (step.kind === 'wait') {
          const recheck = new Date(now.getTime() + safetyRecheckMs).toISOString()
          const nextCheckAt =
            release.state === 'queued' || release.state === 'in_progress'
              ? step.nextCheckAt !== null && step.nextCheckAt < recheck
                ? step.nextCheckAt
                : recheck
              : null
          await tx.releases.update(release.id, { nextCheckAt })
          break
        }
        taken.push(step)
        ;({ release, stages } = await this.apply(tx, release, stages, step, now))
      }
      return taken
    })
  }

  /** Leases due releases for `owner` and advances each; returns how many it advanced. */
  async tick(owner: string, limit = 50): Promise<number[]> {
    const now = this.clock.now()
    const ids = await this.store.transaction((tx) =>
      tx.releases.leaseDue(
        owner,
        now.toISOString(),
        new Date(now.getTime() + leaseMs).toISOString(),
        limit,
      ),
    )
    for (const id of ids) await this.advance(id)
    return ids
  }

  private async apply(
    tx: StoreTransaction,
    release: Release,
    stages: Stage[],
    step: Exclude<ReleaseStep, { kind: 'wait' }>,
    now: Date,
  ): Promise<{ release: Release; stages: Stage[] }> {
    const at = now.toISOString()
    const replaceStage = (updated: Stage) =>
      stages.map((stage) => (stage.id === updated.id ? updated : stage))

    switch (step.kind) {
      case 'move-stage': {
        const { stage, to } = step
        assertStageTransition(stage.ring, stage.state, to)
        await recordSpans(tx, await this.spansEndedBy(tx, release, stage, to, at))
        const updated = await tx.stages.update(stage.id, {
          state: to,
          gate: step.gate ?? null,
          stateSince: at,
          ...(stage.state === 'pending' && { startedAt: at }),
          ...(to === 'baking' && { deployedAt: at, bakeUntil: step.bakeUntil ?? at }),
          approvalExpiresAt: to === 'awaiting_approval' ? (step.approvalExpiresAt ?? null) : null,
          ...(to === 'succeeded' && { finishedAt: at }),
        })
        await audit(tx, engineContext, `stage.${to}`, stageSubject(stage), {
          ring: stage.ring,
          from: stage.state,
          to,
          note: step.note,
          ...(to === 'baking' && { bakeUntil: updated.bakeUntil }),
          ...(updated.approvalExpiresAt !== null && { expiresAt: updated.approvalExpiresAt }),
        })
        return { release: await this.markStarted(tx, release, at), stages: replaceStage(updated) }
      }

      case 'start-wave': {
        const { stage, wave } = step
        const scaleUnits = stage.waves[wave] ?? []
        const installed = await tx.installedVersions.getMany(release.service, scaleUnits)
        const created = await tx.deployments.insertMany(
          scaleUnits.map((scaleUnit) => ({
            releaseId: release.id,
            stageId: stage.id,
            ring: stage.ring,
            service: release.service,
            scaleUnit,
            wave,
            kind: 'deploy' as const,
            version: release.version,
            previousVersion: installed.get(scaleUnit) ?? null,
            requestedAt: at,
          })),
        )
        await tx.webhookOutbox.enqueueMany(
          release.service,
          'deployment.requested',
          created.map((deployment) => ({ deployment })),
        )
        if (wave > 0) await recordSpans(tx, [waveSpan(release, stage, wave - 1, at, spanOk)])
        const updated = await tx.stages.update(stage.id, { currentWave: wave, waveStartedAt: at })
        await audit(tx, engineContext, 'wave.started', stageSubject(stage), {
          ring: stage.ring,
          wave: wave + 1,
          of: stage.waves.length,
          scaleUnits,
          deployments: created.map((d) => d.id),
        })
        return { release, stages: replaceStage(updated) }
      }

      case 'halt-on-failed-deployments': {
        const failedText = step.failed
          .map((d) => `${d.scaleUnit}${d.message ? ` (${d.message})` : ''}`)
          .join(', ')
        const halted = await haltRelease(
          tx,
          engineContext,
          release,
          {
            by: 'system',
            reason: `deployment failed on ${failedText}; retry it or roll back`,
            cause: 'deployment_failed',
            at,
          },
          {
            failedDeployments: step.failed.map((d) => ({
              id: d.id,
              subject: deploymentSubject(d),
            })),
          },
        )
        return { release: halted, stages }
      }

      case 'fail-on-rejection': {
        const failed = await failOnRejection(
          tx,
          engineContext,
          release,
          step.stage,
          step.rejection,
          now,
        )
        return { release: failed.release, stages: replaceStage(failed.stage) }
      }

      case 'reject-on-expired-approval': {
        const { stage, gate } = step
        const timeout = stage.policy.approvalTimeoutMinutes
        const reason = `approval expired after ${timeout === null ? 'its timeout' : formatMinutes(timeout)}`
        await audit(tx, engineContext, 'stage.approval_expired', stageSubject(stage), {
          ring: stage.ring,
          gate,
          expiresAt: stage.approvalExpiresAt,
          approvalTimeoutMinutes: timeout,
          approvedBy: step.approvedBy,
          required: step.required,
        })
        const failed = await failOnRejection(
          tx,
          engineContext,
          release,
          stage,
          { subject: systemActor.subject, gate, comment: reason },
          now,
          'approval_expired',
        )
        return { release: failed.release, stages: replaceStage(failed.stage) }
      }

      case 'succeed': {
        const { release: succeeded } = await endRelease(tx, release, stages, {
          state: 'succeeded',
          outcome: `reached ${release.ringTo}`,
          at,
        })
        await audit(tx, engineContext, 'release.succeeded', releaseSubject(release), {
          service: release.service,
          version: release.version,
          rings: `${release.ringFrom}..${release.ringTo}`,
        })
        return { release: succeeded, stages }
      }
    }
  }

  /** The spans a stage's move to `to` ends: the gate, wave or bake it leaves, or the stage. */
  private async spansEndedBy(
    tx: StoreTransaction,
    release: Release,
    stage: Stage,
    to: Stage['state'],
    at: string,
  ): Promise<NewRolloutSpan[]> {
    const spans: NewRolloutSpan[] = []
    if (stage.state === 'awaiting_approval' && stage.gate) {
      spans.push(await approvalSpan(tx, release, stage, stage.gate, at, 'approved'))
    }
    if (stage.state === 'deploying' && stage.currentWave >= 0) {
      spans.push(waveSpan(release, stage, stage.currentWave, at, spanOk))
    }
    if (stage.state === 'baking') spans.push(bakeSpan(release, stage, at, spanOk, false))
    if (to === 'succeeded') spans.push(stageSpan(release, stage, at, 'succeeded', spanOk))
    return spans
  }

  private async markStarted(tx: StoreTransaction, release: Release, at: string): Promise<Release> {
    if (release.state !== 'queued') return release
    assertReleaseTransition(release.id, release.state, 'in_progress')
    const started = await tx.releases.update(release.id, { state: 'in_progress' })
    await audit(tx, engineContext, 'release.started', releaseSubject(release), { at })
    return started
  }
}

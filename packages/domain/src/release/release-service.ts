import type { CommandContext } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { discardEffects, type EffectOutlet, type Effects } from '../effect.js'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import { formatMinutes } from '../ring-policy.js'
import type { Store, StoreTransaction } from '../store.js'
import { bakeSpan, recordSpans, spanOk, stageSpan } from '../trace/rollout-trace.js'
import { assertMayDecide, evaluateApprovalGate, type GateStatus } from './approval-gate.js'
import type {
  Approval,
  ApprovalDecision,
  ApprovalGateName,
  BlockedBy,
  Deployment,
  HoldingHalt,
  Release,
  ReleaseKind,
  Stage,
} from './release.js'
import {
  endRelease,
  failOnRejection,
  haltRelease,
  lockRelease,
  releaseSubject,
  requireRelease,
  resumeRelease,
  rollbackRelease,
  situationOf,
  stageSubject,
} from './release-operations.js'
import { planRelease, type RingRange } from './release-plan.js'
import {
  activeReleaseStates,
  assertStageTransition,
  type ReleaseState,
  releaseStates,
  type StageState,
} from './release-states.js'
import {
  approvalWaitExpired,
  currentStage,
  decideNextStep,
  haltsHolding,
  openGate,
} from './release-step.js'

export interface CreateReleaseInput {
  service: string
  version: string
  commit?: string | undefined
  commitTime?: string | undefined
  buildUrl?: string | undefined
  notes?: string | undefined
  rings?: RingRange | undefined
  kind?: ReleaseKind | undefined
  reason?: string | undefined
  /** The incident this release fixes. */
  incidentId?: number | undefined
}

export interface StageView extends Stage {
  deployments: Deployment[]
  approvals: Approval[]
}

/** A release with everything a person needs to see where it is and why it is not moving. */
export interface ReleaseView extends Release {
  stages: StageView[]
  blockedBy: BlockedBy[]
}

export interface ApprovalResult {
  approval: Approval
  gate: { name: ApprovalGateName } & Omit<GateStatus, 'rejection'>
  release: Release
}

/** A release in a list: where it is now, without the rest of its stages. */
export interface ReleaseSummary extends Release {
  /** Its current stage (the first not succeeded); null once every stage succeeded. */
  currentStage: { ring: string; ringOrder: number; state: StageState; since: string | null } | null
}

/**
 * What a release list may ask for: a release state, or the state of the current stage of a
 * release that is not finished (awaiting_approval: it waits for an approval).
 */
export const currentStageListStates = [
  'awaiting_approval',
  'deploying',
  'baking',
  'awaiting_promotion',
] as const satisfies readonly StageState[]
export const releaseListStates = [...releaseStates, ...currentStageListStates] as const
export type ReleaseListState = (typeof releaseListStates)[number]

export interface ReleaseListFilter {
  service?: string | undefined
  state?: ReleaseListState | undefined
  beforeId?: number | undefined
  limit?: number | undefined
}

export const maxReleasePageSize = 200

/**
 * What people and pipelines do to releases: create them, approve their gates, promote, stop,
 * resume, roll back and cancel them. Moving a release forward is the ReleaseEngine's job; every
 * command here records which releases it touched (an effect) so the engine looks at them once
 * the command commits.
 */
export class ReleaseService {
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

  async createRelease(context: CommandContext, input: CreateReleaseInput): Promise<ReleaseView> {
    const kind = input.kind ?? 'standard'
    if (kind === 'hotfix' && !input.reason?.trim()) {
      throw new InvalidInputError(
        'hotfix-needs-reason',
        'a hotfix needs a reason: say what it fixes',
      )
    }
    const view = await this.command(context, async (tx, effects) => {
      const service = await tx.services.findByName(input.service, { forUpdate: true })
      if (!service) {
        throw new InvalidInputError(
          'unknown-service',
          `service '${input.service}' does not exist; create it with POST /v1/services first`,
        )
      }
      if (input.incidentId !== undefined && !(await tx.incidents.findById(input.incidentId))) {
        throw new InvalidInputError(
          'unknown-incident',
          `no incident with id ${input.incidentId}; incidentId names the incident this release fixes`,
        )
      }
      const [rings, scaleUnits] = await Promise.all([tx.rings.list(), tx.scaleUnits.list({})])
      const plan = planRelease(rings, scaleUnits, input.rings ?? {}, kind)
      const release = await tx.releases.insert({
        service: service.name,
        version: input.version,
        commit: input.commit ?? null,
        commitTime: input.commitTime ?? null,
        buildUrl: input.buildUrl ?? null,
        notes: input.notes ?? '',
        kind,
        reason: input.reason ?? null,
        requester: context.actor.subject,
        ringFrom: plan.ringFrom,
        ringTo: plan.ringTo,
        incidentId: input.incidentId ?? null,
        createdAt: this.clock.now().toISOString(),
      })
      const stages = await tx.stages.insertMany(
        plan.stages.map((stage) => ({ ...stage, releaseId: release.id })),
      )
      await audit(tx, context, 'release.created', releaseSubject(release), {
        service: release.service,
        version: release.version,
        kind,
        requester: release.requester,
        rings: `${release.ringFrom}..${release.ringTo}`,
        stages: stages.map((stage) => ({
          ring: stage.ring,
          waves: stage.waves.length,
          scaleUnits: stage.waves.flat().length,
        })),
      })
      await this.supersedeQueued(tx, context, release)
      effects.record({ kind: 'releases-changed', releaseIds: [release.id] })
      return this.viewOf(tx, release.id)
    })
    return view
  }

  async listReleases(filter: ReleaseListFilter): Promise<ReleaseSummary[]> {
    const state = filter.state
    const byStage = (currentStageListStates as readonly string[]).includes(state ?? '')
    const releases = await this.store.read.releases.list({
      service: filter.service,
      states:
        state === undefined ? undefined : byStage ? activeReleaseStates : [state as ReleaseState],
      currentStageStates: byStage ? [state as StageState] : undefined,
      beforeId: filter.beforeId,
      limit: Math.min(filter.limit ?? 50, maxReleasePageSize),
    })
    const current = await this.store.read.stages.listCurrent(releases.map((r) => r.id))
    const stageOf = new Map(current.map((stage) => [stage.releaseId, stage]))
    return releases.map((release) => {
      const stage = stageOf.get(release.id)
      return {
        ...release,
        currentStage: stage
          ? {
              ring: stage.ring,
              ringOrder: stage.ringOrder,
              state: stage.state,
              since: stage.stateSince,
            }
          : null,
      }
    })
  }

  async getRelease(id: number): Promise<ReleaseView> {
    return this.viewOf(this.store.read, id)
  }

  async decideApproval(
    context: CommandContext,
    releaseId: number,
    ring: string,
    input: { decision: ApprovalDecision; comment?: string | undefined },
  ): Promise<ApprovalResult> {
    const result = await this.command(context, async (tx, effects) => {
      effects.record({ kind: 'releases-changed', releaseIds: [releaseId] })
      const release = await lockRelease(tx, releaseId)
      if (release.state === 'superseded' || release.state === 'cancelled') {
        throw new ConflictError(
          'release-void',
          `release ${release.id} is ${release.state}; approvals on it are void`,
          { state: release.state },
        )
      }
      const now = this.clock.now()
      const expired = (await tx.stages.listByRelease(release.id)).find(
        (stage) => stage.ring === ring && approvalWaitExpired(stage, now),
      )
      if (expired) throw approvalExpired(release, expired)
      if (!['queued', 'in_progress', 'halted'].includes(release.state)) {
        throw new ConflictError(
          'release-finished',
          `release ${release.id} has finished (${release.state}); there is nothing left to approve`,
          { state: release.state },
        )
      }
      const stage = await requireStage(tx, release, ring)
      const open = openGate(stage)
      if (!open) {
        throw new ConflictError(
          'no-open-gate',
          stage.policy.preApproval || stage.policy.postApproval
            ? `the ${ring} stage of release ${release.id} is ${stage.state}; none of its approval gates is open now`
            : `${ring} requires no approval`,
          { stageState: stage.state },
        )
      }
      const existing = (await tx.approvals.listByStage(stage.id)).filter(
        (approval) => approval.gate === open.name,
      )
      assertMayDecide({
        actor: context.actor,
        release,
        ring,
        gateName: open.name,
        gate: open.gate,
        existing,
        now,
      })
      const approval = await tx.approvals.insert({
        releaseId: release.id,
        stageId: stage.id,
        ring,
        gate: open.name,
        subject: context.actor.subject,
        role: context.actor.role,
        decision: input.decision,
        comment: input.comment ?? '',
      })
      await audit(
        tx,
        context,
        input.decision === 'approve' ? 'approval.granted' : 'approval.rejected',
        stageSubject(stage),
        { ring, gate: open.name, comment: approval.comment },
      )
      let after = release
      if (input.decision === 'reject') {
        after = (await failOnRejection(tx, context, release, stage, approval, now)).release
      }
      const { rejection: _rejection, ...status } = evaluateApprovalGate(
        open.gate,
        [...existing, approval],
        now,
      )
      return { approval, gate: { name: open.name, ...status }, release: after }
    })
    return result
  }

  async promote(context: CommandContext, releaseId: number, reason: string): Promise<ReleaseView> {
    const view = await this.command(context, async (tx, effects) => {
      effects.record({ kind: 'releases-changed', releaseIds: [releaseId] })
      const release = await lockRelease(tx, releaseId)
      // A promotion moves the release on: no promotion, however urgent, goes past a halt.
      const holding = haltsHolding(
        await situationOf(tx, release, await tx.stages.listByRelease(release.id)),
      )
      if (holding.length > 0) throw heldByHalts(release.id, 'promoted', holding)
      if (release.state !== 'in_progress') {
        throw new ConflictError(
          'release-not-in-progress',
          `release ${release.id} is ${release.state}; only a release in progress can be promoted`,
          { state: release.state },
        )
      }
      const stages = await tx.stages.listByRelease(release.id)
      const stage = currentStage(stages)
      if (!stage || (stage.state !== 'baking' && stage.state !== 'awaiting_promotion')) {
        throw new ConflictError(
          'nothing-to-promote',
          `release ${release.id} is ${stage ? `${stage.state} on ${stage.ring}` : 'done'}; promotion applies to a stage that is baking or awaiting promotion`,
          { stageState: stage?.state ?? null },
        )
      }
      const now = this.clock.now()
      if (stage.policy.postApproval) {
        const approvals = (await tx.approvals.listByStage(stage.id)).filter(
          (a) => a.gate === 'post',
        )
        const status = evaluateApprovalGate(stage.policy.postApproval, approvals, now)
        if (!status.satisfied) {
          throw new ConflictError(
            'post-approval-required',
            `${stage.ring} needs ${status.missing} more post-approval${status.missing === 1 ? '' : 's'} from role ${stage.policy.postApproval.role} before it can be promoted`,
          )
        }
      }
      assertStageTransition(stage.ring, stage.state, 'succeeded')
      const at = now.toISOString()
      await recordSpans(tx, [
        ...(stage.state === 'baking' ? [bakeSpan(release, stage, at, spanOk, true)] : []),
        stageSpan(release, stage, at, 'succeeded', spanOk),
      ])
      await tx.stages.update(stage.id, { state: 'succeeded', stateSince: at, finishedAt: at })
      await audit(tx, context, 'release.promoted', stageSubject(stage), {
        ring: stage.ring,
        from: stage.state,
        reason,
        ...(stage.state === 'baking' && {
          bakeCutShortAt: now.toISOString(),
          bakeUntil: stage.bakeUntil,
        }),
      })
      return this.viewOf(tx, release.id)
    })
    return view
  }

  async halt(context: CommandContext, releaseId: number, reason: string): Promise<ReleaseView> {
    return this.command(context, async (tx) => {
      const release = await lockRelease(tx, releaseId)
      // Stopping something already stopped is not a mistake worth an error.
      if (release.state === 'halted') return this.viewOf(tx, release.id)
      if (release.state !== 'queued' && release.state !== 'in_progress') {
        throw new ConflictError(
          'release-finished',
          `release ${release.id} has finished (${release.state}); there is nothing to halt`,
          { state: release.state },
        )
      }
      const halted = await haltRelease(
        tx,
        context,
        release,
        { by: context.actor.subject, reason, cause: 'manual', at: this.clock.now().toISOString() },
        { reason },
      )
      return this.viewOf(tx, halted.id)
    })
  }

  async resume(context: CommandContext, releaseId: number, reason: string): Promise<ReleaseView> {
    const view = await this.command(context, async (tx, effects) => {
      effects.record({ kind: 'releases-changed', releaseIds: [releaseId] })
      const release = await lockRelease(tx, releaseId)
      if (release.state !== 'halted' || release.halt === null) {
        throw new ConflictError(
          'release-not-halted',
          `release ${release.id} is ${release.state}; only a halted release can be resumed`,
          { state: release.state },
        )
      }
      const stage = currentStage(await tx.stages.listByRelease(release.id))
      if (stage && stage.currentWave >= 0) {
        const failed = (await tx.deployments.listByStageWave(stage.id, stage.currentWave)).filter(
          (d) => d.state === 'failed',
        )
        if (failed.length > 0) {
          throw new ConflictError(
            'failed-deployments',
            `deployments ${failed.map((d) => `${d.id} (${d.scaleUnit})`).join(', ')} failed; retry them with POST /v1/deployments/{id}/retry or roll the release back`,
            { deploymentIds: failed.map((d) => d.id) },
          )
        }
      }
      const resumed = await resumeRelease(
        tx,
        context,
        { ...release, halt: release.halt },
        this.clock.now().toISOString(),
        {
          reason,
          haltedBy: release.halt.by,
          haltReason: release.halt.reason,
        },
      )
      return this.viewOf(tx, resumed.id)
    })
    return view
  }

  async rollback(context: CommandContext, releaseId: number, reason: string): Promise<ReleaseView> {
    return this.command(context, async (tx) => {
      const release = await lockRelease(tx, releaseId)
      const outcome = await rollbackRelease(tx, context, release, reason, this.clock.now())
      return this.viewOf(tx, outcome.release.id)
    })
  }

  async cancel(context: CommandContext, releaseId: number, reason: string): Promise<ReleaseView> {
    return this.command(context, async (tx) => {
      const release = await lockRelease(tx, releaseId)
      const { release: cancelled, withdrawn } = await endRelease(
        tx,
        release,
        await tx.stages.listByRelease(release.id),
        {
          state: 'cancelled',
          outcome: `cancelled by ${context.actor.subject}: ${reason}`,
          at: this.clock.now().toISOString(),
          withdrawal: `withdrawn before it started: release cancelled (${reason})`,
        },
      )
      await audit(tx, context, 'release.cancelled', releaseSubject(release), {
        from: release.state,
        reason,
        withdrawnDeployments: withdrawn,
      })
      return this.viewOf(tx, cancelled.id)
    })
  }

  /** Lets a release enter a frozen ring; only admins, always with a reason, always audited. */
  async overrideFreeze(
    context: CommandContext,
    releaseId: number,
    ring: string,
    reason: string,
  ): Promise<ReleaseView> {
    const view = await this.command(context, async (tx, effects) => {
      effects.record({ kind: 'releases-changed', releaseIds: [releaseId] })
      const release = await lockRelease(tx, releaseId)
      const stage = await requireStage(tx, release, ring)
      if (stage.state !== 'pending') {
        throw new ConflictError(
          'stage-already-entered',
          `release ${release.id} has already entered ${ring} (${stage.state}); a freeze override only applies before it enters`,
        )
      }
      const freezeOverride = {
        by: context.actor.subject,
        reason,
        at: this.clock.now().toISOString(),
      }
      await tx.stages.update(stage.id, { freezeOverride })
      await audit(tx, context, 'freeze.overridden', stageSubject(stage), { ring, reason })
      return this.viewOf(tx, release.id)
    })
    return view
  }

  /** A newer release makes older ones that have not started pointless: they would go out of date. */
  private async supersedeQueued(
    tx: StoreTransaction,
    context: CommandContext,
    newer: Release,
  ): Promise<void> {
    const queued = await tx.releases.list({
      service: newer.service,
      states: ['queued'],
      limit: 1000,
    })
    const at = this.clock.now().toISOString()
    for (const older of queued) {
      if (older.id >= newer.id) continue
      const stages = await tx.stages.listByRelease(older.id)
      if (stages.some((stage) => stage.state !== 'pending')) continue
      await endRelease(tx, older, stages, {
        state: 'superseded',
        outcome: `superseded by release ${newer.id} (${newer.version})`,
        at,
      })
      await audit(tx, context, 'release.superseded', releaseSubject(older), {
        by: newer.id,
        version: newer.version,
      })
    }
  }

  /** Read afresh: commands call it after their changes, so it shows the release as it is now. */
  private async viewOf(tx: StoreTransaction, id: number): Promise<ReleaseView> {
    const [current, stages, deployments, approvals] = await Promise.all([
      requireRelease(tx, id),
      tx.stages.listByRelease(id),
      tx.deployments.listByRelease(id),
      tx.approvals.listByRelease(id),
    ])
    return {
      ...current,
      stages: stages.map((stage) => ({
        ...stage,
        deployments: deployments.filter((d) => d.stageId === stage.id),
        approvals: approvals.filter((a) => a.stageId === stage.id),
      })),
      blockedBy: await this.blockedBy(tx, current, stages),
    }
  }

  /** The engine's own decider says it, so what a person reads is what holds the release. */
  private async blockedBy(
    tx: StoreTransaction,
    release: Release,
    stages: readonly Stage[],
  ): Promise<BlockedBy[]> {
    if (!['queued', 'in_progress', 'halted'].includes(release.state)) return []
    const step = decideNextStep(await situationOf(tx, release, stages), this.clock.now())
    return step.kind === 'wait' ? step.blockedBy : []
  }
}

/** 409 naming every halt that holds the release (`halts`), and how each one ends. */
export function heldByHalts(
  releaseId: number,
  action: string,
  halts: readonly HoldingHalt[],
): ConflictError {
  const named = halts.map((halt) => {
    const where =
      halt.scope === 'global'
        ? 'everywhere'
        : halt.scope === 'release'
          ? `release ${halt.target}`
          : `${halt.scope} ${halt.target}`
    const what =
      halt.id === null
        ? `its own halt (${where})`
        : `halt ${halt.id} (${where}${halt.incidentId === null ? '' : `, incident ${halt.incidentId}`})`
    const ends =
      halt.id === null
        ? `resume it with POST /v1/releases/${releaseId}/resume`
        : `lift it with DELETE /v1/halts/${halt.id}`
    return `${what} by ${halt.by}: ${halt.reason}; ${ends}`
  })
  // The types deployments already answer with: its own halt first, as blockedBy lists it.
  const own = halts.some((halt) => halt.id === null)
  return new ConflictError(
    own ? 'release-halted' : 'line-halted',
    `release ${releaseId} cannot be ${action} while ${own ? 'it is halted' : 'the line is stopped for it'}: ${named.join('; ')}`,
    { halts: halts.map((halt) => ({ ...halt })) },
  )
}

/** 409 for a decision that came after the stage's wait for approval expired. */
function approvalExpired(release: Release, stage: Stage): ConflictError {
  const timeout = stage.policy.approvalTimeoutMinutes
  const after = timeout === null ? '' : ` (after ${formatMinutes(timeout)})`
  return new ConflictError(
    'approval-expired',
    `the ${stage.gate ?? 'pre'}-approval of ${stage.ring} expired at ${stage.approvalExpiresAt}${after}, so the system rejected release ${release.id}; create a new release to ask again`,
    { expiresAt: stage.approvalExpiresAt, gate: stage.gate },
  )
}

async function requireStage(tx: StoreTransaction, release: Release, ring: string): Promise<Stage> {
  const stage = (await tx.stages.listByRelease(release.id)).find((s) => s.ring === ring)
  if (!stage) {
    throw new NotFoundError(
      'stage-not-found',
      `release ${release.id} goes through ${release.ringFrom}..${release.ringTo}, not '${ring}'`,
    )
  }
  return stage
}

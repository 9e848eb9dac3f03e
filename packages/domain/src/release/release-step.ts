import type { ApprovalGate, RingPolicy } from '../ring-policy.js'
import { describeMissingApprovals, evaluateApprovalGate } from './approval-gate.js'
import { freezeActiveUntil, haltsCovering, scopeCovers } from './freeze-window.js'
import type {
  Approval,
  ApprovalGateName,
  BlockedBy,
  Deployment,
  FreezeWindow,
  Halt,
  HoldingHalt,
  Release,
  Stage,
} from './release.js'
import type { StageState } from './release-states.js'

/** What the engine knows about a release when it decides what to do next. */
export interface ReleaseSituation {
  release: Release
  stages: readonly Stage[]
  /** Deploy deployments of the current stage's latest started wave. */
  currentWaveDeployments: readonly Deployment[]
  /** Decisions recorded for the current stage. */
  approvals: readonly Approval[]
  /** Active halts (all of them; the decider picks the ones that cover the release). */
  halts: readonly Halt[]
  freezeWindows: readonly FreezeWindow[]
  /** Another release of the same service holding the current stage's ring. */
  ringHolder: { releaseId: number } | null
}

export type ReleaseStep =
  | {
      kind: 'move-stage'
      stage: Stage
      to: StageState
      gate?: ApprovalGateName | null
      bakeUntil?: string
      /** Into awaiting_approval: when the wait expires, fixed now; null for no timeout. */
      approvalExpiresAt?: string | null
      note: string
    }
  | { kind: 'start-wave'; stage: Stage; wave: number }
  | { kind: 'halt-on-failed-deployments'; stage: Stage; failed: Deployment[] }
  | { kind: 'fail-on-rejection'; stage: Stage; rejection: Approval }
  | {
      kind: 'reject-on-expired-approval'
      stage: Stage
      gate: ApprovalGateName
      /** Approvals that counted when it expired, of `required`. */
      approvedBy: string[]
      required: number
    }
  | { kind: 'succeed' }
  | { kind: 'wait'; blockedBy: BlockedBy[]; nextCheckAt: string | null }

const minuteMs = 60 * 1000

/** The stage a release is working on: the first one that has not succeeded. */
export function currentStage(stages: readonly Stage[]): Stage | null {
  return (
    [...stages]
      .sort((a, b) => a.position - b.position)
      .find((stage) => stage.state !== 'succeeded') ?? null
  )
}

/**
 * The promotion rules in one place: given what is true now, the one next thing to do. The engine
 * applies the step and asks again until the answer is to wait. No I/O, so every rule is testable
 * with a fixed clock.
 *
 * A halt that covers the release's current ring holds it: no stage enters its ring, no wave
 * starts and no stage ends (a bake that ran out waits for the lift). What is already under way
 * may finish: running deployments report, a bake runs its time, a failure still halts or fails
 * the release. Every wait names every halt that holds the release, whatever else it waits for.
 */
export function decideNextStep(situation: ReleaseSituation, now: Date): ReleaseStep {
  const { release } = situation
  const moving = release.state === 'queued' || release.state === 'in_progress'
  if (!moving && release.state !== 'halted') return wait([], null)
  const stage = currentStage(situation.stages)
  const halts = stage === null ? [] : lineHaltsHolding(situation.halts, release, stage)
  if (!moving) {
    const own = describeReleaseHalt(release)
    return wait(own === null ? halts : [own, ...halts], null)
  }
  if (stage === null) return { kind: 'succeed' }
  /** Wait for `blockers` and every halt; when nothing blocks, take `step`. */
  const unlessHeld = (step: ReleaseStep, blockers: BlockedBy[] = []): ReleaseStep =>
    blockers.length > 0 || halts.length > 0 ? wait([...blockers, ...halts], null) : step

  switch (stage.state) {
    case 'pending': {
      const blockers: BlockedBy[] = []
      if (situation.ringHolder !== null) {
        blockers.push({
          kind: 'ring-occupied',
          message: `waiting for release ${situation.ringHolder.releaseId} to leave ${stage.ring}`,
        })
      }
      let nextCheckAt: string | null = null
      if (stage.freezeOverride === null) {
        for (const window of situation.freezeWindows) {
          if (!scopeCovers(window, { service: release.service, ring: stage.ring })) continue
          const until = freezeActiveUntil(window, now)
          if (until === null) continue
          blockers.push({
            kind: 'freeze',
            message: `freeze window '${window.name}' until ${until.toISOString()}: ${window.reason}`,
            until: until.toISOString(),
          })
          nextCheckAt = earliest(nextCheckAt, until.toISOString())
        }
      }
      if (blockers.length > 0 || halts.length > 0) return wait([...blockers, ...halts], nextCheckAt)
      if (stage.policy.preApproval) {
        return {
          kind: 'move-stage',
          stage,
          to: 'awaiting_approval',
          gate: 'pre',
          approvalExpiresAt: approvalWaitExpiresAt(stage.policy, now),
          note: 'waiting for pre-approval',
        }
      }
      return {
        kind: 'move-stage',
        stage,
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      }
    }

    case 'awaiting_approval': {
      const gateName = stage.gate ?? 'pre'
      const gate = gateName === 'pre' ? stage.policy.preApproval : stage.policy.postApproval
      if (gate) {
        const approvals = situation.approvals.filter((approval) => approval.gate === gateName)
        const status = evaluateApprovalGate(gate, approvals, now)
        if (status.rejection)
          return { kind: 'fail-on-rejection', stage, rejection: status.rejection }
        if (!status.satisfied) {
          // Like a rejection, an expiry ends the release even under a halt.
          if (approvalWaitExpired(stage, now)) {
            return {
              kind: 'reject-on-expired-approval',
              stage,
              gate: gateName,
              approvedBy: status.approvedBy,
              required: status.required,
            }
          }
          const missing = describeMissingApprovals(stage.ring, gateName, gate, status)
          return wait(
            [
              {
                kind: 'approval',
                message:
                  stage.approvalExpiresAt === null
                    ? missing
                    : `${missing}; expires at ${stage.approvalExpiresAt}`,
              },
              ...halts,
            ],
            stage.approvalExpiresAt,
          )
        }
      }
      if (gateName === 'pre') {
        return unlessHeld({
          kind: 'move-stage',
          stage,
          to: 'deploying',
          gate: null,
          note: 'pre-approval granted',
        })
      }
      return unlessHeld(afterPostApproval(stage))
    }

    case 'deploying': {
      const failed = situation.currentWaveDeployments.filter(
        (deployment) => deployment.state === 'failed',
      )
      if (failed.length > 0) return { kind: 'halt-on-failed-deployments', stage, failed }
      const waveSize = stage.currentWave < 0 ? 0 : (stage.waves[stage.currentWave]?.length ?? 0)
      const succeeded = situation.currentWaveDeployments.filter(
        (deployment) => deployment.state === 'succeeded',
      ).length
      if (stage.currentWave >= 0 && succeeded < waveSize) {
        const open = situation.currentWaveDeployments
          .filter((deployment) => deployment.state !== 'succeeded')
          .map((deployment) => deployment.scaleUnit)
        return wait(
          [
            {
              kind: 'deployments',
              message: `waiting for ${waveSize - succeeded} of ${waveSize} deployments in wave ${stage.currentWave + 1} of ${stage.waves.length} on ${stage.ring}: ${summarize(open)}`,
            },
            ...halts,
          ],
          null,
        )
      }
      const nextWave = stage.currentWave + 1
      if (nextWave < stage.waves.length) {
        return unlessHeld({ kind: 'start-wave', stage, wave: nextWave })
      }
      // Not held: the bake watches what is already deployed, and its clock may run under a halt.
      const bakeUntil = new Date(now.getTime() + stage.policy.bakeMinutes * minuteMs).toISOString()
      return {
        kind: 'move-stage',
        stage,
        to: 'baking',
        bakeUntil,
        note: `all ${stage.waves.length} waves deployed`,
      }
    }

    case 'baking': {
      if (stage.bakeUntil !== null && Date.parse(stage.bakeUntil) > now.getTime()) {
        return wait(
          [
            {
              kind: 'bake',
              message: `baking on ${stage.ring} until ${stage.bakeUntil}`,
              until: stage.bakeUntil,
            },
            ...halts,
          ],
          stage.bakeUntil,
        )
      }
      if (stage.policy.postApproval) {
        return unlessHeld({
          kind: 'move-stage',
          stage,
          to: 'awaiting_approval',
          gate: 'post',
          approvalExpiresAt: approvalWaitExpiresAt(stage.policy, now),
          note: 'bake complete; waiting for post-approval',
        })
      }
      return unlessHeld(afterPostApproval(stage))
    }

    case 'awaiting_promotion':
      return wait(
        [
          {
            kind: 'promotion',
            message: `${stage.ring} asks for manual promotion by an approver or admin`,
          },
          ...halts,
        ],
        null,
      )

    default:
      // failed or rolled_back: the release has ended or is about to; nothing moves.
      return wait([], null)
  }
}

/** The stops of the line that hold a release on `stage`: they cover its service and ring. */
function lineHaltsHolding(halts: readonly Halt[], release: Release, stage: Stage): BlockedBy[] {
  if (stage.state === 'succeeded' || stage.state === 'failed' || stage.state === 'rolled_back') {
    return []
  }
  return haltsCovering(halts, { service: release.service, ring: stage.ring }).map(describeHalt)
}

/**
 * Every halt holding a release that has not ended, its own first: the ones its `blockedBy`
 * names, and the ones that refuse a promotion.
 */
export function haltsHolding(situation: ReleaseSituation): HoldingHalt[] {
  const { release } = situation
  if (release.state !== 'queued' && release.state !== 'in_progress' && release.state !== 'halted') {
    return []
  }
  const stage = currentStage(situation.stages)
  const own = describeReleaseHalt(release)
  const blockers = [
    ...(own === null ? [] : [own]),
    ...(stage === null ? [] : lineHaltsHolding(situation.halts, release, stage)),
  ]
  return blockers.flatMap((blocker) => (blocker.halt ? [blocker.halt] : []))
}

function afterPostApproval(stage: Stage): ReleaseStep {
  if (stage.policy.manualPromotion) {
    return {
      kind: 'move-stage',
      stage,
      to: 'awaiting_promotion',
      gate: null,
      note: 'waiting for manual promotion',
    }
  }
  return { kind: 'move-stage', stage, to: 'succeeded', gate: null, note: 'gates passed' }
}

function wait(blockedBy: BlockedBy[], nextCheckAt: string | null): ReleaseStep {
  return { kind: 'wait', blockedBy, nextCheckAt }
}

export function describeHalt(halt: Halt): BlockedBy {
  const where = halt.scope === 'global' ? 'everywhere' : `${halt.scope} ${halt.target}`
  return {
    kind: 'halt',
    message: `halted by ${halt.createdBy} (${where}): ${halt.reason}`,
    halt: {
      id: halt.id,
      scope: halt.scope,
      target: halt.target,
      reason: halt.reason,
      by: halt.createdBy,
      since: halt.createdAt,
      incidentId: halt.incidentId,
    },
  }
}

export function describeReleaseHalt(release: Release): BlockedBy | null {
  if (release.state !== 'halted' || release.halt === null) return null
  return {
    kind: 'halt',
    message: `halted by ${release.halt.by}: ${release.halt.reason}`,
    halt: {
      id: null,
      scope: 'release',
      target: String(release.id),
      reason: release.halt.reason,
      by: release.halt.by,
      since: release.halt.at,
      incidentId: null,
    },
  }
}

function earliest(current: string | null, candidate: string): string {
  return current === null || candidate < current ? candidate : current
}

function summarize(names: readonly string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`
}

/** When a wait for approval that starts `now` expires under `policy`; null: it never does. */
export function approvalWaitExpiresAt(policy: RingPolicy, now: Date): string | null {
  if (policy.approvalTimeoutMinutes === null) return null
  return new Date(now.getTime() + policy.approvalTimeoutMinutes * minuteMs).toISOString()
}

/**
 * Whether the stage's wait for approval had run out by `now`, or by the time the stage failed:
 * no decision is taken at or after expiry, so a stage that failed then failed on it.
 */
export function approvalWaitExpired(stage: Stage, now: Date): boolean {
  if (stage.approvalExpiresAt === null) return false
  const expiresAt = Date.parse(stage.approvalExpiresAt)
  if (stage.state === 'awaiting_approval') return expiresAt <= now.getTime()
  if (stage.state === 'failed' && stage.finishedAt !== null) {
    return expiresAt <= Date.parse(stage.finishedAt)
  }
  return false
}

/** The gate a stage in `state` would take a decision for, or null when none is open. */
export function openGate(stage: Stage): { name: ApprovalGateName; gate: ApprovalGate } | null {
  const { preApproval, postApproval } = stage.policy
  if (
    (stage.state === 'pending' || (stage.state === 'awaiting_approval' && stage.gate === 'pre')) &&
    preApproval
  ) {
    return { name: 'pre', gate: preApproval }
  }
  if (
    (stage.state === 'deploying' ||
      stage.state === 'baking' ||
      (stage.state === 'awaiting_approval' && stage.gate === 'post')) &&
    postApproval
  ) {
    return { name: 'post', gate: postApproval }
  }
  return null
}

import type { Actor } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { ConflictError, ForbiddenError } from '../errors.js'
import { assertMayDecide, evaluateApprovalGate } from '../release/approval-gate.js'
import type { Approval, ApprovalGateName, BlockedBy } from '../release/release.js'
import { situationOf } from '../release/release-operations.js'
import type { ReleaseSummary } from '../release/release-service.js'
import { activeReleaseStates } from '../release/release-states.js'
import {
  approvalWaitExpired,
  currentStage,
  decideNextStep,
  openGate,
} from '../release/release-step.js'
import type { Store } from '../store.js'
import { sameSubject } from '../subject.js'

/** A stage that waits for an approval the caller may give. */
export interface InboxApproval {
  releaseId: number
  service: string
  version: string
  commit: string | null
  requester: string
  ring: string
  ringOrder: number
  stageId: number
  gate: ApprovalGateName
  /** The role the ring's policy asks for (admins may always approve). */
  role: string
  /** When the stage started waiting. */
  awaitingSince: string | null
  /** When the system rejects it unless approved; null: the ring sets no approval timeout. */
  expiresAt: string | null
  /** Approvals that count now, of `quorum`. */
  approvals: number
  quorum: number
  approvedBy: string[]
}

/** A release the caller asked for that is not moving, and why. */
export interface InboxBlockedRelease {
  /** With the stage it is in (`currentStage`). */
  release: ReleaseSummary
  blockedBy: BlockedBy[]
}

/** What waits for the caller: approvals to give, and their own releases that are stuck. */
export interface Inbox {
  subject: string
  role: string
  approvals: InboxApproval[]
  blockedReleases: InboxBlockedRelease[]
}

/** How many waiting releases the inbox looks at, newest first. */
export const inboxReleaseLimit = 200

/**
 * The inbox of one token's subject and role. It reads only, and applies the same rules as an
 * approval itself (assertMayDecide: the ring's role or admin, never the requester, each person
 * once) and the same decider as a release's blockedBy, so it never offers what would be refused.
 */
export class InboxService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  async inboxOf(actor: Actor): Promise<Inbox> {
    const [approvals, blockedReleases] = await Promise.all([
      this.approvalsFor(actor),
      this.blockedReleasesOf(actor),
    ])
    return { subject: actor.subject, role: actor.role, approvals, blockedReleases }
  }

  private async approvalsFor(actor: Actor): Promise<InboxApproval[]> {
    // Pipelines and viewers never approve: no need to look.
    if (actor.role === 'pipeline' || actor.role === 'viewer') return []
    const read = this.store.read
    const waiting = await read.releases.list({
      states: activeReleaseStates,
      currentStageStates: ['awaiting_approval'],
      limit: inboxReleaseLimit,
    })
    const current = await read.stages.listCurrent(waiting.map((release) => release.id))
    const stageOf = new Map(current.map((stage) => [stage.releaseId, stage]))
    const now = this.clock.now()
    const items = await Promise.all(
      waiting.map(async (release): Promise<InboxApproval | null> => {
        const stage = stageOf.get(release.id)
        const open = stage ? openGate(stage) : null
        // An expired wait takes no decision: the engine is about to reject it.
        if (!stage || !open || approvalWaitExpired(stage, now)) return null
        const decided = (await read.approvals.listByStage(stage.id)).filter(
          (approval: Approval) => approval.gate === open.name,
        )
        const status = evaluateApprovalGate(open.gate, decided, now)
        if (status.rejection !== null || status.satisfied) return null
        try {
          assertMayDecide({
            actor,
            release,
            ring: stage.ring,
            gateName: open.name,
            gate: open.gate,
            existing: decided,
            now,
          })
        } catch (error) {
          if (error instanceof ForbiddenError || error instanceof ConflictError) return null
          throw error
        }
        return {
          releaseId: release.id,
          service: release.service,
          version: release.version,
          commit: release.commit,
          requester: release.requester,
          ring: stage.ring,
          ringOrder: stage.ringOrder,
          stageId: stage.id,
          gate: open.name,
          role: open.gate.role,
          awaitingSince: stage.stateSince,
          expiresAt: stage.approvalExpiresAt,
          approvals: status.approvedBy.length,
          quorum: status.required,
          approvedBy: status.approvedBy,
        }
      }),
    )
    // Oldest wait first: it has waited longest.
    return items
      .filter((item): item is InboxApproval => item !== null)
      .sort(
        (a, b) =>
          (a.awaitingSince ?? '').localeCompare(b.awaitingSince ?? '') || a.releaseId - b.releaseId,
      )
  }

  private async blockedReleasesOf(actor: Actor): Promise<InboxBlockedRelease[]> {
    const read = this.store.read
    const active = await read.releases.list({
      states: activeReleaseStates,
      limit: inboxReleaseLimit,
    })
    const mine = active.filter((release) => sameSubject(release.requester, actor.subject))
    const now = this.clock.now()
    const items = await Promise.all(
      mine.map(async (release): Promise<InboxBlockedRelease | null> => {
        const stages = await read.stages.listByRelease(release.id)
        const step = decideNextStep(await situationOf(read, release, stages), now)
        if (step.kind !== 'wait' || step.blockedBy.length === 0) return null
        const stage = currentStage(stages)
        return {
          release: {
            ...release,
            currentStage:
              stage === null
                ? null
                : {
                    ring: stage.ring,
                    ringOrder: stage.ringOrder,
                    state: stage.state,
                    since: stage.stateSince,
                  },
          },
          blockedBy: step.blockedBy,
        }
      }),
    )
    return items.filter((item): item is InboxBlockedRelease => item !== null)
  }
}

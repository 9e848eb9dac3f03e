import type { Actor } from '../actor.js'
import { ConflictError, ForbiddenError } from '../errors.js'
import type { ApprovalGate } from '../ring-policy.js'
import { canonicalSubject, sameSubject } from '../subject.js'
import type { Approval, ApprovalGateName, Release } from './release.js'

export interface GateStatus {
  required: number
  /** Distinct subjects whose approval counts now (given and not expired). */
  approvedBy: string[]
  missing: number
  rejection: Approval | null
  satisfied: boolean
}

const hourMs = 60 * 60 * 1000

export function approvalExpiresAt(approval: Approval, gate: ApprovalGate): Date {
  return new Date(Date.parse(approval.at) + gate.ttlHours * hourMs)
}

/** Counts what the gate has now: each subject once, expired approvals not at all. */
export function evaluateApprovalGate(
  gate: ApprovalGate,
  approvals: readonly Approval[],
  now: Date,
): GateStatus {
  const rejection = approvals.find((approval) => approval.decision === 'reject') ?? null
  const approvedBy = distinctSubjects(
    approvals
      .filter(
        (approval) =>
          approval.decision === 'approve' &&
          approvalExpiresAt(approval, gate).getTime() > now.getTime(),
      )
      .map((approval) => approval.subject),
  )
  const missing = Math.max(0, gate.minApprovals - approvedBy.length)
  return {
    required: gate.minApprovals,
    approvedBy,
    missing,
    rejection,
    satisfied: rejection === null && missing === 0,
  }
}

/** Each identity once, as it was first written (`Jane` and `jane` are one person). */
export function distinctSubjects(subjects: readonly string[]): string[] {
  const seen = new Map<string, string>()
  for (const subject of subjects) {
    const canonical = canonicalSubject(subject)
    if (!seen.has(canonical)) seen.set(canonical, subject)
  }
  return [...seen.values()]
}

export interface ApprovalAttempt {
  actor: Actor
  release: Release
  ring: string
  gateName: ApprovalGateName
  gate: ApprovalGate
  /** Decisions already recorded for this stage's gate. */
  existing: readonly Approval[]
  now: Date
}

/** Refuses an approval or rejection with the exact rule that forbids it. */
export function assertMayDecide(attempt: ApprovalAttempt): void {
  const { actor, release, ring, gateName, gate, existing, now } = attempt
  const gateText = `the ${gateName}-approval of ${ring} requires ${gate.minApprovals} approval${gate.minApprovals === 1 ? '' : 's'} from role ${gate.role}`
  if (actor.role === 'pipeline') {
    throw new ForbiddenError(
      'pipeline-cannot-approve',
      `${gateText}; a pipeline token never approves, ask a person with role ${gate.role}`,
    )
  }
  if (actor.role !== gate.role && actor.role !== 'admin') {
    throw new ForbiddenError(
      'approval-role-required',
      `${gateText}; your token has role ${actor.role}`,
      { requiredRole: gate.role, role: actor.role },
    )
  }
  if (sameSubject(actor.subject, release.requester)) {
    throw new ForbiddenError(
      'requester-cannot-approve',
      `${gateText}; you requested release ${release.id} and cannot approve it`,
      { requester: release.requester },
    )
  }
  const mine = existing.find(
    (approval) =>
      sameSubject(approval.subject, actor.subject) &&
      (approval.decision === 'reject' || approvalExpiresAt(approval, gate) > now),
  )
  if (mine) {
    throw new ConflictError(
      'already-decided',
      `${actor.subject} already decided '${mine.decision}' on the ${gateName}-approval of ${ring} at ${mine.at}; each person counts once`,
      { approvalId: mine.id },
    )
  }
}

export function describeMissingApprovals(
  ring: string,
  gateName: ApprovalGateName,
  gate: ApprovalGate,
  status: GateStatus,
): string {
  return `needs ${status.missing} more approval${status.missing === 1 ? '' : 's'} from role ${gate.role} (${gateName}-approval of ${ring}: ${status.approvedBy.length} of ${status.required})`
}

import t, { type Test } from 'tap'
import type { Actor } from '../../src/actor.js'
import { ConflictError, DomainError, ForbiddenError } from '../../src/errors.js'
import {
  type ApprovalAttempt,
  approvalExpiresAt,
  assertMayDecide,
  describeMissingApprovals,
  evaluateApprovalGate,
  type GateStatus,
} from '../../src/release/approval-gate.js'
import type { Approval, ApprovalDecision, Release } from '../../src/release/release.js'
import type { ApprovalGate } from '../../src/ring-policy.js'
import type { Role } from '../../src/roles.js'

const now = new Date('2025-03-10T12:00:00.000Z')
const hourMs = 60 * 60 * 1000

function hoursAgo(hours: number): string {
  return new Date(now.getTime() - hours * hourMs).toISOString()
}

let nextApprovalId = 1
function approval(
  subject: string,
  decision: ApprovalDecision = 'approve',
  at: string = hoursAgo(1),
): Approval {
  return {
    id: nextApprovalId++,
    releaseId: 42,
    stageId: 2,
    ring: 'ring-1',
    gate: 'pre',
    subject,
    role: 'approver',
    decision,
    comment: '',
    at,
  }
}

function actor(subject: string, role: Role): Actor {
  return { tokenId: `tok-${subject}`, tokenName: `${subject}'s token`, subject, role, ring: null }
}

const release: Release = {
  id: 42,
  service: 'payments',
  version: '1.4.0',
  commit: null,
  commitTime: null,
  buildUrl: null,
  notes: '',
  kind: 'standard',
  reason: null,
  requester: 'rita',
  ringFrom: 'ring-0',
  ringTo: 'ring-2',
  state: 'in_progress',
  halt: null,
  outcome: null,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  incidentId: null,
  createdAt: hoursAgo(2),
  updatedAt: hoursAgo(2),
  finishedAt: null,
}

const twoApprovers: ApprovalGate = { role: 'approver', minApprovals: 2, ttlHours: 24 }
const oneApprover: ApprovalGate = { role: 'approver', minApprovals: 1, ttlHours: 24 }
const oneSre: ApprovalGate = { role: 'sre', minApprovals: 1, ttlHours: 4 }
const oneAdmin: ApprovalGate = { role: 'admin', minApprovals: 1, ttlHours: 8 }

t.test('approvalExpiresAt adds the gate’s ttl to the decision time', async (t) => {
  const given = approval('bob', 'approve', '2025-03-10T10:30:00.000Z')
  t.equal(approvalExpiresAt(given, oneSre).toISOString(), '2025-03-10T14:30:00.000Z')
  t.equal(approvalExpiresAt(given, twoApprovers).toISOString(), '2025-03-11T10:30:00.000Z')
})

t.test('evaluateApprovalGate counts what the gate has now', async (t) => {
  const rejectByCarl = approval('carl', 'reject')
  const oldRejection = approval('carl', 'reject', hoursAgo(100))
  const cases: {
    name: string
    gate: ApprovalGate
    approvals: Approval[]
    expected: Omit<GateStatus, 'rejection'> & { rejection: Approval | null }
  }[] = [
    {
      name: 'nothing yet',
      gate: twoApprovers,
      approvals: [],
      expected: { required: 2, approvedBy: [], missing: 2, rejection: null, satisfied: false },
    },
    {
      name: 'one of two',
      gate: twoApprovers,
      approvals: [approval('bob')],
      expected: { required: 2, approvedBy: ['bob'], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'two distinct subjects',
      gate: twoApprovers,
      approvals: [approval('bob'), approval('alice')],
      expected: {
        required: 2,
        approvedBy: ['bob', 'alice'],
        missing: 0,
        rejection: null,
        satisfied: true,
      },
    },
    {
      name: 'the same subject in two spellings counts once, as first written',
      gate: twoApprovers,
      approvals: [approval('Bob'), approval('BOB', 'approve', hoursAgo(2))],
      expected: { required: 2, approvedBy: ['Bob'], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'the same subject twice counts once',
      gate: twoApprovers,
      approvals: [approval('bob'), approval('bob', 'approve', hoursAgo(2))],
      expected: { required: 2, approvedBy: ['bob'], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'more approvals than needed never go below zero missing',
      gate: oneApprover,
      approvals: [approval('bob'), approval('alice'), approval('dave')],
      expected: {
        required: 1,
        approvedBy: ['bob', 'alice', 'dave'],
        missing: 0,
        rejection: null,
        satisfied: true,
      },
    },
    {
      name: 'an approval past its ttl does not count',
      gate: twoApprovers,
      approvals: [approval('bob', 'approve', hoursAgo(25)), approval('alice')],
      expected: {
        required: 2,
        approvedBy: ['alice'],
        missing: 1,
        rejection: null,
        satisfied: false,
      },
    },
    {
      name: 'an approval expiring exactly now does not count',
      gate: oneSre,
      approvals: [approval('bob', 'approve', hoursAgo(4))],
      expected: { required: 1, approvedBy: [], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'an approval a moment before its ttl still counts',
      gate: oneSre,
      approvals: [
        approval('bob', 'approve', new Date(now.getTime() - 4 * hourMs + 1).toISOString()),
      ],
      expected: { required: 1, approvedBy: ['bob'], missing: 0, rejection: null, satisfied: true },
    },
    {
      name: 'the ttl is the gate’s: 5 hours is fresh for 24h, stale for 4h',
      gate: oneSre,
      approvals: [approval('bob', 'approve', hoursAgo(5))],
      expected: { required: 1, approvedBy: [], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'an expired and a fresh approval from one subject count once',
      gate: twoApprovers,
      approvals: [approval('bob', 'approve', hoursAgo(30)), approval('bob')],
      expected: { required: 2, approvedBy: ['bob'], missing: 1, rejection: null, satisfied: false },
    },
    {
      name: 'a rejection blocks a gate that has enough approvals',
      gate: twoApprovers,
      approvals: [approval('bob'), rejectByCarl, approval('alice')],
      expected: {
        required: 2,
        approvedBy: ['bob', 'alice'],
        missing: 0,
        rejection: rejectByCarl,
        satisfied: false,
      },
    },
    {
      name: 'a rejection does not count as an approval',
      gate: oneApprover,
      approvals: [rejectByCarl],
      expected: {
        required: 1,
        approvedBy: [],
        missing: 1,
        rejection: rejectByCarl,
        satisfied: false,
      },
    },
    {
      name: 'a rejection does not expire',
      gate: oneSre,
      approvals: [oldRejection, approval('bob')],
      expected: {
        required: 1,
        approvedBy: ['bob'],
        missing: 0,
        rejection: oldRejection,
        satisfied: false,
      },
    },
  ]
  for (const { name, gate, approvals, expected } of cases) {
    t.strictSame(evaluateApprovalGate(gate, approvals, now), expected, name)
  }
})

t.test('the first rejection is the one reported', async (t) => {
  const first = approval('carl', 'reject', hoursAgo(3))
  const second = approval('dave', 'reject', hoursAgo(1))
  t.equal(evaluateApprovalGate(oneApprover, [approval('bob'), first, second], now).rejection, first)
})

function attempt(overrides: Partial<ApprovalAttempt>): ApprovalAttempt {
  return {
    actor: actor('bob', 'approver'),
    release,
    ring: 'ring-1',
    gateName: 'pre',
    gate: twoApprovers,
    existing: [],
    now,
    ...overrides,
  }
}

function expectRefusal(
  t: Test,
  name: string,
  given: ApprovalAttempt,
  type: typeof ForbiddenError | typeof ConflictError,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  try {
    assertMayDecide(given)
    t.fail(`${name} was allowed`)
  } catch (error) {
    t.type(error, type, name)
    t.type(error, DomainError, name)
    const domainError = error as DomainError
    t.equal(domainError.code, code, `${name}: code`)
    t.equal(domainError.message, message, `${name}: message`)
    if (details) t.strictSame(domainError.details, details, `${name}: details`)
  }
}

t.test('assertMayDecide refuses with the exact rule', async (t) => {
  const cases: {
    name: string
    attempt: ApprovalAttempt
    type: typeof ForbiddenError | typeof ConflictError
    code: string
    message: string
    details?: Record<string, unknown>
  }[] = [
    {
      name: 'a pipeline token',
      attempt: attempt({ actor: actor('ci', 'pipeline') }),
      type: ForbiddenError,
      code: 'pipeline-cannot-approve',
      message:
        'the pre-approval of ring-1 requires 2 approvals from role approver; a pipeline token never approves, ask a person with role approver',
    },
    {
      name: 'a pipeline token that is also the requester',
      attempt: attempt({ actor: actor('rita', 'pipeline'), gate: oneSre, gateName: 'post' }),
      type: ForbiddenError,
      code: 'pipeline-cannot-approve',
      message:
        'the post-approval of ring-1 requires 1 approval from role sre; a pipeline token never approves, ask a person with role sre',
    },
    {
      name: 'a viewer',
      attempt: attempt({ actor: actor('vic', 'viewer') }),
      type: ForbiddenError,
      code: 'approval-role-required',
      message:
        'the pre-approval of ring-1 requires 2 approvals from role approver; your token has role viewer',
      details: { requiredRole: 'approver', role: 'viewer' },
    },
    {
      name: 'an sre on an approver gate',
      attempt: attempt({ actor: actor('sam', 'sre') }),
      type: ForbiddenError,
      code: 'approval-role-required',
      message:
        'the pre-approval of ring-1 requires 2 approvals from role approver; your token has role sre',
      details: { requiredRole: 'approver', role: 'sre' },
    },
    {
      name: 'an approver on an sre gate',
      attempt: attempt({ gate: oneSre, gateName: 'post', ring: 'ring-2' }),
      type: ForbiddenError,
      code: 'approval-role-required',
      message:
        'the post-approval of ring-2 requires 1 approval from role sre; your token has role approver',
      details: { requiredRole: 'sre', role: 'approver' },
    },
    {
      name: 'an approver on an admin gate',
      attempt: attempt({ gate: oneAdmin }),
      type: ForbiddenError,
      code: 'approval-role-required',
      message:
        'the pre-approval of ring-1 requires 1 approval from role admin; your token has role approver',
      details: { requiredRole: 'admin', role: 'approver' },
    },
    {
      name: 'a requester with the right role',
      attempt: attempt({ actor: actor('rita', 'approver'), gate: oneApprover }),
      type: ForbiddenError,
      code: 'requester-cannot-approve',
      message:
        'the pre-approval of ring-1 requires 1 approval from role approver; you requested release 42 and cannot approve it',
      details: { requester: 'rita' },
    },
    {
      name: 'a requester whose token spells the subject in capitals',
      attempt: attempt({ actor: actor('RITA', 'approver'), gate: oneApprover }),
      type: ForbiddenError,
      code: 'requester-cannot-approve',
      message:
        'the pre-approval of ring-1 requires 1 approval from role approver; you requested release 42 and cannot approve it',
      details: { requester: 'rita' },
    },
    {
      name: 'a requester whose token spells the subject in full-width letters',
      attempt: attempt({ actor: actor('\uff32\uff49\uff54\uff41', 'approver'), gate: oneApprover }),
      type: ForbiddenError,
      code: 'requester-cannot-approve',
      message:
        'the pre-approval of ring-1 requires 1 approval from role approver; you requested release 42 and cannot approve it',
      details: { requester: 'rita' },
    },
    {
      name: 'a requester who is an admin',
      attempt: attempt({ actor: actor('rita', 'admin') }),
      type: ForbiddenError,
      code: 'requester-cannot-approve',
      message:
        'the pre-approval of ring-1 requires 2 approvals from role approver; you requested release 42 and cannot approve it',
    },
    {
      name: 'a requester with the wrong role hears about the role first',
      attempt: attempt({ actor: actor('rita', 'viewer') }),
      type: ForbiddenError,
      code: 'approval-role-required',
      message:
        'the pre-approval of ring-1 requires 2 approvals from role approver; your token has role viewer',
    },
    {
      name: 'a second approval from the same person',
      attempt: attempt({
        existing: [
          approval('alice'),
          { ...approval('bob', 'approve', '2025-03-10T09:00:00.000Z'), id: 501 },
        ],
      }),
      type: ConflictError,
      code: 'already-decided',
      message:
        "bob already decided 'approve' on the pre-approval of ring-1 at 2025-03-10T09:00:00.000Z; each person counts once",
      details: { approvalId: 501 },
    },
    {
      name: 'a second approval from the same person under another spelling',
      attempt: attempt({
        actor: actor('Bob', 'approver'),
        existing: [{ ...approval('bob', 'approve', '2025-03-10T09:00:00.000Z'), id: 504 }],
      }),
      type: ConflictError,
      code: 'already-decided',
      message:
        "Bob already decided 'approve' on the pre-approval of ring-1 at 2025-03-10T09:00:00.000Z; each person counts once",
      details: { approvalId: 504 },
    },
    {
      name: 'a decision after a rejection, however old',
      attempt: attempt({
        gate: oneSre,
        gateName: 'post',
        actor: actor('bob', 'sre'),
        existing: [{ ...approval('bob', 'reject', '2025-03-01T09:00:00.000Z'), id: 502 }],
      }),
      type: ConflictError,
      code: 'already-decided',
      message:
        "bob already decided 'reject' on the post-approval of ring-1 at 2025-03-01T09:00:00.000Z; each person counts once",
      details: { approvalId: 502 },
    },
    {
      name: 'an admin deciding twice',
      attempt: attempt({
        actor: actor('ada', 'admin'),
        existing: [{ ...approval('ada', 'approve', hoursAgo(23)), id: 503 }],
      }),
      type: ConflictError,
      code: 'already-decided',
      message: `ada already decided 'approve' on the pre-approval of ring-1 at ${hoursAgo(23)}; each person counts once`,
    },
  ]
  for (const c of cases) {
    expectRefusal(t, c.name, c.attempt, c.type, c.code, c.message, c.details)
  }
})

t.test('the refusals are not mixed up', async (t) => {
  t.notOk(new ConflictError('x', 'y') instanceof ForbiddenError)
  t.notOk(new ForbiddenError('x', 'y') instanceof ConflictError)
})

t.test('assertMayDecide lets these through', async (t) => {
  const cases: { name: string; attempt: ApprovalAttempt }[] = [
    { name: 'an approver on an approver gate', attempt: attempt({}) },
    {
      name: 'an sre on an sre gate',
      attempt: attempt({ actor: actor('sam', 'sre'), gate: oneSre }),
    },
    { name: 'an admin on an approver gate', attempt: attempt({ actor: actor('ada', 'admin') }) },
    {
      name: 'an admin on an sre gate',
      attempt: attempt({ actor: actor('ada', 'admin'), gate: oneSre }),
    },
    {
      name: 'an admin on an admin gate',
      attempt: attempt({ actor: actor('ada', 'admin'), gate: oneAdmin }),
    },
    {
      name: 'someone else already approved',
      attempt: attempt({ existing: [approval('alice'), approval('carl', 'reject')] }),
    },
    {
      name: 'again after the earlier approval expired',
      attempt: attempt({ existing: [approval('bob', 'approve', hoursAgo(25))] }),
    },
    {
      name: 'again when the earlier approval expires exactly now',
      attempt: attempt({
        gate: oneSre,
        actor: actor('bob', 'sre'),
        existing: [approval('bob', 'approve', hoursAgo(4))],
      }),
    },
    {
      name: 'a rejection is allowed too',
      attempt: attempt({ existing: [approval('alice')] }),
    },
  ]
  for (const { name, attempt: given } of cases) {
    t.doesNotThrow(() => assertMayDecide(given), name)
  }
})

t.test('the same approval is refused an hour before it expires and allowed after', async (t) => {
  const earlier = approval('bob', 'approve', '2025-03-09T13:00:00.000Z')
  const before = attempt({ existing: [earlier], now: new Date('2025-03-10T12:00:00.000Z') })
  const after = attempt({ existing: [earlier], now: new Date('2025-03-10T13:00:00.001Z') })
  t.throws(() => assertMayDecide(before), { code: 'already-decided' })
  t.doesNotThrow(() => assertMayDecide(after))
})

t.test('describeMissingApprovals says what is missing', async (t) => {
  const cases: {
    name: string
    ring: string
    gateName: 'pre' | 'post'
    gate: ApprovalGate
    approvals: Approval[]
    text: string
  }[] = [
    {
      name: 'one of one missing',
      ring: 'ring-1',
      gateName: 'pre',
      gate: oneApprover,
      approvals: [],
      text: 'needs 1 more approval from role approver (pre-approval of ring-1: 0 of 1)',
    },
    {
      name: 'one of two missing',
      ring: 'ring-1',
      gateName: 'pre',
      gate: twoApprovers,
      approvals: [approval('bob')],
      text: 'needs 1 more approval from role approver (pre-approval of ring-1: 1 of 2)',
    },
    {
      name: 'two missing, plural, expired approvals not counted',
      ring: 'ring-2',
      gateName: 'post',
      gate: { role: 'sre', minApprovals: 2, ttlHours: 4 },
      approvals: [approval('sam', 'approve', hoursAgo(6))],
      text: 'needs 2 more approvals from role sre (post-approval of ring-2: 0 of 2)',
    },
  ]
  for (const { name, ring, gateName, gate, approvals, text } of cases) {
    const status = evaluateApprovalGate(gate, approvals, now)
    t.equal(describeMissingApprovals(ring, gateName, gate, status), text, name)
  }
})

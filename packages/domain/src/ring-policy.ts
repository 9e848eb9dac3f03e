import { InvalidInputError } from './errors.js'

export const approvalRoles = ['approver', 'admin', 'sre'] as const
export type ApprovalRole = (typeof approvalRoles)[number]

export interface ApprovalGate {
  role: ApprovalRole
  minApprovals: number
  ttlHours: number
}

export interface HealthThresholds {
  maxErrorRate?: number | undefined
  maxP99Ms?: number | undefined
}

/** How a release moves through one ring. The promotion engine enforces it. */
export interface RingPolicy {
  preApproval: ApprovalGate | null
  postApproval: ApprovalGate | null
  bakeMinutes: number
  maxParallel: number
  manualPromotion: boolean
  autoRollback: boolean
  health: HealthThresholds
}

export type RingPolicyInput = Partial<RingPolicy>

export const defaultRingPolicy: RingPolicy = Object.freeze({
  preApproval: null,
  postApproval: null,
  bakeMinutes: 0,
  maxParallel: 1,
  manualPromotion: false,
  autoRollback: true,
  health: {},
})

/** Fills omitted fields with the defaults: no approvals, no bake, one scale unit at a time. */
export function resolveRingPolicy(input: RingPolicyInput | undefined): RingPolicy {
  const policy: RingPolicy = {
    ...defaultRingPolicy,
    ...definedFields(input ?? {}),
    health: { ...(input?.health ?? {}) },
  }
  assertRingPolicy(policy)
  return policy
}

/** Applies a partial change to a stored policy; `health` is replaced as a whole when given. */
export function mergeRingPolicy(current: RingPolicy, change: RingPolicyInput): RingPolicy {
  return resolveRingPolicy({ ...current, ...definedFields(change) })
}

/** `{ bakeMinutes: undefined }` means "not given", not "unset the default". */
function definedFields(input: RingPolicyInput): RingPolicyInput {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))
}

function assertRingPolicy(policy: RingPolicy): void {
  for (const gateName of ['preApproval', 'postApproval'] as const) {
    const gate = policy[gateName]
    if (gate && gate.minApprovals < 1) {
      throw new InvalidInputError(
        'invalid-ring-policy',
        `policy.${gateName}.minApprovals must be at least 1; use null for no approval`,
      )
    }
  }
  if (policy.maxParallel < 1) {
    throw new InvalidInputError('invalid-ring-policy', 'policy.maxParallel must be at least 1')
  }
}

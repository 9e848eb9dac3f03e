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
  /** How long a stage waits for an approval before the system rejects it; null: it waits. */
  approvalTimeoutMinutes: number | null
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
  approvalTimeoutMinutes: null,
  maxParallel: 1,
  manualPromotion: false,
  autoRollback: true,
  health: {},
})

/**
 * Fills omitted fields with the defaults: no approvals, no bake, no approval timeout, one scale
 * unit at a time.
 */
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
  const timeout = policy.approvalTimeoutMinutes
  if (timeout !== null && (!Number.isInteger(timeout) || timeout < 1)) {
    throw new InvalidInputError(
      'invalid-ring-policy',
      'policy.approvalTimeoutMinutes must be a whole number of minutes, at least 1; use null for no timeout',
    )
  }
  if (policy.maxParallel < 1) {
    throw new InvalidInputError('invalid-ring-policy', 'policy.maxParallel must be at least 1')
  }
}

/** A policy as stored before a field existed reads with that field at its default. */
export function storedRingPolicy(stored: RingPolicyInput): RingPolicy {
  return { ...defaultRingPolicy, ...stored } as RingPolicy
}

/** "4h", "90min" → "1h 30min": a duration in minutes as people write it. */
export function formatMinutes(minutes: number): string {
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  if (hours === 0) return `${rest}min`
  return rest === 0 ? `${hours}h` : `${hours}h ${rest}min`
}

import { approvalRoles, defaultRingPolicy } from '@ringmaster/domain'
import { type Static, Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

export const ApprovalGate = Type.Object(
  {
    role: StringEnum(approvalRoles, 'The role an approver must have'),
    minApprovals: Type.Integer({
      minimum: 1,
      maximum: 20,
      description: 'How many distinct approvers are needed',
    }),
    ttlHours: Type.Number({
      exclusiveMinimum: 0,
      maximum: 8760,
      description: 'How long an approval stays valid',
    }),
  },
  {
    $id: 'ApprovalGate',
    additionalProperties: false,
    description: 'An approval gate: which role approves, how many, and for how long',
  },
)

export const HealthThresholds = Type.Object(
  {
    maxErrorRate: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Highest tolerated error rate (0–1)' }),
    ),
    maxP99Ms: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'Highest tolerated p99 latency in ms' }),
    ),
  },
  {
    $id: 'HealthThresholds',
    additionalProperties: false,
    description: 'Health gate thresholds; {} for none',
  },
)

const policyFields = {
  preApproval: Nullable(ApprovalGate, {
    description: 'Approval needed before the ring deploys; null for none',
  }),
  postApproval: Nullable(ApprovalGate, {
    description: 'Approval needed after the ring bakes, before the next ring; null for none',
  }),
  bakeMinutes: Type.Integer({
    minimum: 0,
    maximum: 43200,
    description: 'How long the ring must stay healthy before promotion',
  }),
  approvalTimeoutMinutes: Nullable(
    Type.Integer({
      minimum: 1,
      maximum: 43200,
      description:
        'How long a stage may await approval before the system rejects it; null: no limit',
    }),
  ),
  maxParallel: Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'How many scale units of the ring deploy at once (the wave size)',
  }),
  manualPromotion: Type.Boolean({
    description: 'When true a person must promote the release out of this ring',
  }),
  autoRollback: Type.Boolean({
    description: 'When true a failed health gate rolls the ring back to the previous version',
  }),
  health: HealthThresholds,
}

export const RingPolicy = Type.Object(policyFields, {
  $id: 'RingPolicy',
  additionalProperties: false,
  description: 'How a release moves through the ring',
})

export const RingPolicyInput = Type.Partial(Type.Object(policyFields), {
  $id: 'RingPolicyInput',
  additionalProperties: false,
  description:
    'How a release moves through the ring. Omitted fields keep their value (defaults on create: no approvals, bake 0, no approval timeout, maxParallel 1, automatic promotion, autoRollback true, no health thresholds)',
})

export const Ring = Type.Object(
  {
    name: Type.String({ description: 'The ring name, unique' }),
    order: Type.Integer({ description: 'Position in the rollout; ring 0 goes first' }),
    description: Type.String({ description: 'Who is in the ring' }),
    policy: RingPolicy,
    scaleUnits: Type.Array(Type.String(), { description: 'Names of the scale units in the ring' }),
    createdAt: Timestamp('When the ring was created'),
    updatedAt: Timestamp('When the ring last changed'),
  },
  {
    $id: 'Ring',
    description: 'A deployment ring: who is in it and how releases move through it',
    additionalProperties: false,
  },
)

const order = Type.Integer({
  minimum: 0,
  maximum: 1000,
  description: 'Position in the rollout, unique; 0 is the first ring',
})
const description = Type.String({ maxLength: 1000, description: 'Who is in the ring' })

export const CreateRingBody = Type.Object(
  {
    name: Name('The ring name, e.g. ring-0'),
    order,
    description: Type.Optional(description),
    // The default is the domain's, published: the CLI reads it from the document, so a
    // declarative `topology apply` resets an omitted policy to exactly what the server gives.
    policy: Type.Optional(
      Type.Unsafe<Static<typeof RingPolicyInput>>({
        ...RingPolicyInput,
        default: structuredClone(defaultRingPolicy),
      }),
    ),
  },
  { additionalProperties: false },
)

export const UpdateRingBody = Type.Object(
  {
    order: Type.Optional(order),
    description: Type.Optional(description),
    policy: Type.Optional(RingPolicyInput),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const RingList = Type.Object(
  { rings: Type.Array(Ring, { description: 'Every ring, in rollout order' }) },
  { $id: 'RingList', description: 'Every ring, in rollout order', additionalProperties: false },
)

export const RingParams = Type.Object(
  { name: Name('The ring name') },
  { additionalProperties: false },
)

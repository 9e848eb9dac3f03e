import {
  haltScopes,
  healthStatuses,
  releaseListStates,
  releaseStates,
  stageStates,
} from '@ringmaster/domain'
import { Type } from 'typebox'
import { Described, Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'
import { Deployment } from '../deployments/deployment-schemas.js'
import { HealthThresholds, RingPolicy } from '../rings/ring-schemas.js'

const Version = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
  description: 'The version being released, e.g. 2.4.1 or 2026.11.23-3',
})

export const Reason = (description: string) =>
  Type.String({ minLength: 1, maxLength: 2000, description })

export const ReasonBody = Type.Object(
  { reason: Reason('Why you do it; recorded in the audit trail') },
  {
    $id: 'ReasonInput',
    additionalProperties: false,
    description: 'Why a person acts on a release, for the audit trail',
  },
)

export const CreateReleaseBody = Type.Object(
  {
    service: Name('The service being released; it must exist'),
    version: Version,
    commit: Type.Optional(
      Type.String({
        minLength: 7,
        maxLength: 64,
        pattern: '^[0-9a-fA-F]+$',
        description: 'The commit the version was built from (hex)',
      }),
    ),
    commitTime: Type.Optional(Timestamp('When that commit was made, for lead-time reports')),
    buildUrl: Type.Optional(
      Type.String({
        format: 'uri',
        maxLength: 2000,
        description: 'Link to the build that produced the version',
      }),
    ),
    notes: Type.Optional(
      Type.String({ maxLength: 10000, description: 'Release notes for the people approving it' }),
    ),
    rings: Type.Optional(
      Type.Object(
        {
          from: Type.Optional(
            Name('First ring; defaults to the first ring. A standard release must start there'),
          ),
          to: Type.Optional(Name('Last ring; defaults to the last ring')),
        },
        {
          additionalProperties: false,
          description:
            'The range of rings to go through, e.g. { "from": "ring-0", "to": "ring-2" }; default all',
        },
      ),
    ),
    kind: Type.Optional(
      StringEnum(
        ['standard', 'hotfix'],
        'standard (default) or hotfix; a hotfix needs a reason and may start at any ring of its range',
      ),
    ),
    reason: Type.Optional(Reason('Why this release exists; required for a hotfix')),
    incidentId: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'The incident this release fixes. Its trace links to the incident and to the release the incident blames; a hotfix with it counts towards the rework rate',
      }),
    ),
  },
  { additionalProperties: false },
)

export const ReleaseHalt = Type.Object(
  {
    by: Type.String({ description: 'Who stopped it (a subject, "system" or "health gate")' }),
    reason: Type.String({ description: 'Why' }),
    cause: StringEnum(['manual', 'deployment_failed', 'health_failed'], 'What stopped it'),
    at: Timestamp('When it stopped'),
    resumeTo: StringEnum(['queued', 'in_progress'], 'The state a resume returns it to'),
  },
  {
    $id: 'ReleaseHalt',
    additionalProperties: false,
    description: 'Why the release is halted; null when it is not',
  },
)

export const CurrentStage = Type.Object(
  {
    ring: Type.String({ description: 'The ring it is in' }),
    ringOrder: Type.Integer({ description: "That ring's order" }),
    state: StringEnum(stageStates, 'What the stage is doing there'),
    since: Nullable(Timestamp('Since when')),
  },
  {
    $id: 'CurrentStage',
    additionalProperties: false,
    description: 'The stage a release is working on: its first that has not succeeded',
  },
)

const releaseFields = {
  id: Type.Integer({ description: 'The release id; increases with every release' }),
  service: Type.String({ description: 'The service released' }),
  version: Type.String({ description: 'The version released' }),
  commit: Nullable(Type.String({ description: 'The commit it was built from' })),
  commitTime: Nullable(Timestamp('When that commit was made')),
  buildUrl: Nullable(Type.String({ description: 'Link to the build' })),
  notes: Type.String({ description: 'Release notes' }),
  kind: StringEnum(['standard', 'hotfix'], 'standard or hotfix'),
  reason: Nullable(
    Type.String({ description: 'Why this release exists (always set for a hotfix)' }),
  ),
  requester: Type.String({
    description: 'Subject of the token that created it; never its approver',
  }),
  ringFrom: Type.String({ description: 'First ring of its range' }),
  ringTo: Type.String({ description: 'Last ring of its range' }),
  state: StringEnum(
    releaseStates,
    'Where the release is: queued, in_progress, succeeded, failed, halted, rolled_back, cancelled or superseded',
  ),
  halt: Nullable(ReleaseHalt),
  outcome: Nullable(Type.String({ description: 'How it ended, in words, once it has' })),
  traceId: Type.String({
    pattern: '^[0-9a-f]{32}$',
    description:
      'The OpenTelemetry trace of its rollout: search for it in Jaeger or Tempo. A rollback gets its own trace, linked to this one',
  }),
  incidentId: Nullable(Type.Integer({ description: 'The incident this release fixes' })),
  createdAt: Timestamp('When it was created'),
  updatedAt: Timestamp('When it last changed'),
  finishedAt: Nullable(Timestamp('When it reached a final state')),
  currentStage: Type.Optional(
    Nullable(CurrentStage, {
      description: 'In lists and the inbox: where it is (null once every stage succeeded)',
    }),
  ),
}

export const Release = Type.Object(releaseFields, {
  $id: 'Release',
  description: 'A release walking the rings, without its stages',
  additionalProperties: false,
})

export const Approval = Type.Object(
  {
    id: Type.Integer({ description: 'The approval id' }),
    releaseId: Type.Integer({ description: 'The release it is for' }),
    stageId: Type.Integer({ description: 'The stage it is for' }),
    ring: Type.String({ description: 'The ring of that stage' }),
    gate: StringEnum(['pre', 'post'], 'Before the ring deploys (pre) or after it bakes (post)'),
    subject: Type.String({ description: 'Who decided; each subject counts once' }),
    role: Type.String({ description: 'The role of their token' }),
    decision: StringEnum(['approve', 'reject'], 'What they decided'),
    comment: Type.String({ description: 'What they said' }),
    at: Timestamp('When they decided; approvals expire ttlHours later'),
  },
  { $id: 'Approval', description: 'One approval decision at a gate', additionalProperties: false },
)

export const Stage = Type.Object(
  {
    id: Type.Integer({ description: 'The stage id' }),
    releaseId: Type.Integer({ description: 'The release it belongs to' }),
    position: Type.Integer({ description: '0 for the first ring of the release' }),
    ring: Type.String({ description: 'The ring' }),
    ringOrder: Type.Integer({ description: 'The ring order when the release was made' }),
    policy: RingPolicy,
    waves: Type.Array(
      Type.Array(Type.String({ description: 'A scale unit name' }), {
        description: 'One wave: scale units deploying together',
      }),
      {
        description:
          'Scale units in deployment order, at most maxParallel per wave; region pairs never share a wave',
      },
    ),
    state: StringEnum(
      stageStates,
      'pending, awaiting_approval, deploying, baking, awaiting_promotion, succeeded, failed or rolled_back',
    ),
    currentWave: Type.Integer({
      description: 'Index of the latest wave started; -1 before the first',
    }),
    gate: Nullable(StringEnum(['pre', 'post'], 'The approval gate being waited on')),
    stateSince: Nullable(Timestamp('When the stage entered its current state')),
    waveStartedAt: Nullable(Timestamp('When its latest wave started')),
    startedAt: Nullable(Timestamp('When the release entered the ring')),
    deployedAt: Nullable(Timestamp('When every wave had deployed')),
    bakeUntil: Nullable(Timestamp('When the bake ends')),
    approvalExpiresAt: Nullable(
      Timestamp('When its approval wait expires and the system rejects it; null: no timeout'),
    ),
    finishedAt: Nullable(Timestamp('When the stage ended')),
    freezeOverride: Nullable(
      Type.Object(
        {
          by: Type.String({ description: 'The admin who overrode the freeze' }),
          reason: Type.String({ description: 'Why' }),
          at: Timestamp('When'),
        },
        {
          additionalProperties: false,
          description: 'An admin let this stage start during a freeze window',
        },
      ),
    ),
    deployments: Type.Array(Deployment, { description: 'Deployments to the ring, oldest first' }),
    approvals: Type.Array(Approval, {
      description: 'Approval decisions for the ring, oldest first',
    }),
  },
  {
    $id: 'Stage',
    description: 'A release in one ring: its waves, deployments, approvals and timing',
    additionalProperties: false,
  },
)

export const HoldingHalt = Type.Object(
  {
    id: Nullable(
      Type.Integer({
        description:
          "The halt to lift (DELETE /v1/halts/{id}); null for the release's own halt, which a resume ends",
      }),
    ),
    scope: StringEnum(
      [...haltScopes, 'release'],
      "global, service or ring (a stop of the line; an incident's is a service halt), or release (this release's own halt)",
    ),
    target: Nullable(
      Type.String({ description: 'The service, ring or release id halted; null for global' }),
    ),
    reason: Type.String({ description: 'Why it was stopped' }),
    by: Type.String({ description: 'Who stopped it (system, health gate: the promotion engine)' }),
    since: Timestamp('When it was stopped'),
    incidentId: Nullable(Type.Integer({ description: 'The incident that stopped the line' })),
  },
  { $id: 'HoldingHalt', additionalProperties: false, description: 'A halt that holds the release' },
)

export const BlockedBy = Type.Object(
  {
    kind: StringEnum(
      ['approval', 'bake', 'halt', 'freeze', 'ring-occupied', 'deployments', 'promotion'],
      'What kind of thing it waits for',
    ),
    message: Type.String({
      description: 'What it waits for, for a person: "needs 1 more approval from role approver"',
    }),
    until: Type.Optional(Timestamp('When the wait ends by itself, if it does')),
    halt: Type.Optional(HoldingHalt),
  },
  { $id: 'BlockedBy', description: 'One thing the release waits for', additionalProperties: false },
)

const { currentStage: _listOnly, ...detailFields } = releaseFields

export const ReleaseDetail = Type.Object(
  {
    ...detailFields,
    stages: Type.Array(Stage, { description: 'One stage per ring of the range, in ring order' }),
    blockedBy: Type.Array(BlockedBy, {
      description: 'Why the release is not moving right now; empty when it is moving or done',
    }),
  },
  {
    $id: 'ReleaseDetail',
    description: 'A release with its stages and what it waits for',
    additionalProperties: false,
  },
)

export const ReleaseList = Type.Object(
  {
    releases: Type.Array(Release, { description: 'Newest first, each with its currentStage' }),
    nextBefore: Nullable(
      Type.Integer({ description: 'Pass as `before` for the next page; null on the last page' }),
    ),
  },
  { $id: 'ReleaseList', description: 'A page of releases', additionalProperties: false },
)

export const ReleaseQuery = Type.Object(
  {
    service: Type.Optional(Name('Only releases of this service')),
    state: Type.Optional(
      StringEnum(
        releaseListStates,
        'Only releases in this state, or (awaiting_approval, deploying, baking, awaiting_promotion) unfinished releases whose current stage is in it',
      ),
    ),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Only releases with a smaller id (the next page)' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size' }),
    ),
  },
  { additionalProperties: false },
)

export const ReleaseParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The release id' }) },
  { additionalProperties: false },
)

export const StageParams = Type.Object(
  {
    id: Type.Integer({ minimum: 1, description: 'The release id' }),
    ring: Name('The ring of the stage'),
  },
  { additionalProperties: false },
)

export const ApprovalBody = Type.Object(
  {
    decision: StringEnum(
      ['approve', 'reject'],
      'approve, or reject (fails the stage and stops the release)',
    ),
    comment: Type.Optional(
      Type.String({ maxLength: 2000, description: 'What you checked, or why you reject' }),
    ),
  },
  { additionalProperties: false },
)

export const ApprovalResult = Type.Object(
  {
    approval: Approval,
    gate: Type.Object(
      {
        name: StringEnum(['pre', 'post'], 'The gate decided on'),
        required: Type.Integer({ description: 'Distinct approvals the gate needs' }),
        approvedBy: Type.Array(Type.String({ description: 'A subject' }), {
          description: 'Subjects whose approval counts now',
        }),
        missing: Type.Integer({ description: 'Approvals still needed' }),
        satisfied: Type.Boolean({
          description: 'Whether the gate is passed (a rejection never is)',
        }),
      },
      { additionalProperties: false, description: 'The gate after this decision' },
    ),
    release: Release,
  },
  {
    $id: 'ApprovalResult',
    description: 'An approval decision, the gate after it and the release after it',
    additionalProperties: false,
  },
)

export const ReleaseHealth = Type.Object(
  {
    releaseId: Type.Integer({ description: 'The release' }),
    service: Type.String({ description: 'Its service' }),
    scaleUnits: Type.Array(
      Type.Object(
        {
          scaleUnit: Type.String({ description: 'The scale unit' }),
          ring: Type.String({ description: 'Its ring in the release' }),
          thresholds: Described(HealthThresholds, "The ring's health gate thresholds"),
          status: StringEnum(healthStatuses, 'The reported status'),
          signals: Type.Record(Type.String(), Type.Number(), {
            description: 'The reported measurements, e.g. errorRate, p99Ms',
          }),
          passed: Type.Boolean({ description: "Whether the report holds against the ring's gate" }),
          reasons: Type.Array(Type.String(), { description: 'Why it does not, one per rule' }),
          reportedAt: Timestamp('When it was reported'),
          reportedBy: Type.String({ description: 'Subject of the reporting token' }),
        },
        { additionalProperties: false },
      ),
      {
        description: 'Latest report per scale unit, in ring and wave order; unreported are absent',
      },
    ),
  },
  {
    $id: 'ReleaseHealth',
    description: 'The latest health report of each scale unit a release targets',
    additionalProperties: false,
  },
)

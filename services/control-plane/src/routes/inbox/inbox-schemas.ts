import { Type } from 'typebox'
import { Nullable, StringEnum, Timestamp } from '../../schemas/common.js'
import { BlockedBy, Release } from '../releases/release-schemas.js'

export const InboxApproval = Type.Object(
  {
    releaseId: Type.Integer({ description: 'The release waiting' }),
    service: Type.String({ description: 'Its service' }),
    version: Type.String({ description: 'Its version' }),
    commit: Nullable(Type.String({ description: 'The commit it was built from' })),
    requester: Type.String({ description: 'Who asked for it; they never approve it' }),
    ring: Type.String({
      description: 'The ring: approve at /v1/releases/{id}/stages/{ring}/approvals',
    }),
    ringOrder: Type.Integer({ description: 'Its order; 0 is the team' }),
    stageId: Type.Integer({ description: 'The stage waiting' }),
    gate: StringEnum(['pre', 'post'], 'Before the ring deploys (pre) or after it bakes (post)'),
    role: Type.String({ description: 'The role the ring asks for; admins may always approve' }),
    awaitingSince: Nullable(Timestamp('Since when it waits')),
    expiresAt: Nullable(
      Timestamp('When the system rejects it unless approved; null: the ring sets no timeout'),
    ),
    approvals: Type.Integer({ description: 'Approvals given that count now' }),
    quorum: Type.Integer({ description: 'Approvals the gate needs' }),
    approvedBy: Type.Array(Type.String(), { description: 'Who approved so far (subjects)' }),
  },
  {
    $id: 'InboxApproval',
    additionalProperties: false,
    description: 'A stage waiting for an approval the caller may give',
  },
)

export const InboxBlockedRelease = Type.Object(
  {
    release: Release,
    blockedBy: Type.Array(BlockedBy, {
      description: 'Why it is not moving: halts, approvals, bake, freezes, deployments',
    }),
  },
  {
    $id: 'InboxBlockedRelease',
    additionalProperties: false,
    description: 'A release the caller asked for that is not moving, and why',
  },
)

export const Inbox = Type.Object(
  {
    subject: Type.String({ description: 'Whose inbox: the subject of the token' }),
    role: Type.String({ description: 'The role it was read with' }),
    approvals: Type.Array(InboxApproval, {
      description:
        "Stages awaiting an approval the caller may give (the ring's role or admin, not their own release, not approved by them already), longest waiting first",
    }),
    blockedReleases: Type.Array(InboxBlockedRelease, {
      description: 'Unfinished releases the caller requested that wait for something, newest first',
    }),
  },
  {
    $id: 'Inbox',
    additionalProperties: false,
    description:
      'What waits for the caller: approvals to give, and their own releases that are stuck',
  },
)

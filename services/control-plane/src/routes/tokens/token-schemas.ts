import { roles } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

export const TokenRole = StringEnum(
  roles,
  'admin: everything; approver: approves releases; pipeline: creates releases, runs executors; sre: operates rollouts; viewer: reads; client: a server-side Unleash SDK for one ring; frontend: a browser SDK (frontend API) for one ring',
)

export const ApiToken = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Use it to revoke the token' }),
    name: Type.String({ description: 'What the token is for' }),
    role: TokenRole,
    subject: Type.String({
      description:
        'The person or pipeline the token stands for; approvals and audit events record it',
    }),
    ring: Nullable(
      Type.String({ description: 'The ring whose flags a client or frontend token reads' }),
    ),
    prefix: Type.String({
      description: 'The first characters of the secret, to tell tokens apart',
    }),
    createdAt: Timestamp('When the token was created'),
    createdBy: Type.String({ description: 'Subject of the token that created this one' }),
    expiresAt: Nullable(Timestamp('When the token stops working; null for never')),
    lastUsedAt: Nullable(Timestamp('Last authenticated use, to the minute; null if never used')),
    revokedAt: Nullable(Timestamp('When the token was revoked; null while it works')),
  },
  { $id: 'Token', additionalProperties: false, description: 'An API token, without its secret' },
)

export const CreateTokenBody = Type.Object(
  {
    name: Name('What the token is for, e.g. checkout-pipeline'),
    role: TokenRole,
    subject: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'The person (e.g. jane@example.com) or pipeline the token stands for',
    }),
    ring: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 100,
          description:
            'Required for client and frontend tokens: the ring (Unleash environment) whose flags they read. Leave it out for other roles',
        }),
      ),
    ),
    expiresAt: Type.Optional(Nullable(Timestamp('When the token stops working; omit for never'))),
  },
  { additionalProperties: false },
)

export const IssuedToken = Type.Object(
  {
    token: ApiToken,
    secret: Type.String({
      description: 'The token itself. It is shown this once and never stored in clear: keep it now',
    }),
  },
  {
    $id: 'IssuedToken',
    description: 'A new token with its secret; the secret is shown only this once',
    additionalProperties: false,
  },
)

export const TokenList = Type.Object(
  { tokens: Type.Array(ApiToken, { description: 'Every token, revoked ones included' }) },
  { $id: 'TokenList', description: 'Every token', additionalProperties: false },
)

export const TokenParams = Type.Object(
  { id: Type.String({ format: 'uuid', description: 'The token id' }) },
  { additionalProperties: false },
)

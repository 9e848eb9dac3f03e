import { Type } from 'typebox'
import { Nullable, Timestamp } from '../../schemas/common.js'
import { TokenRole } from '../tokens/token-schemas.js'

export const SignInBody = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'An API token (rm_…), checked as the Authorization header would be',
    }),
  },
  { additionalProperties: false },
)

export const ConsoleSettings = Type.Object(
  {
    traceUrlTemplate: Nullable(
      Type.String({
        description:
          "Where a release's trace can be seen: replace {traceId} with the release's traceId (RINGMASTER_TRACE_URL_TEMPLATE); null when not configured",
      }),
    ),
  },
  {
    $id: 'ConsoleSettings',
    additionalProperties: false,
    description: 'What the console needs to know about this installation',
  },
)

export const ConsoleSession = Type.Object(
  {
    subject: Type.String({ description: 'The person the token stands for' }),
    role: TokenRole,
    tokenName: Type.String({ description: 'The name of the token signed in with' }),
    signedInAt: Timestamp('When the session started'),
    expiresAt: Timestamp(
      "When the session ends (RINGMASTER_SESSION_TTL after sign-in, or the token's expiry if sooner); it is not extended by use",
    ),
    csrfToken: Type.String({
      description:
        'Send it as the X-CSRF-Token header with every POST, PUT, PATCH and DELETE made with the session cookie',
    }),
    console: ConsoleSettings,
  },
  {
    $id: 'ConsoleSession',
    additionalProperties: false,
    description:
      'A console session: the cookie ringmaster_session authenticates as the token signed in with',
  },
)

import { Type } from 'typebox'

/** Schemas of the OpenFeature Remote Evaluation Protocol (OFREP) v1, as the protocol defines them. */

export const OfrepParams = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 200, description: 'The flag name' }) },
  { additionalProperties: false },
)

export const OfrepRequest = Type.Object(
  {
    context: Type.Optional(
      Type.Object(
        {
          targetingKey: Type.Optional(
            Type.String({ description: 'Who is evaluating: the Unleash userId' }),
          ),
        },
        {
          additionalProperties: true,
          description:
            'The evaluation context. sessionId, remoteAddress, environment, appName and currentTime are the Unleash fields of those names; every other attribute (text, number or boolean) is an Unleash context property',
        },
      ),
    ),
  },
  {
    $id: 'OfrepRequest',
    additionalProperties: true,
    description: 'What to evaluate the flags for',
  },
)

export const OfrepHeaders = Type.Object(
  {
    'if-none-match': Type.Optional(
      Type.String({ description: 'The ETag of the bulk answer the provider has' }),
    ),
  },
  { additionalProperties: true },
)

const reason = Type.String({
  description:
    'STATIC (on for everyone), TARGETING_MATCH (a constraint, user list or variant override decided), SPLIT (a percentage rollout or weighted variant decided), DISABLED (off in the ring), DEFAULT (no strategy matched)',
})

const value = Type.Unknown({
  description:
    "A flag without variants: true or false. A flag with variants: the variant's payload (json parsed, number as a number, string and csv as text; the variant name when it has none). Absent when the flag has variants and none applies (off, or on without a variant): use the code default",
})

const key = Type.String({ description: 'The flag name' })
const errorDetails = Type.String({ description: 'What went wrong, for logs and people' })

export const OfrepSuccess = Type.Object(
  {
    key,
    reason,
    variant: Type.String({
      description: "'on' or 'off' for flags without variants; else the variant name or 'disabled'",
    }),
    value: Type.Optional(value),
    metadata: Type.Record(
      Type.String(),
      Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
      {
        description:
          'featureEnabled: whether the flag is on for the context; strategy: the strategy that matched',
      },
    ),
  },
  { $id: 'OfrepSuccess', additionalProperties: false, description: 'A flag evaluated' },
)

export const OfrepFailure = Type.Object(
  {
    key,
    errorCode: Type.String({
      description: 'FLAG_NOT_FOUND, PARSE_ERROR, TARGETING_KEY_MISSING, INVALID_CONTEXT or GENERAL',
    }),
    errorDetails,
  },
  {
    $id: 'OfrepFailure',
    additionalProperties: false,
    description: 'A flag that could not be evaluated',
  },
)

export const OfrepBulkSuccess = Type.Object(
  {
    flags: Type.Array(Type.Union([OfrepSuccess, OfrepFailure]), {
      description: 'Every flag of the ring, in name order',
    }),
  },
  {
    $id: 'OfrepBulkSuccess',
    description: 'Every flag evaluated for the context',
    additionalProperties: false,
  },
)

export const OfrepBulkFailure = Type.Object(
  {
    errorCode: Type.String({ description: 'PARSE_ERROR, INVALID_CONTEXT or GENERAL' }),
    errorDetails,
  },
  {
    $id: 'OfrepBulkFailure',
    description: 'The bulk evaluation failed',
    additionalProperties: false,
  },
)

export const OfrepGeneralError = Type.Object(
  { errorDetails },
  {
    $id: 'OfrepGeneralError',
    description: 'The request failed before any flag was evaluated',
    additionalProperties: false,
  },
)

export const ofrepJson = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

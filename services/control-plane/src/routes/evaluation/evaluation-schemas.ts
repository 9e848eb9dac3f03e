import { Type } from 'typebox'
import { Described, Name } from '../../schemas/common.js'
import { VariantPayload } from '../flags/flag-schemas.js'

/** The Unleash context flags are evaluated for. */
export const UnleashContext = Type.Object(
  {
    userId: Type.Optional(Type.String({ description: 'The user' })),
    sessionId: Type.Optional(Type.String({ description: 'The session' })),
    remoteAddress: Type.Optional(
      Type.String({
        description: "The client's IP address (the frontend API's default: the caller's)",
      }),
    ),
    appName: Type.Optional(Type.String({ description: 'The application' })),
    environment: Type.Optional(Type.String({ description: 'The environment the SDK names' })),
    currentTime: Type.Optional(
      Type.String({ description: 'The time DATE_* constraints compare (default: now)' }),
    ),
    properties: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Custom context fields',
      }),
    ),
  },
  {
    $id: 'UnleashContext',
    additionalProperties: true,
    description: 'The Unleash context, as an SDK passes it; unknown fields become properties',
  },
)

export const EvaluateBody = Type.Object(
  {
    ring: Name('The ring whose flags are evaluated'),
    context: Type.Optional(UnleashContext),
    flags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 1000,
        description: 'The flags to evaluate; all flags of the ring when left out',
      }),
    ),
  },
  { additionalProperties: false },
)

/** What settled an answer: a stable code, and fields that depend on it. */
export const Explanation = Type.Object(
  { code: Type.String({ description: 'What happened, as a stable code' }) },
  {
    $id: 'Explanation',
    additionalProperties: true,
    description: 'A stable code; more fields depend on the code',
  },
)

const Code = (description: string) => Described(Explanation, description)

export const StrategyOutcome = Type.Object(
  {
    strategyIndex: Type.Integer({ description: "The strategy's position in the ring" }),
    strategyName: Type.String({ description: 'The strategy' }),
    matched: Type.Boolean({ description: 'Whether it turned the flag on' }),
    failure: Type.Optional(
      Code(
        'Why the strategy did not match: CONSTRAINT_FAILED (with the constraint, its origin and the context value seen), ROLLOUT_NOT_REACHED (with bucket and rollout), USER_NOT_LISTED, SEGMENT_NOT_FOUND, UNKNOWN_STRATEGY, …',
      ),
    ),
    bucket: Type.Optional(Type.Integer({ description: 'For a rollout that matched: the bucket' })),
    rollout: Type.Optional(Type.Number({ description: 'For a rollout that matched: its %' })),
  },
  { $id: 'StrategyOutcome', additionalProperties: true, description: 'One strategy looked at' },
)

export const EvaluatedVariant = Type.Object(
  {
    name: Type.String({ description: "The variant, or 'disabled' when none applies" }),
    enabled: Type.Boolean({ description: 'Whether a variant applies' }),
    payload: Type.Optional(VariantPayload),
    feature_enabled: Type.Boolean({ description: 'Whether the flag is on (older name)' }),
    featureEnabled: Type.Boolean({ description: 'Whether the flag is on' }),
  },
  {
    $id: 'EvaluatedVariant',
    additionalProperties: false,
    description: 'The variant, as getVariant answers',
  },
)

export const Evaluation = Type.Object(
  {
    flag: Type.String({ description: 'The flag' }),
    enabled: Type.Boolean({ description: 'Whether the flag is on for the context' }),
    variant: EvaluatedVariant,
    decision: Code(
      'What settled it: STRATEGY_MATCHED (with the strategy), NO_STRATEGY_MATCHED, FLAG_DISABLED, DEPENDENCY_UNMET (with the parent and cause), NO_STRATEGIES, FLAG_NOT_FOUND',
    ),
    variantSource: Code(
      'Where the variant came from: STRATEGY_VARIANT, FEATURE_VARIANT, NO_VARIANTS, FLAG_OFF',
    ),
    strategies: Type.Array(StrategyOutcome, {
      description: 'Every strategy looked at, in order, up to the one that matched',
    }),
    message: Type.String({ description: 'The same, in one sentence' }),
  },
  {
    $id: 'Evaluation',
    additionalProperties: false,
    description: 'One flag, answered and explained',
  },
)

export const EvaluateResponse = Type.Object(
  {
    ring: Type.String({ description: 'The ring' }),
    revision: Type.Integer({ description: "The ring's flag revision the answers are for" }),
    context: Type.Object(
      {},
      { additionalProperties: true, description: 'The context as evaluated' },
    ),
    results: Type.Array(Evaluation, { description: 'One per flag, in the order asked' }),
  },
  {
    $id: 'EvaluateResponse',
    description: 'Flag answers for a context, with the reasons',
    additionalProperties: false,
  },
)

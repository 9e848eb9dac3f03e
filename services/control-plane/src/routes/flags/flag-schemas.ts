import { flagTypes } from '@ringmaster/domain'
import { type TSchema, Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

/** Unleash flag names: URL-safe, so they work unchanged in every SDK and in our paths. */
export const FlagKey = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$',
  description: 'The flag name SDKs ask for: letters, digits and . _ ~ - (100 at most)',
})

export const SegmentName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[^\\s/](.*[^\\s/])?$',
  description: 'The segment name strategies refer to (no leading or trailing spaces, no /)',
})

/**
 * Operators, strategy names and values are checked by the evaluator's validation rather than by
 * enums here, so a mistake gets a message that says what SDKs would do with it.
 */
const constraintFields = {
  contextName: Type.String({
    minLength: 1,
    maxLength: 100,
    description:
      'The context field compared: userId, sessionId, remoteAddress, currentTime, or a property name',
  }),
  operator: Type.String({
    description:
      'IN, NOT_IN, STR_CONTAINS, STR_STARTS_WITH, STR_ENDS_WITH, NUM_EQ, NUM_GT, NUM_GTE, NUM_LT, NUM_LTE, DATE_AFTER, DATE_BEFORE, SEMVER_EQ, SEMVER_GT, SEMVER_LT, REGEX or IN_CIDR',
  }),
  values: Type.Optional(Type.Array(Type.String(), { description: 'For the list operators' })),
  value: Type.Optional(Type.String({ description: 'For the single-value operators' })),
  inverted: Type.Optional(Type.Boolean({ description: 'Negates the result' })),
  caseInsensitive: Type.Optional(
    Type.Boolean({ description: 'For the STR_* operators and REGEX' }),
  ),
}

const payloadFields = {
  type: Type.String({ description: 'string, json, csv or number' }),
  value: Type.String({ description: 'The payload, as text' }),
}
const payloadDescription = 'Data SDKs hand to the code along with the variant'

export const VariantPayload = Type.Object(payloadFields, {
  $id: 'VariantPayload',
  additionalProperties: false,
  description: payloadDescription,
})

const overrideFields = {
  contextName: Type.String({ minLength: 1, description: 'The context field compared' }),
  values: Type.Array(Type.String(), { description: 'Values that get this variant' }),
}

const variantFields = (strict: boolean) => ({
  name: Type.String({ minLength: 1, maxLength: 100, description: 'The variant name SDKs return' }),
  weight: Type.Integer({
    minimum: 0,
    maximum: 1000,
    description: 'Share of the total weight (weights of a flag usually add up to 1000)',
  }),
  weightType: Type.Optional(Type.String({ description: "'variable' or 'fix'" })),
  stickiness: Type.Optional(
    Nullable(Type.String({ description: 'Context field that keeps a user on one variant' })),
  ),
  payload: Type.Optional(
    strict
      ? VariantPayload
      : Type.Object(payloadFields, { additionalProperties: true, description: payloadDescription }),
  ),
  overrides: Type.Optional(
    Type.Array(Type.Object(overrideFields, { additionalProperties: !strict }), {
      description: 'Context values that always get this variant',
    }),
  ),
})

export const Constraint = Type.Object(constraintFields, {
  $id: 'Constraint',
  description: 'A condition on one context field',
  additionalProperties: false,
})
export const Variant = Type.Object(variantFields(true), {
  $id: 'Variant',
  description: 'A variant of a flag or of a strategy',
  additionalProperties: false,
})

export const Dependency = Type.Object(
  {
    feature: Type.String({ minLength: 1, description: 'The parent flag' }),
    enabled: Type.Optional(
      Type.Boolean({ description: 'Whether the parent must be on (default) or off' }),
    ),
    variants: Type.Optional(
      Type.Array(Type.String(), { description: 'The parent must have one of these variants' }),
    ),
  },
  {
    $id: 'FlagDependency',
    description: 'A parent flag this one depends on',
    additionalProperties: false,
  },
)

const Parameters = Type.Record(Type.String(), Type.String(), {
  description:
    'Strategy parameters, as text: rollout, stickiness, groupId, userIds, IPs, hostNames…',
})

export const StrategyInput = Type.Object(
  {
    name: Type.String({
      description:
        'default, userWithId, gradualRolloutUserId, gradualRolloutSessionId, gradualRolloutRandom, flexibleRollout, remoteAddress or applicationHostname',
    }),
    parameters: Type.Optional(Parameters),
    constraints: Type.Optional(
      Type.Array(Constraint, { maxItems: 100, description: 'All must match' }),
    ),
    segments: Type.Optional(
      Type.Array(SegmentName, { description: 'Names of segments that must all match' }),
    ),
    variants: Type.Optional(
      Type.Array(Variant, { description: 'Strategy variants, served before the flag variants' }),
    ),
  },
  { $id: 'StrategyInput', description: 'A strategy as you send it', additionalProperties: false },
)

export const Strategy = Type.Object(
  {
    name: Type.String({ description: 'The strategy' }),
    parameters: Parameters,
    constraints: Type.Array(Constraint, { description: 'All must match' }),
    segments: Type.Array(Type.String(), { description: 'Names of segments that must all match' }),
    variants: Type.Array(Variant, { description: 'Strategy variants' }),
  },
  {
    $id: 'Strategy',
    description: 'A strategy: when it turns the flag on, and for whom',
    additionalProperties: false,
  },
)

export const RingState = Type.Object(
  {
    ring: Type.String({ description: 'The ring (Unleash environment)' }),
    enabled: Type.Boolean({ description: 'Off means off for everyone in this ring' }),
    strategies: Type.Array(Strategy, {
      description: 'Any one matching strategy turns the flag on; an empty list means on for all',
    }),
  },
  { $id: 'FlagRingState', description: 'A flag in one ring', additionalProperties: false },
)

const FlagType = StringEnum(flagTypes, 'What kind of flag this is (as in Unleash)')

export const Flag = Type.Object(
  {
    key: FlagKey,
    project: Type.String({ description: 'Unleash project; SDKs can filter on it' }),
    description: Type.String({ description: 'What the flag is for' }),
    type: FlagType,
    owner: Nullable(Type.String({ description: 'Who to ask about the flag' })),
    tags: Type.Array(Type.String(), { description: 'Free-form tags to find flags by' }),
    impressionData: Type.Boolean({ description: 'Whether SDKs emit impression events' }),
    stale: Type.Boolean({ description: 'Marked for removal from code' }),
    archived: Type.Boolean({ description: 'Archived flags are gone from every SDK answer' }),
    variants: Type.Array(Variant, { description: 'Flag variants, split by weight' }),
    dependencies: Type.Array(Dependency, {
      description: 'Parent flags that must be on (or off) for this one to be on',
    }),
    rings: Type.Array(RingState, {
      description: 'Configured rings; any other ring sees the flag disabled',
    }),
    createdAt: Timestamp('When the flag was first put'),
    updatedAt: Timestamp('When the flag last changed'),
  },
  {
    $id: 'Flag',
    additionalProperties: false,
    description: 'A feature flag and its state in each ring',
  },
)

export const FlagList = Type.Object(
  { flags: Type.Array(Flag, { description: 'Ordered by key' }) },
  { $id: 'FlagList', description: 'Flags', additionalProperties: false },
)

export const PutFlagBody = Type.Object(
  {
    project: Type.Optional(Name('Unleash project; default "default"')),
    description: Type.Optional(
      Type.String({ maxLength: 2000, description: 'What the flag is for' }),
    ),
    type: Type.Optional(FlagType),
    owner: Type.Optional(
      Nullable(Type.String({ maxLength: 200, description: 'Who to ask about the flag' })),
    ),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        maxItems: 50,
        description: 'Free-form tags to find flags by',
      }),
    ),
    impressionData: Type.Optional(
      Type.Boolean({ description: 'Whether SDKs emit impression events; default false' }),
    ),
    stale: Type.Optional(Type.Boolean({ description: 'Marked for removal from code' })),
    variants: Type.Optional(
      Type.Array(Variant, { maxItems: 100, description: 'Flag variants, split by weight' }),
    ),
    dependencies: Type.Optional(
      Type.Array(Dependency, {
        maxItems: 20,
        description: 'Parent flags (one level deep) that must be on, or off, for this one',
      }),
    ),
    rings: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            enabled: Type.Boolean({ description: 'Off means off for everyone in this ring' }),
            strategies: Type.Optional(
              Type.Array(StrategyInput, {
                maxItems: 100,
                description: 'Tried in order; empty or left out means on for everyone',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        {
          description:
            'State per ring; rings named here are replaced, rings left out keep their state',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'The whole flag definition; fields left out take their defaults',
  },
)

export const FlagParams = Type.Object({ key: FlagKey }, { additionalProperties: false })

export const FlagRingParams = Type.Object(
  { key: FlagKey, ring: Name('The ring') },
  { additionalProperties: false },
)

export const FlagListQuery = Type.Object(
  {
    tag: Type.Optional(Type.String({ description: 'Only flags with this tag' })),
    type: Type.Optional(FlagType),
    project: Type.Optional(Type.String({ description: 'Only flags of this project' })),
    ring: Type.Optional(Name('With enabled: the ring whose state filters')),
    enabled: Type.Optional(
      Type.Boolean({ description: 'Only flags enabled (or disabled) in `ring`' }),
    ),
    archived: Type.Optional(Type.Boolean({ description: 'Include archived flags' })),
  },
  { additionalProperties: false },
)

export const RingEnabledBody = Type.Object(
  { enabled: Type.Boolean({ description: 'Turn the flag on or off in this ring' }) },
  { additionalProperties: false },
)

export const RingStrategiesBody = Type.Object(
  {
    strategies: Type.Array(StrategyInput, {
      maxItems: 100,
      description: 'Tried in order; any match turns the flag on; empty means on for everyone',
    }),
  },
  { additionalProperties: false },
)

export const Segment = Type.Object(
  {
    id: Type.Integer({ description: 'The id SDKs see in strategies[].segments' }),
    name: Type.String({ description: 'The name strategies refer to' }),
    description: Type.String({ description: 'What the segment is' }),
    constraints: Type.Array(Constraint, { description: 'All must match' }),
    createdAt: Timestamp('When the segment was created'),
    updatedAt: Timestamp('When the segment last changed'),
  },
  { $id: 'Segment', additionalProperties: false, description: 'A shared set of constraints' },
)

export const SegmentList = Type.Object(
  { segments: Type.Array(Segment, { description: 'Ordered by name' }) },
  { $id: 'SegmentList', description: 'Segments', additionalProperties: false },
)

export const SegmentParams = Type.Object({ name: SegmentName }, { additionalProperties: false })

export const PutSegmentBody = Type.Object(
  {
    description: Type.Optional(
      Type.String({ maxLength: 2000, description: 'What the segment is' }),
    ),
    constraints: Type.Array(Constraint, { maxItems: 100, description: 'All must match' }),
  },
  { additionalProperties: false },
)

/** Unleash bodies carry fields we do not keep (ids, sort orders, titles); they are ignored. */
const loose = <T extends Record<string, TSchema>>(fields: T, description: string, $id?: string) =>
  Type.Object(fields, { ...($id && { $id }), additionalProperties: true, description })

export const ImportedConstraint = loose(
  constraintFields,
  'A constraint as Unleash sends it',
  'ImportedConstraint',
)

export const ImportedVariant = loose(
  variantFields(false),
  'A variant as Unleash sends it',
  'ImportedVariant',
)

const ImportedVariants = Type.Optional(
  Nullable(Type.Array(ImportedVariant, { description: 'Variants, as Unleash sends them' })),
)

export const ImportedStrategy = loose(
  {
    name: Type.String({ description: 'The strategy' }),
    parameters: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), {
        description: 'Strategy parameters; numbers are stored as text',
      }),
    ),
    constraints: Type.Optional(
      Nullable(Type.Array(ImportedConstraint, { description: 'All must match' })),
    ),
    segments: Type.Optional(
      Nullable(
        Type.Array(Type.Integer(), { description: 'Ids of segments in the `segments` list' }),
      ),
    ),
    variants: ImportedVariants,
  },
  'A strategy as Unleash sends it',
  'ImportedStrategy',
)

export const ImportedFlag = loose(
  {
    name: FlagKey,
    enabled: Type.Boolean({ description: 'The flag is on in the ring' }),
    project: Type.Optional(Type.String({ description: 'Unleash project; default "default"' })),
    description: Type.Optional(Nullable(Type.String({ description: 'What the flag is for' }))),
    type: Type.Optional(
      Type.String({ description: 'Unleash flag type; unknown types become release' }),
    ),
    stale: Type.Optional(Type.Boolean({ description: 'Marked for removal from code' })),
    impressionData: Type.Optional(
      Type.Boolean({ description: 'Whether SDKs emit impression events' }),
    ),
    strategies: Type.Optional(
      Type.Array(ImportedStrategy, { description: 'The flag strategies in the ring' }),
    ),
    variants: ImportedVariants,
    dependencies: Type.Optional(
      Nullable(
        Type.Array(loose(Dependency.properties, 'A parent flag, as Unleash sends it'), {
          description: 'Parent flags',
        }),
      ),
    ),
  },
  'A flag as Unleash sends it',
  'ImportedFlag',
)

export const ImportedSegment = loose(
  {
    id: Type.Integer({ description: 'The id strategies of this body refer to' }),
    name: Type.Optional(SegmentName),
    constraints: Type.Optional(Type.Array(ImportedConstraint, { description: 'All must match' })),
  },
  'A segment as Unleash sends it; matched to ours by name',
  'ImportedSegment',
)

export const ImportFlagsBody = Type.Object(
  {
    ring: Name('The ring whose state the features describe'),
    version: Type.Optional(Type.Integer({ description: "Unleash's format version; ignored" })),
    features: Type.Array(ImportedFlag, { maxItems: 5000, description: 'Unleash features' }),
    segments: Type.Optional(Type.Array(ImportedSegment, { description: 'Unleash segments' })),
  },
  {
    additionalProperties: true,
    description:
      "The body of Unleash's GET /api/client/features plus the ring it is for; fields we do not keep are ignored",
  },
)

export const ImportOutcome = Type.Object(
  {
    ring: Type.String({ description: 'The ring imported into' }),
    flags: Type.Array(Type.String(), { description: 'Flags created or changed' }),
    segments: Type.Array(Type.String(), { description: 'Segments created or changed' }),
    revision: Type.Integer({ description: "The ring's flag revision after the import" }),
  },
  { $id: 'ImportOutcome', description: 'What an import changed', additionalProperties: false },
)

import { type TSchema, Type } from 'typebox'
import { Nullable } from '../../schemas/common.js'
import { Constraint, Variant } from '../flags/flag-schemas.js'

/**
 * Schemas of the Unleash client API. Requests are read leniently (SDKs of every language and
 * version send fields of their own), responses are documented as Unleash serves them.
 */
const lenient = <T extends Record<string, TSchema>>(fields: T, description?: string) =>
  Type.Object(fields, { additionalProperties: true, ...(description && { description }) })

/** Headers Unleash SDKs send; all are optional and only informational, except the two noted. */
export const SdkHeaders = lenient({
  'if-none-match': Type.Optional(
    Type.String({ description: 'The ETag of the answer the SDK has: 304 when it is current' }),
  ),
  'unleash-client-spec': Type.Optional(
    Type.String({
      description:
        'The client specification the SDK implements; 4.2.0 and later get segments as a separate list, older ones get segment constraints inlined in each strategy',
    }),
  ),
  'unleash-appname': Type.Optional(Type.String({ description: 'The application name' })),
  'unleash-instanceid': Type.Optional(Type.String({ description: 'The SDK instance' })),
  'unleash-connection-id': Type.Optional(Type.String({ description: 'The SDK connection' })),
  'unleash-sdk': Type.Optional(Type.String({ description: 'SDK name and version' })),
  'unleash-interval': Type.Optional(
    Type.String({
      description: 'The SDK refresh interval in ms, as sent (some SDKs send "undefined")',
    }),
  ),
})

export const StreamingHeaders = lenient({
  ...SdkHeaders.properties,
  'last-event-id': Type.Optional(
    Type.String({
      description:
        'Sent by the event source when it reconnects: the revision it has; only later changes are sent',
    }),
  ),
})

export const ClientFeaturesQuery = lenient({
  project: Type.Optional(
    Type.Array(Type.String(), { description: 'Only flags of these projects (repeatable)' }),
  ),
  namePrefix: Type.Optional(Type.String({ description: 'Only flags whose name starts with this' })),
  tag: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Only flags with any of these tags, as `type:value` or `value` (repeatable)',
    }),
  ),
})

export const SdkStrategy = Type.Object(
  {
    name: Type.String({ description: 'The strategy: default, flexibleRollout, userWithId, …' }),
    parameters: Type.Record(Type.String(), Type.String(), {
      description: 'Strategy parameters, as text (rollout, stickiness, groupId, userIds, …)',
    }),
    constraints: Type.Array(Constraint, {
      description: 'All must hold (segment constraints are appended when inlined)',
    }),
    segments: Type.Optional(
      Type.Array(Type.Integer(), {
        description: 'Ids of segments in `segments` (absent when segments are inlined)',
      }),
    ),
    variants: Type.Array(Variant, { description: 'Strategy variants, served first' }),
  },
  {
    $id: 'SdkStrategy',
    additionalProperties: true,
    description: 'Any one matching strategy turns the flag on',
  },
)

export const SdkDependency = Type.Object(
  {
    feature: Type.String({ description: 'The parent flag' }),
    enabled: Type.Optional(
      Type.Boolean({ description: 'Whether the parent must be on (default) or off' }),
    ),
    variants: Type.Optional(
      Type.Array(Type.String(), { description: 'The parent must have one of these variants' }),
    ),
  },
  {
    $id: 'SdkDependency',
    additionalProperties: true,
    description: 'A parent flag this one depends on',
  },
)

export const SdkFeature = Type.Object(
  {
    name: Type.String({ description: 'The flag name' }),
    type: Type.String({ description: 'release, experiment, operational, kill-switch, permission' }),
    description: Nullable(Type.String({ description: 'What the flag is for' })),
    project: Type.String({ description: 'The Unleash project' }),
    enabled: Type.Boolean({ description: 'Whether the flag is on in the ring' }),
    stale: Type.Boolean({ description: 'Marked for removal from code' }),
    impressionData: Type.Boolean({ description: 'Whether SDKs emit impression events' }),
    strategies: Type.Array(SdkStrategy, {
      description: "The ring's strategies, in order; an empty list means on for everyone",
    }),
    variants: Type.Array(Variant, { description: 'Flag variants' }),
    dependencies: Type.Optional(
      Type.Array(SdkDependency, { description: 'Parents that must be on (or off)' }),
    ),
  },
  { $id: 'SdkFeature', additionalProperties: true, description: 'A flag as Unleash SDKs read it' },
)

export const SdkSegment = Type.Object(
  {
    id: Type.Integer({ description: 'The id strategies refer to' }),
    name: Type.String({ description: 'The segment name' }),
    constraints: Type.Array(Constraint, { description: 'All must hold' }),
  },
  { $id: 'SdkSegment', additionalProperties: true, description: 'A shared set of constraints' },
)

export const ClientFeatures = Type.Object(
  {
    version: Type.Integer({ description: 'The format version, 2' }),
    features: Type.Array(SdkFeature, { description: "The ring's flags, in name order" }),
    segments: Type.Optional(
      Type.Array(SdkSegment, { description: 'Only for Unleash-Client-Spec 4.2.0 and later' }),
    ),
    query: Type.Object(
      {
        project: Type.Optional(
          Type.Array(Type.String(), { description: 'The projects asked for' }),
        ),
        namePrefix: Type.Optional(Type.String({ description: 'The name prefix asked for' })),
        tag: Type.Optional(Type.Array(Type.String(), { description: 'The tags asked for' })),
        environment: Type.String({ description: 'The ring' }),
        inlineSegmentConstraints: Type.Boolean({
          description: 'Whether segment constraints are inlined in the strategies',
        }),
      },
      { additionalProperties: true, description: 'What the answer is for' },
    ),
    meta: Type.Object(
      {
        revisionId: Type.Integer({ description: "The ring's flag revision" }),
        etag: Type.String({ description: 'The ETag of this answer' }),
        queryHash: Type.String({ description: 'Names the query (ring, shape and filters)' }),
      },
      { additionalProperties: true, description: 'Revision and cache keys' },
    ),
  },
  {
    $id: 'ClientFeatures',
    description: "The ring's flags, as Unleash's client features API answers",
    additionalProperties: true,
  },
)

const eventId = Type.Integer({ description: 'The ring revision of the change' })

export const DeltaEvent = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('hydration', { description: 'Replace everything with this' }),
        eventId,
        features: Type.Array(SdkFeature, { description: 'Every flag' }),
        segments: Type.Array(SdkSegment, { description: 'Every segment' }),
      },
      { description: 'Everything' },
    ),
    Type.Object(
      {
        type: Type.Literal('feature-updated', { description: 'A flag was created or changed' }),
        eventId,
        feature: SdkFeature,
      },
      { description: 'A flag as it is now' },
    ),
    Type.Object(
      {
        type: Type.Literal('feature-removed', { description: 'A flag is gone (or filtered out)' }),
        eventId,
        featureName: Type.String({ description: 'The flag to drop' }),
        project: Type.Optional(Type.String({ description: 'Its project' })),
      },
      { description: 'A flag to drop' },
    ),
    Type.Object(
      {
        type: Type.Literal('segment-updated', { description: 'A segment was created or changed' }),
        eventId,
        segment: SdkSegment,
      },
      { description: 'A segment as it is now' },
    ),
    Type.Object(
      {
        type: Type.Literal('segment-removed', { description: 'A segment is gone' }),
        eventId,
        segmentId: Type.Integer({ description: 'The segment to drop' }),
      },
      { description: 'A segment to drop' },
    ),
  ],
  { $id: 'ClientDeltaEvent', description: '`eventId` is the revision of the change' },
)

export const ClientFeaturesDelta = Type.Object(
  {
    events: Type.Array(DeltaEvent, {
      description:
        'A hydration (everything) for a client with no revision or one too far behind, else each changed flag and segment once, as it is now',
    }),
  },
  {
    $id: 'ClientFeaturesDelta',
    description: "Changes since the SDK's revision, as Unleash's delta API answers",
    additionalProperties: false,
  },
)

/**
 * Bounds of the SDK bodies. Frontend tokens ship inside web pages, so anyone can post these:
 * each is refused whole when it breaks a bound, before anything is counted. Text also obeys the
 * rules of every request (no control characters, well-formed Unicode: http/request-text.ts).
 */
export const sdkBodyLimits = {
  /** Names and ids an SDK sends: app, instance, SDK version, strategy, flag and variant names. */
  textLength: 255,
  /** A report's flags; a ring serving more than this would report in several posts. */
  togglesPerReport: 10_000,
  variantsPerFlag: 100,
  /** Per flag and report; sums are stored as 64-bit integers. */
  count: 2_147_483_647,
  /** Fields SDKs add that are accepted and ignored (platformName, connectionId, …). */
  fieldsPerBody: 50,
} as const

const SdkText = (description: string, minLength = 0) =>
  Type.String({ minLength, maxLength: sdkBodyLimits.textLength, description })

const Timestamp = (description: string) => Type.String({ maxLength: 64, description })

const bounded = <T extends Record<string, TSchema>>(fields: T, description: string, $id?: string) =>
  Type.Object(fields, {
    ...($id && { $id }),
    additionalProperties: true,
    maxProperties: sdkBodyLimits.fieldsPerBody,
    description,
  })

const Count = (description: string) =>
  Type.Integer({ minimum: 0, maximum: sdkBodyLimits.count, description })

export const RegisterBody = bounded(
  {
    appName: SdkText('The application', 1),
    instanceId: Type.Optional(SdkText('The SDK instance (default: the header)')),
    sdkVersion: Type.Optional(Nullable(SdkText('SDK name and version'))),
    strategies: Type.Optional(
      Type.Array(SdkText('A strategy name'), {
        maxItems: 100,
        description: 'Strategies the SDK implements',
      }),
    ),
    started: Type.Optional(
      Type.Union([Timestamp('ISO 8601'), Type.Number({ description: 'Epoch ms' })], {
        description: 'When the SDK started',
      }),
    ),
    interval: Type.Optional(
      Type.Union(
        [
          Type.Number({ minimum: 0, maximum: sdkBodyLimits.count, description: 'In ms' }),
          Type.String({ maxLength: 32, description: 'In ms, as text' }),
        ],
        { description: 'Metrics interval in ms' },
      ),
    ),
  },
  'What an SDK says when it starts; other fields SDKs send are accepted and ignored',
  'SdkRegistration',
)

const ToggleCounts = bounded(
  {
    yes: Type.Optional(Count('Evaluations that answered on')),
    no: Type.Optional(Count('Evaluations that answered off')),
    variants: Type.Optional(
      Type.Record(Type.String(), Count('Evaluations of this variant'), {
        maxProperties: sdkBodyLimits.variantsPerFlag,
        propertyNames: { maxLength: sdkBodyLimits.textLength },
        description: 'Evaluations per variant name',
      }),
    ),
  },
  'Counts of one flag',
)

export const MetricsBody = bounded(
  {
    appName: SdkText('The application', 1),
    instanceId: Type.Optional(SdkText('The SDK instance')),
    bucket: bounded(
      {
        start: Timestamp('Start of the counting period; sets the hour'),
        stop: Type.Optional(Timestamp('End of the counting period')),
        toggles: Type.Record(Type.String(), ToggleCounts, {
          maxProperties: sdkBodyLimits.togglesPerReport,
          propertyNames: { maxLength: sdkBodyLimits.textLength },
          description: 'Per flag: evaluations on (yes), off (no), and per variant',
        }),
      },
      'The counting period and its counts',
    ),
  },
  'Evaluation counts an SDK collected; counts of flags the ring does not have are dropped',
  'SdkMetrics',
)

export const Accepted = Type.Null({ description: 'Accepted' })
export const NotModified = Type.Null({
  description: 'Not modified: the ETag in If-None-Match still names the current answer',
})

import { Type } from 'typebox'

const Payload = Type.Object(
  {
    type: Type.String({ description: 'string, json, csv or number' }),
    value: Type.String({ description: 'The payload, as text' }),
  },
  { additionalProperties: false, description: "The variant's payload" },
)

const ToggleVariant = Type.Object(
  {
    name: Type.String({ description: "The variant, or 'disabled' when none applies" }),
    enabled: Type.Boolean({ description: 'Whether a variant applies' }),
    payload: Type.Optional(Payload),
    feature_enabled: Type.Boolean({ description: 'Whether the flag is on (older name)' }),
    featureEnabled: Type.Boolean({ description: 'Whether the flag is on' }),
  },
  { additionalProperties: false, description: 'The variant for this context' },
)

export const FrontendToggles = Type.Object(
  {
    toggles: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'The flag name' }),
          enabled: Type.Literal(true, { description: 'Always true: off flags are not listed' }),
          variant: ToggleVariant,
          impressionData: Type.Boolean({ description: 'Whether to emit impression events' }),
        },
        { additionalProperties: false, description: 'A flag that is on' },
      ),
      { description: 'Only the flags that are on for the context, in name order' },
    ),
  },
  {
    $id: 'FrontendToggles',
    description: 'The flags that are on for the context, as the Unleash frontend API answers',
    additionalProperties: false,
  },
)

export const FrontendQuery = Type.Object(
  {
    userId: Type.Optional(Type.String({ description: 'The user' })),
    sessionId: Type.Optional(Type.String({ description: 'The session' })),
    remoteAddress: Type.Optional(
      Type.String({ description: "The client's IP address; defaults to the caller's address" }),
    ),
    appName: Type.Optional(Type.String({ description: 'The application' })),
    environment: Type.Optional(Type.String({ description: 'The environment the SDK names' })),
    currentTime: Type.Optional(
      Type.String({ description: 'The time DATE_* constraints compare (default: now)' }),
    ),
  },
  {
    additionalProperties: Type.String(),
    description:
      'The Unleash context as unleash-proxy-client sends it: known fields by name, properties as `properties[name]=value`; any other parameter is a property too',
  },
)

export const FrontendBody = Type.Object(
  {
    context: Type.Optional(
      Type.Object(
        {
          ...FrontendQuery.properties,
          properties: Type.Optional(
            Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
              description: 'Custom context fields',
            }),
          ),
        },
        {
          additionalProperties: true,
          description: 'The Unleash context; unknown fields become properties',
        },
      ),
    ),
  },
  { additionalProperties: true },
)

export const FrontendHeaders = Type.Object(
  {
    'if-none-match': Type.Optional(
      Type.String({
        description: 'The ETag of the answer the client has: 304 when it still holds',
      }),
    ),
    'unleash-appname': Type.Optional(Type.String({ description: 'The application' })),
    'unleash-sdk': Type.Optional(Type.String({ description: 'SDK name and version' })),
    'unleash-connection-id': Type.Optional(Type.String({ description: 'The SDK connection' })),
  },
  { additionalProperties: true },
)

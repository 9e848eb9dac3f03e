import { Type } from 'typebox'
import { EvaluatedVariant, UnleashContext } from '../evaluation/evaluation-schemas.js'

export const FrontendToggles = Type.Object(
  {
    toggles: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'The flag name' }),
          enabled: Type.Literal(true, { description: 'Always true: off flags are not listed' }),
          variant: EvaluatedVariant,
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
  { context: Type.Optional(UnleashContext) },
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

import { webhookDeliveryStates, webhookEventPattern, webhookFormats } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

const EventName = Type.String({
  pattern: webhookEventPattern.source,
  maxLength: 100,
  description: 'An audit action (halt.created, …), deployment.requested, a kind (release.*) or *',
})

const Format = StringEnum(
  webhookFormats,
  'Each body as json (default), a Slack message or a Teams MessageCard; all signed alike',
)

export const Webhook = Type.Object(
  {
    id: Type.Integer({ description: 'The webhook id' }),
    service: Type.String({ description: 'The service whose events it receives' }),
    url: Type.String({ description: 'Where deliveries are POSTed' }),
    events: Type.Array(EventName, {
      description: 'The events it receives; empty means every event',
    }),
    format: Format,
    secretPrefix: Type.String({
      description:
        'The first characters of the signing secret, to tell webhooks apart; the secret itself is shown only when the webhook is created',
    }),
    createdBy: Type.String({ description: 'Subject of the token that created it' }),
    createdAt: Timestamp('When it was created'),
    disabledAt: Nullable(Timestamp('When it was disabled; null while it receives deliveries')),
  },
  { $id: 'Webhook', additionalProperties: false, description: 'A webhook, without its secret' },
)

export const CreateWebhookBody = Type.Object(
  {
    service: Name('The service whose events to send'),
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'An absolute http or https URL without credentials; each delivery is POSTed there, signed with the secret',
    }),
    events: Type.Optional(
      Type.Array(EventName, {
        maxItems: 50,
        uniqueItems: true,
        description:
          'Only these events (e.g. stage.awaiting_approval, halt.created, release.*); omit or leave empty for every event. A name nothing sends is refused with /problems/unknown-webhook-events',
      }),
    ),
    format: Type.Optional(Format),
  },
  { additionalProperties: false },
)

export const CreatedWebhook = Type.Object(
  {
    webhook: Webhook,
    secret: Type.String({
      description:
        'The key every delivery is signed with (HMAC-SHA256, see x-ringmaster-signature). It is shown this once: keep it now',
    }),
  },
  {
    $id: 'CreatedWebhook',
    description: 'A new webhook with its signing secret; the secret is shown only this once',
    additionalProperties: false,
  },
)

export const WebhookList = Type.Object(
  {
    webhooks: Type.Array(Webhook, {
      description: 'The webhooks, oldest first, disabled ones included',
    }),
  },
  { $id: 'WebhookList', description: 'Webhooks', additionalProperties: false },
)

export const WebhookQuery = Type.Object(
  { service: Type.Optional(Name('Only the webhooks of this service')) },
  { additionalProperties: false },
)

export const WebhookParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The webhook id' }) },
  { additionalProperties: false },
)

export const WebhookDelivery = Type.Object(
  {
    id: Type.Integer({
      description: 'The delivery id; sent as x-ringmaster-delivery, the same on every attempt',
    }),
    webhookId: Type.Integer({ description: 'The webhook it is sent to' }),
    event: Type.String({ description: 'The event, e.g. deployment.requested' }),
    payload: Type.Object(
      {},
      { additionalProperties: true, description: 'The event data, as sent in the body' },
    ),
    state: StringEnum(
      webhookDeliveryStates,
      'pending (to be sent or retried), delivered (a 2xx answer) or failed (given up, or the webhook was disabled)',
    ),
    attempts: Type.Integer({
      description: 'Attempts made since it was queued or last redelivered',
    }),
    nextAttemptAt: Nullable(
      Timestamp('When the next attempt is due; null once delivered or failed'),
    ),
    lastStatus: Nullable(
      Type.Integer({
        description: 'HTTP status of the last attempt; null before one, or when no answer came',
      }),
    ),
    lastError: Nullable(Type.String({ description: 'What went wrong on the last failed attempt' })),
    createdAt: Timestamp('When the event was queued'),
    deliveredAt: Nullable(Timestamp('When a 2xx answer came')),
  },
  {
    $id: 'WebhookDelivery',
    description: 'One delivery of an event to a webhook',
    additionalProperties: false,
  },
)

export const DeliveryList = Type.Object(
  { deliveries: Type.Array(WebhookDelivery, { description: 'The deliveries, newest first' }) },
  {
    $id: 'WebhookDeliveryList',
    description: 'Deliveries of a webhook',
    additionalProperties: false,
  },
)

export const DeliveryQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size' }),
    ),
  },
  { additionalProperties: false },
)

export const DeliveryParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The delivery id' }) },
  { additionalProperties: false },
)

import type { CommandContext } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import type { Store, StoreTransaction } from '../store.js'
import {
  assertWebhookUrl,
  type Webhook,
  type WebhookDelivery,
  type WebhookFormat,
  type WebhookSecrets,
} from './webhook.js'
import { assertWebhookEvents } from './webhook-events.js'
import type { WebhookFilter } from './webhook-store.js'

export interface CreateWebhookInput {
  service: string
  url: string
  /** Omitted or empty: every event. `release.*` names a kind, `*` everything. */
  events?: readonly string[] | undefined
  /** json (default), slack or teams. */
  format?: WebhookFormat | undefined
}

/** A new webhook and, this once, the secret its deliveries are signed with. */
export interface CreatedWebhook {
  webhook: Webhook
  secret: string
}

export const maxWebhookDeliveryPage = 500

/** Webhooks per service: who is told about what, and the log of what was sent to them. */
export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock = systemClock,
  ) {}

  async create(context: CommandContext, input: CreateWebhookInput): Promise<CreatedWebhook> {
    assertWebhookUrl(input.url)
    const events = [...new Set(input.events ?? [])].sort()
    assertWebhookEvents(events)
    // Made outside the transaction so a replayed request never sees a new secret.
    const secret = this.secrets.generate()
    return executeCommand(
      this.store,
      context,
      async (tx) => {
        if (!(await tx.services.findByName(input.service))) {
          throw new InvalidInputError(
            'unknown-service',
            `service '${input.service}' does not exist; create it first`,
          )
        }
        const webhook = await tx.webhooks.insert({
          service: input.service,
          url: input.url,
          secret,
          events,
          format: input.format ?? 'json',
          createdBy: context.actor.subject,
        })
        await audit(tx, context, 'webhook.created', webhookSubject(webhook.id), { after: webhook })
        return { webhook, secret }
      },
      {
        // The secret is shown once: a retry is told which webhook it made, not the secret again.
        remember: (created) => ({ id: created.webhook.id }),
        replay: (remembered) => {
          const { id } = remembered as { id: number }
          throw new ConflictError(
            'webhook-already-created',
            `this Idempotency-Key already created webhook ${id}; its secret was shown once. If it was lost, disable the webhook and create a new one`,
            { webhookId: id },
          )
        },
      },
    )
  }

  list(filter: WebhookFilter = {}): Promise<Webhook[]> {
    return this.store.read.webhooks.list(filter)
  }

  async get(id: number): Promise<Webhook> {
    return requireWebhook(this.store.read, id)
  }

  /** Stops sending: no new deliveries, and the pending ones fail. Disabling twice is harmless. */
  async disable(context: CommandContext, id: number): Promise<Webhook> {
    return executeCommand(this.store, context, async (tx) => {
      const before = await requireWebhook(tx, id, true)
      if (before.disabledAt !== null) return before
      const after = await tx.webhooks.disable(id, this.clock.now().toISOString())
      await audit(tx, context, 'webhook.disabled', webhookSubject(id), { before, after })
      return after
    })
  }

  async listDeliveries(webhookId: number, limit = 50): Promise<WebhookDelivery[]> {
    await requireWebhook(this.store.read, webhookId)
    return this.store.read.webhooks.listDeliveries(
      webhookId,
      Math.min(Math.max(limit, 1), maxWebhookDeliveryPage),
    )
  }

  /** Queues a failed delivery again, with a fresh set of attempts. */
  async redeliver(context: CommandContext, deliveryId: number): Promise<WebhookDelivery> {
    return executeCommand(this.store, context, async (tx) => {
      const delivery = await tx.webhooks.findDelivery(deliveryId, { forUpdate: true })
      if (!delivery) {
        throw new NotFoundError('delivery-not-found', `no webhook delivery with id ${deliveryId}`)
      }
      if (delivery.state !== 'failed') {
        throw new ConflictError(
          'delivery-not-failed',
          `delivery ${deliveryId} is ${delivery.state}; only a failed delivery can be redelivered`,
          { state: delivery.state },
        )
      }
      const webhook = await requireWebhook(tx, delivery.webhookId)
      if (webhook.disabledAt !== null) {
        throw new ConflictError(
          'webhook-disabled',
          `webhook ${webhook.id} is disabled; create a new webhook to receive deliveries again`,
        )
      }
      const requeued = await tx.webhooks.requeue(deliveryId, this.clock.now().toISOString())
      await audit(tx, context, 'webhook.delivery-requeued', webhookSubject(webhook.id), {
        deliveryId,
        event: delivery.event,
        previousAttempts: delivery.attempts,
        lastStatus: delivery.lastStatus,
        lastError: delivery.lastError,
      })
      return requeued
    })
  }
}

export const webhookSubject = (id: number) => `webhook:${id}`

async function requireWebhook(
  tx: StoreTransaction,
  id: number,
  forUpdate = false,
): Promise<Webhook> {
  const webhook = await tx.webhooks.findById(id, { forUpdate })
  if (!webhook) throw new NotFoundError('webhook-not-found', `no webhook with id ${id}`)
  return webhook
}

import {
  type LeasedWebhookDelivery,
  type NewWebhook,
  type ReadOptions,
  type Webhook,
  type WebhookDelivery,
  type WebhookFilter,
  type WebhookRepository,
  webhookSecretPrefix,
} from '@ringmaster/domain'
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import { services, webhookDeliveries, webhooks } from './schema/index.js'
import { iso, isoOrNull } from './timestamps.js'

/** Why the pending deliveries of a disabled webhook stopped. */
export const webhookDisabledError = 'the webhook was disabled before this delivery was sent'

export class DrizzleWebhookRepository implements WebhookRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(webhook: NewWebhook): Promise<Webhook> {
    const [row] = await this.db
      .insert(webhooks)
      .values({
        serviceId: sql`(select ${services.id} from ${services} where ${services.name} = ${webhook.service})`,
        url: webhook.url,
        secret: webhook.secret,
        events: webhook.events,
        format: webhook.format ?? 'json',
        createdBy: webhook.createdBy,
      })
      .returning()
    return toWebhook(row!, webhook.service)
  }

  async findById(id: number, options: ReadOptions = {}): Promise<Webhook | null> {
    const query = this.select().where(eq(webhooks.id, id))
    const [row] = await (options.forUpdate ? query.for('update', { of: webhooks }) : query)
    return row ? toWebhook(row.webhook, row.service) : null
  }

  async list(filter: WebhookFilter): Promise<Webhook[]> {
    const rows = await this.select()
      .where(filter.service === undefined ? undefined : eq(services.name, filter.service))
      .orderBy(asc(webhooks.id))
    return rows.map((row) => toWebhook(row.webhook, row.service))
  }

  async disable(id: number, at: string): Promise<Webhook> {
    await this.db
      .update(webhooks)
      .set({ disabledAt: new Date(at) })
      .where(eq(webhooks.id, id))
    await this.db
      .update(webhookDeliveries)
      .set({ state: 'failed', lastError: webhookDisabledError, leaseUntil: null })
      .where(and(eq(webhookDeliveries.webhookId, id), eq(webhookDeliveries.state, 'pending')))
    return (await this.findById(id))!
  }

  async findDelivery(id: number, options: ReadOptions = {}): Promise<WebhookDelivery | null> {
    const query = this.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, id))
      .$dynamic()
    const [row] = await (options.forUpdate ? query.for('update') : query)
    return row ? toDelivery(row) : null
  }

  async listDeliveries(webhookId: number, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, webhookId))
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit)
    return rows.map(toDelivery)
  }

  async leaseDue(now: string, leaseUntil: string, limit: number): Promise<LeasedWebhookDelivery[]> {
    const at = new Date(now)
    const enabled = this.db
      .select({ id: webhooks.id })
      .from(webhooks)
      .where(isNull(webhooks.disabledAt))
    const due = this.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.state, 'pending'),
          lte(webhookDeliveries.nextAttemptAt, at),
          or(isNull(webhookDeliveries.leaseUntil), lt(webhookDeliveries.leaseUntil, at)),
          inArray(webhookDeliveries.webhookId, enabled),
        ),
      )
      .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
      .limit(limit)
      .for('update', { skipLocked: true })
    const leased = await this.db
      .update(webhookDeliveries)
      .set({ leaseUntil: new Date(leaseUntil) })
      .where(inArray(webhookDeliveries.id, due))
      .returning({ id: webhookDeliveries.id })
    if (leased.length === 0) return []
    const rows = await this.db
      .select({
        delivery: webhookDeliveries,
        url: webhooks.url,
        format: webhooks.format,
        secret: webhooks.secret,
      })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(
        inArray(
          webhookDeliveries.id,
          leased.map((row) => row.id),
        ),
      )
      .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
    return rows.map((row) => ({
      ...toDelivery(row.delivery),
      url: row.url,
      format: row.format,
      secret: row.secret,
    }))
  }

  async markDelivered(id: number, status: number, at: string): Promise<void> {
    await this.db
      .update(webhookDeliveries)
      .set({
        state: 'delivered',
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatus: status,
        lastError: null,
        leaseUntil: null,
        deliveredAt: new Date(at),
      })
      .where(eq(webhookDeliveries.id, id))
  }

  async markAttemptFailed(
    id: number,
    status: number | null,
    error: string,
    nextAttemptAt: string | null,
  ): Promise<void> {
    await this.db
      .update(webhookDeliveries)
      .set({
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatus: status,
        lastError: error,
        leaseUntil: null,
        ...(nextAttemptAt === null
          ? { state: 'failed' as const }
          : { nextAttemptAt: new Date(nextAttemptAt) }),
      })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.state, 'pending')))
  }

  async requeue(id: number, at: string): Promise<WebhookDelivery> {
    const [row] = await this.db
      .update(webhookDeliveries)
      .set({
        state: 'pending',
        attempts: 0,
        nextAttemptAt: new Date(at),
        leaseUntil: null,
        deliveredAt: null,
      })
      .where(eq(webhookDeliveries.id, id))
      .returning()
    return toDelivery(row!)
  }

  private select() {
    return this.db
      .select({ webhook: webhooks, service: services.name })
      .from(webhooks)
      .innerJoin(services, eq(services.id, webhooks.serviceId))
      .$dynamic()
  }
}

function toWebhook(row: typeof webhooks.$inferSelect, service: string): Webhook {
  return {
    id: row.id,
    service,
    url: row.url,
    events: row.events,
    format: row.format,
    secretPrefix: webhookSecretPrefix(row.secret),
    createdBy: row.createdBy,
    createdAt: iso(row.createdAt),
    disabledAt: isoOrNull(row.disabledAt),
  }
}

function toDelivery(row: typeof webhookDeliveries.$inferSelect): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhookId,
    event: row.event,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? iso(row.nextAttemptAt) : null,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    createdAt: iso(row.createdAt),
    deliveredAt: isoOrNull(row.deliveredAt),
  }
}

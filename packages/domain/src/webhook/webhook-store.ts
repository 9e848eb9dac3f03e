import type { ReadOptions } from '../read-options.js'
import type { LeasedWebhookDelivery, NewWebhook, Webhook, WebhookDelivery } from './webhook.js'

export interface WebhookFilter {
  service?: string | undefined
}

/** Webhooks per service and their deliveries (the outbox rows `WebhookOutbox.enqueue` writes). */
export interface WebhookRepository {
  insert(webhook: NewWebhook): Promise<Webhook>
  findById(id: number, options?: ReadOptions): Promise<Webhook | null>
  /** Oldest first, disabled ones included. */
  list(filter: WebhookFilter): Promise<Webhook[]>
  /** Stops new deliveries and fails the pending ones (`lastError` says why). */
  disable(id: number, at: string): Promise<Webhook>

  findDelivery(id: number, options?: ReadOptions): Promise<WebhookDelivery | null>
  /** Newest first. */
  listDeliveries(webhookId: number, limit: number): Promise<WebhookDelivery[]>
  /**
   * Leases up to `limit` pending deliveries of enabled webhooks that are due (`nextAttemptAt`
   * not after `now`) and not leased until after `now`, until `leaseUntil`, oldest due first.
   * Rows another sender is leasing right now are skipped, not waited for.
   */
  leaseDue(now: string, leaseUntil: string, limit: number): Promise<LeasedWebhookDelivery[]>
  /** Counts the attempt, records the answer and ends the lease. */
  markDelivered(id: number, status: number, at: string): Promise<void>
  /**
   * Counts the attempt, records what went wrong and ends the lease; the delivery is tried again
   * at `nextAttemptAt`, or becomes `failed` when it is null. Only pending deliveries change.
   */
  markAttemptFailed(
    id: number,
    status: number | null,
    error: string,
    nextAttemptAt: string | null,
  ): Promise<void>
  /** Makes a delivery pending again, due at `at`, with its attempts counted from zero. */
  requeue(id: number, at: string): Promise<WebhookDelivery>
}

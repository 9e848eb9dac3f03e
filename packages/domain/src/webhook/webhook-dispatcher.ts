import type { Store } from '../store.js'
import {
  defaultWebhookRetryPolicy,
  type LeasedWebhookDelivery,
  nextWebhookAttemptAt,
  type WebhookRetryPolicy,
} from './webhook.js'

export interface WebhookAttemptFailure {
  /** The receiver's HTTP status; null when no answer came (refused, timed out). */
  status: number | null
  error: string
}

/**
 * The sender's side of the outbox: lease due deliveries, then record each attempt and when to try
 * again. The HTTP call itself is the caller's (the control plane's webhook sender).
 */
export class WebhookDispatcher {
  readonly policy: WebhookRetryPolicy

  constructor(
    private readonly store: Store,
    policy: Partial<WebhookRetryPolicy> = {},
    /** In [0, 1), like Math.random; tests pass a fixed one. */
    private readonly random: () => number = Math.random,
  ) {
    this.policy = { ...defaultWebhookRetryPolicy, ...policy }
  }

  /** Due deliveries, leased to the caller for `leaseMs`: no other sender gets them meanwhile. */
  lease(now: Date, leaseMs: number, limit: number): Promise<LeasedWebhookDelivery[]> {
    return this.store.transaction((tx) =>
      tx.webhooks.leaseDue(
        now.toISOString(),
        new Date(now.getTime() + leaseMs).toISOString(),
        limit,
      ),
    )
  }

  async delivered(delivery: LeasedWebhookDelivery, status: number, at: Date): Promise<void> {
    await this.store.transaction((tx) =>
      tx.webhooks.markDelivered(delivery.id, status, at.toISOString()),
    )
  }

  /** Records a failed attempt; returns when the next one is due, or null when it gave up. */
  async failed(
    delivery: LeasedWebhookDelivery,
    failure: WebhookAttemptFailure,
    at: Date,
  ): Promise<string | null> {
    const next = nextWebhookAttemptAt(delivery.attempts + 1, at, this.policy, this.random)
    await this.store.transaction((tx) =>
      tx.webhooks.markAttemptFailed(delivery.id, failure.status, failure.error, next),
    )
    return next
  }
}

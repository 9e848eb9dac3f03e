import { createHmac } from 'node:crypto'
import {
  type Clock,
  type LeasedWebhookDelivery,
  systemClock,
  WebhookDispatcher,
  type WebhookRetryPolicy,
  webhookBody,
} from '@ringmaster/domain'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PeriodicTask } from './periodic-task.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhookSender: WebhookSender
  }
}

export const webhookUserAgent = 'ringmaster-webhooks/1'

/** `sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the webhook's secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export interface WebhookSenderSettings {
  /** Where the sender's time comes from; tests pass one they can move. */
  clock?: Clock | undefined
  /** How long a receiver may take to answer. */
  timeoutMs?: number | undefined
  /** Deliveries leased and sent at once. */
  batchSize?: number | undefined
  /** How long a leased delivery is kept from other senders; well above `timeoutMs`. */
  leaseMs?: number | undefined
  /** The console's address: each body links to what it is about. None when undefined. */
  consoleUrl?: string | undefined
}

const maxErrorLength = 500

/**
 * Sends the webhook outbox. Each pass leases due deliveries (so two replicas never send the same
 * one at once), POSTs them signed, and records the outcome; failures are retried with backoff by
 * the dispatcher's policy. A replica that dies mid-send leaves its lease to expire, and another
 * sends the delivery again: receivers get each delivery at least once, and deduplicate on its id.
 */
export class WebhookSender {
  private readonly clock: Clock
  private readonly timeoutMs: number
  private readonly batchSize: number
  private readonly leaseMs: number
  private readonly consoleUrl: string | null
  private readonly inFlight = new Set<Promise<unknown>>()
  private ticking: Promise<void> | null = null
  private periodic: PeriodicTask | null = null
  private stopped = false

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly log: FastifyBaseLogger,
    settings: WebhookSenderSettings = {},
  ) {
    this.clock = settings.clock ?? systemClock
    this.timeoutMs = settings.timeoutMs ?? 5_000
    this.batchSize = settings.batchSize ?? 20
    this.leaseMs = settings.leaseMs ?? Math.max(60_000, this.timeoutMs * 4)
    this.consoleUrl = settings.consoleUrl ?? null
  }

  /** Leases one batch of due deliveries and sends it; resolves with how many were attempted. */
  runOnce(): Promise<number> {
    if (this.stopped) return Promise.resolve(0)
    return this.track(
      (async () => {
        const due = await this.dispatcher.lease(this.clock.now(), this.leaseMs, this.batchSize)
        await Promise.all(
          due.map((delivery) =>
            this.send(delivery).catch((error: unknown) => {
              // The outcome could not be recorded: the lease runs out and the delivery is sent again.
              this.log.error(
                { err: error, deliveryId: delivery.id },
                'recording a webhook attempt failed',
              )
            }),
          ),
        )
        return due.length
      })(),
    )
  }

  /** Sends until nothing is due; what the timer runs. */
  tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        let sent = this.batchSize
        // A full batch means more may be due; a short one means the outbox is drained.
        while (!this.stopped && sent === this.batchSize) sent = await this.runOnce()
      } catch (error) {
        this.log.error({ err: error }, 'webhook sending failed; the next tick retries')
      } finally {
        this.ticking = null
      }
    })()
    return this.ticking
  }

  /** Resolves when nothing is being sent. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0 || this.ticking) {
      await Promise.allSettled([...this.inFlight, this.ticking])
    }
  }

  start(intervalMs: number): void {
    if (this.stopped || this.periodic) return
    this.periodic = new PeriodicTask('webhook sending', () => this.tick(), {
      intervalMs,
      log: this.log,
    })
    this.periodic.start()
  }

  /** Stops the timer and waits for the sends under way (each ends within `timeoutMs`). */
  async stop(): Promise<void> {
    this.stopped = true
    await this.periodic?.stop()
    await this.settle()
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work)
    void work.finally(() => this.inFlight.delete(work)).catch(() => {})
    return work
  }

  private async send(delivery: LeasedWebhookDelivery): Promise<void> {
    const timestamp = String(Math.floor(this.clock.now().getTime() / 1000))
    // Written for its receiver (JSON, Slack, Teams), then signed: the signature covers the bytes sent.
    const body = JSON.stringify(webhookBody(delivery.format, delivery, this.consoleUrl))
    let status: number | null = null
    let error: string | null = null
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': webhookUserAgent,
          'x-ringmaster-event': delivery.event,
          'x-ringmaster-delivery': String(delivery.id),
          'x-ringmaster-timestamp': timestamp,
          'x-ringmaster-signature': webhookSignature(delivery.secret, timestamp, body),
        },
        body,
        // A redirect is an answer like any other non-2xx: the signed body is not sent elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      status = response.status
      await response.body?.cancel().catch(() => {})
      if (status < 200 || status > 299) error = `the receiver answered ${status}`
    } catch (cause) {
      error = describeFailure(cause, this.timeoutMs)
    }
    const at = this.clock.now()
    const context = {
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      event: delivery.event,
      attempt: delivery.attempts + 1,
      status,
    }
    if (error === null) {
      await this.dispatcher.delivered(delivery, status!, at)
      this.log.debug(context, 'webhook delivered')
      return
    }
    // Never let the secret reach the delivery log or a log line, whatever the error says.
    const safeError = error.split(delivery.secret).join('[redacted]').slice(0, maxErrorLength)
    const next = await this.dispatcher.failed(delivery, { status, error: safeError }, at)
    if (next === null) {
      this.log.warn({ ...context, error: safeError }, 'webhook delivery failed; giving up')
    } else {
      this.log.info(
        { ...context, error: safeError, nextAttemptAt: next },
        'webhook delivery failed; will retry',
      )
    }
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s`
  }
  // fetch reports "fetch failed" and keeps the reason (refused, DNS, TLS) in `cause`.
  const cause = (error as { cause?: unknown })?.cause
  const reason = cause instanceof Error ? cause.message : undefined
  const message = error instanceof Error ? error.message : String(error)
  return reason ? `${message}: ${reason}` : message
}

export interface WebhookSenderPluginOptions {
  /** How often to look for due deliveries. 0 = never (tests drive `runOnce`). */
  intervalMs: number
  retry?: Partial<WebhookRetryPolicy> | undefined
  /** The console's address (RINGMASTER_PUBLIC_URL), for the links in deliveries. */
  consoleUrl?: string | undefined
}

export const webhookSenderPlugin = fp(
  async (fastify: FastifyInstance, options: WebhookSenderPluginOptions) => {
    // Deliveries are queued at the database's time, so the sender keeps the system clock even
    // when the app is given another one for release rules.
    const sender = new WebhookSender(
      new WebhookDispatcher(fastify.store, options.retry),
      fastify.log.child({ worker: 'webhook-sender' }),
      { consoleUrl: options.consoleUrl },
    )
    fastify.decorate('webhookSender', sender)
    fastify.addHook('onReady', async () => {
      sender.start(options.intervalMs)
    })
    fastify.addHook('preClose', async () => {
      await sender.stop()
    })
  },
  { name: 'webhook-sender', dependencies: ['database'] },
)

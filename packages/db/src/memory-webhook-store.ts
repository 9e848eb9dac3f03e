import {
  type LeasedWebhookDelivery,
  type Service,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryState,
  type WebhookRepository,
  webhookSecretPrefix,
} from '@ringmaster/domain'
import { webhookDisabledError } from './webhook-store.js'

/** A webhook as the webhooks table holds it, secret included. */
export interface MemoryWebhook {
  id: number
  service: string
  url: string
  secret: string
  /** Empty means every event. */
  events: string[]
  createdBy: string
  createdAt: string
  disabledAt: string | null
}

/** A row of the outbox, as the webhook_deliveries table holds it. */
export interface MemoryWebhookDelivery {
  id: number
  webhookId: number
  event: string
  payload: Record<string, unknown>
  state: WebhookDeliveryState
  attempts: number
  nextAttemptAt: string
  leaseUntil: string | null
  lastStatus: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
}

/** The part of the memory store's state webhooks live in. */
export interface MemoryWebhookState {
  services: Map<string, Service>
  webhooks: Map<number, MemoryWebhook>
  webhookDeliveries: Map<number, MemoryWebhookDelivery>
}

// A timestamptz comes back from the database in UTC with milliseconds; so it does here.
const utc = (value: string): string => new Date(value).toISOString()
const copy = <T>(value: T): T => structuredClone(value)

function publicWebhook({ secret, ...webhook }: MemoryWebhook): Webhook {
  return copy({ ...webhook, secretPrefix: webhookSecretPrefix(secret) })
}

function publicDelivery({ leaseUntil: _lease, ...row }: MemoryWebhookDelivery): WebhookDelivery {
  return copy({ ...row, nextAttemptAt: row.state === 'pending' ? row.nextAttemptAt : null })
}

/** The in-memory WebhookRepository; `nextId` hands out ids like the tables' sequences. */
export function memoryWebhookRepository(
  state: () => MemoryWebhookState,
  now: () => string,
  nextId: (table: 'webhooks' | 'webhookDeliveries') => number,
): WebhookRepository {
  const delivery = (id: number) => state().webhookDeliveries.get(id)
  return {
    async insert(input) {
      const webhook: MemoryWebhook = {
        ...copy(input),
        id: nextId('webhooks'),
        createdAt: now(),
        disabledAt: null,
      }
      state().webhooks.set(webhook.id, webhook)
      return publicWebhook(webhook)
    },
    // Transactions already run one at a time here, so there is nothing to lock.
    async findById(id, _options) {
      const webhook = state().webhooks.get(id)
      return webhook ? publicWebhook(webhook) : null
    },
    async list(filter) {
      return [...state().webhooks.values()]
        .filter((webhook) => filter.service === undefined || webhook.service === filter.service)
        .sort((a, b) => a.id - b.id)
        .map(publicWebhook)
    },
    async disable(id, at) {
      const s = state()
      const webhook = s.webhooks.get(id)!
      webhook.disabledAt = utc(at)
      for (const row of s.webhookDeliveries.values()) {
        if (row.webhookId !== id || row.state !== 'pending') continue
        row.state = 'failed'
        row.lastError = webhookDisabledError
        row.leaseUntil = null
      }
      return publicWebhook(webhook)
    },
    async findDelivery(id, _options) {
      const row = delivery(id)
      return row ? publicDelivery(row) : null
    },
    async listDeliveries(webhookId, limit) {
      return [...state().webhookDeliveries.values()]
        .filter((row) => row.webhookId === webhookId)
        .sort((a, b) => b.id - a.id)
        .slice(0, limit)
        .map(publicDelivery)
    },
    async leaseDue(at, leaseUntil, limit) {
      const s = state()
      const due = Date.parse(at)
      const leased = [...s.webhookDeliveries.values()]
        .filter((row) => row.state === 'pending' && Date.parse(row.nextAttemptAt) <= due)
        .filter((row) => row.leaseUntil === null || Date.parse(row.leaseUntil) < due)
        .filter((row) => s.webhooks.get(row.webhookId)?.disabledAt === null)
        .sort((a, b) => Date.parse(a.nextAttemptAt) - Date.parse(b.nextAttemptAt) || a.id - b.id)
        .slice(0, limit)
      return leased.map((row): LeasedWebhookDelivery => {
        row.leaseUntil = utc(leaseUntil)
        const webhook = s.webhooks.get(row.webhookId)!
        return { ...publicDelivery(row), url: webhook.url, secret: webhook.secret }
      })
    },
    async markDelivered(id, status, at) {
      const row = delivery(id)
      if (!row) return
      Object.assign(row, {
        state: 'delivered',
        attempts: row.attempts + 1,
        lastStatus: status,
        lastError: null,
        leaseUntil: null,
        deliveredAt: utc(at),
      })
    },
    async markAttemptFailed(id, status, error, nextAttemptAt) {
      const row = delivery(id)
      if (row?.state !== 'pending') return
      Object.assign(row, {
        attempts: row.attempts + 1,
        lastStatus: status,
        lastError: error,
        leaseUntil: null,
        ...(nextAttemptAt === null ? { state: 'failed' } : { nextAttemptAt: utc(nextAttemptAt) }),
      })
    },
    async requeue(id, at) {
      const row = delivery(id)!
      Object.assign(row, {
        state: 'pending',
        attempts: 0,
        nextAttemptAt: utc(at),
        leaseUntil: null,
        deliveredAt: null,
      })
      return publicDelivery(row)
    },
  }
}

/** What `WebhookOutbox.enqueue` writes: a pending delivery, due now. */
export function newMemoryDelivery(
  fields: Pick<MemoryWebhookDelivery, 'id' | 'webhookId' | 'event' | 'payload'>,
  at: string,
): MemoryWebhookDelivery {
  return {
    ...fields,
    payload: copy(fields.payload),
    state: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    leaseUntil: null,
    lastStatus: null,
    lastError: null,
    createdAt: at,
    deliveredAt: null,
  }
}

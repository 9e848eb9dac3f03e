import { type AuditAction, auditActions } from '../audit-actions.js'
import { InvalidInputError } from '../errors.js'

/** Events sent to webhooks that are not audit actions: work for executors. */
export const executorWebhookEvents = ['deployment.requested'] as const

/** Every event name a webhook can receive: each audit action, and the executors' work. */
export const webhookEventNames: readonly string[] = [...auditActions, ...executorWebhookEvents]

/**
 * What a subscription may name: an event (`halt.created`), every event of a kind (`release.*`),
 * or everything (`*`).
 */
export const webhookEventPattern = /^(\*|[a-z][a-z0-9-]*\.(\*|[a-z][a-z0-9_-]*))$/

const knownKinds = new Set(webhookEventNames.map((name) => name.split('.')[0]!))
const knownNames = new Set(webhookEventNames)

/** Whether a subscription entry names something that is ever sent. */
export function isKnownWebhookEvent(entry: string): boolean {
  if (entry === '*') return true
  if (entry.endsWith('.*')) return knownKinds.has(entry.slice(0, -2))
  return knownNames.has(entry)
}

/** Whether a webhook subscribed to `events` (empty: everything) receives `event`. */
export function webhookWants(events: readonly string[], event: string): boolean {
  if (events.length === 0) return true
  const kind = `${event.split('.')[0]}.*`
  return events.some((entry) => entry === '*' || entry === event || entry === kind)
}

export function assertWebhookEvents(events: readonly string[]): void {
  const invalid = events.filter((event) => !webhookEventPattern.test(event))
  if (invalid.length > 0) {
    throw new InvalidInputError(
      'invalid-webhook-events',
      `event names are dotted lowercase words such as deployment.requested, a kind such as release.*, or *; not: ${invalid.join(', ')}`,
      { invalid },
    )
  }
  const unknown = events.filter((event) => !isKnownWebhookEvent(event))
  if (unknown.length > 0) {
    throw new InvalidInputError(
      'unknown-webhook-events',
      `no event is ever sent as ${unknown.join(', ')}; name audit actions such as stage.awaiting_approval or halt.created, deployment.requested, a kind such as release.*, or *`,
      { unknown },
    )
  }
}

/**
 * Where an audit action's deliveries go: the service it concerns, every service (a halt of the
 * whole line or of a ring), or nowhere (topology, flags, tokens: no service's webhooks).
 */
export type WebhookAudience =
  | { kind: 'release'; releaseId: number; ring: string | undefined }
  | { kind: 'incident'; incidentId: number }
  | { kind: 'service'; service: string }
  | { kind: 'every-service' }
  | { kind: 'none' }

/** Reads the audience from the action's subject and data; no I/O, so the rules test as a table. */
export function webhookAudienceOf(
  action: AuditAction,
  subject: string,
  data: Record<string, unknown>,
): WebhookAudience {
  const release = /^release:(\d+)(?::([^:]+))?/.exec(subject)
  if (release) {
    const ring = release[2] ?? (typeof data.ring === 'string' ? data.ring : undefined)
    return { kind: 'release', releaseId: Number(release[1]), ring }
  }
  const incident = /^incident:(\d+)$/.exec(subject)
  if (incident) return { kind: 'incident', incidentId: Number(incident[1]) }
  if (action === 'halt.created' || action === 'halt.lifted') {
    if (data.scope === 'service' && typeof data.target === 'string') {
      return { kind: 'service', service: data.target }
    }
    return { kind: 'every-service' }
  }
  return { kind: 'none' }
}

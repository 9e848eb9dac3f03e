import type { AuditAction } from '../audit-actions.js'
import type { StoreTransaction } from '../store.js'
import { webhookAudienceOf } from './webhook-events.js'

/** The audit event a webhook is told about, as `audit()` records it. */
export interface AuditedChange {
  actor: string
  action: AuditAction
  subject: string
  data: Record<string, unknown>
}

/**
 * Queues the deliveries of one audit action in the transaction that records it, for the webhooks
 * of the service it concerns (of every service for a halt of the whole line or of a ring). The
 * payload names the release, its version, requester and ring where there is one, so a receiver
 * (or a chat message) needs no second call. Changes that concern no service cost no query.
 */
export async function enqueueAuditNotification(
  tx: StoreTransaction,
  change: AuditedChange,
): Promise<void> {
  const audience = webhookAudienceOf(change.action, change.subject, change.data)
  const base = { actor: change.actor, subject: change.subject, data: change.data }
  switch (audience.kind) {
    case 'none':
      return
    case 'release': {
      const release = await tx.releases.findById(audience.releaseId)
      if (!release) return
      await tx.webhookOutbox.enqueue(release.service, change.action, {
        service: release.service,
        releaseId: release.id,
        version: release.version,
        commit: release.commit,
        requester: release.requester,
        ring: audience.ring ?? null,
        releaseState: release.state,
        ...base,
      })
      return
    }
    case 'incident': {
      const incident = await tx.incidents.findById(audience.incidentId)
      if (!incident) return
      await tx.webhookOutbox.enqueue(incident.service, change.action, {
        service: incident.service,
        incidentId: incident.id,
        title: incident.title,
        severity: incident.severity,
        ring: incident.ring,
        releaseId: incident.releaseId,
        ...base,
      })
      return
    }
    case 'service':
    case 'every-service': {
      const haltId = /^halt:(\d+)$/.exec(change.subject)?.[1]
      const payload = {
        service: audience.kind === 'service' ? audience.service : null,
        ...(haltId !== undefined && { haltId: Number(haltId) }),
        ring: change.data.scope === 'ring' ? (change.data.target ?? null) : null,
        ...base,
      }
      if (audience.kind === 'service') {
        await tx.webhookOutbox.enqueue(audience.service, change.action, payload)
      } else {
        await tx.webhookOutbox.enqueueForEveryService(change.action, payload)
      }
    }
  }
}

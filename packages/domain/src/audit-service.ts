import type { AuditEventPage } from './audit-event.js'
import type { Store } from './store.js'

export const maxAuditPageSize = 500

export class AuditService {
  constructor(private readonly store: Store) {}

  async listAfter(after: number, limit: number): Promise<AuditEventPage> {
    const events = await this.store.read.auditLog.listAfter(
      after,
      Math.min(limit, maxAuditPageSize),
    )
    return { events, nextAfter: events.at(-1)?.id ?? after }
  }
}

/** One change to the state, appended in the same transaction as the change itself. */
export interface AuditEvent {
  id: number
  at: string
  actor: string
  action: string
  subject: string
  data: Record<string, unknown>
  requestId: string | null
}

export interface NewAuditEvent {
  actor: string
  action: string
  subject: string
  data: Record<string, unknown>
  requestId: string | null
}

export interface AuditEventPage {
  events: AuditEvent[]
  /** Pass as `after` to read the next page; equals the request's `after` when nothing is newer. */
  nextAfter: number
}

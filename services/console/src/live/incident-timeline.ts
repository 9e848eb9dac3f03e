import type { AuditEvent, RingmasterClient } from '@ringmaster/sdk'
import { useEffect, useState } from 'react'

/**
 * Follows the incident's own events from its first (`subject=incident:<id>`, `after=0`), oldest
 * first: who declared, changed, mitigated and resolved it. The incident itself has only its
 * times and `createdBy`; the audit trail says who did the rest.
 */
export function useIncidentTimeline(client: RingmasterClient, incidentId: number): AuditEvent[] {
  const [events, setEvents] = useState<AuditEvent[]>([])
  useEffect(() => {
    const stop = new AbortController()
    setEvents([])
    const follow = async () => {
      const stream = client.events({
        after: 0,
        subject: `incident:${incidentId}`,
        signal: stop.signal,
        retry: { retries: 1000, minDelayMs: 500, maxDelayMs: 5000 },
      })
      try {
        for await (const event of stream) {
          if (stop.signal.aborted) return
          setEvents((previous) => [...previous, event])
        }
      } catch {
        // The global stream reports a lost session; the page keeps what it has.
      }
    }
    void follow()
    return () => stop.abort()
  }, [client, incidentId])
  return events
}

/** Who took the step (`incident.resolved`, …) the last time, from the incident's events. */
export function actorOf(events: readonly AuditEvent[], action: string): string | undefined {
  return events.findLast((event) => event.action === action)?.actor
}

import { randomUUID } from 'node:crypto'
import type { Incident, IncidentRepository } from '@ringmaster/domain'

/** Incidents for domain tests, with the table's defaults and ordering. */
export function memoryIncidentRepository(
  incidents: () => Map<number, Incident>,
  now: () => string,
  nextId: () => number,
): IncidentRepository {
  const copy = <T>(value: T): T => structuredClone(value)
  const utc = (value: string | null): string | null =>
    value === null ? null : new Date(value).toISOString()
  return {
    async insert(input) {
      const incident: Incident = {
        ...copy(input),
        startedAt: utc(input.startedAt)!,
        detectedAt: utc(input.detectedAt)!,
        id: nextId(),
        mitigatedAt: null,
        resolvedAt: null,
        reviewUrl: null,
        notes: '',
        traceId: randomUUID().replaceAll('-', ''),
        createdAt: now(),
        updatedAt: now(),
      }
      incidents().set(incident.id, incident)
      return copy(incident)
    },
    // Transactions already run one at a time here, so there is nothing to lock.
    async findById(id, _options) {
      const incident = incidents().get(id)
      return incident ? copy(incident) : null
    },
    async list(filter) {
      return [...incidents().values()]
        .filter((i) => filter.service === undefined || i.service === filter.service)
        .filter((i) => filter.open === undefined || (i.resolvedAt === null) === filter.open)
        .filter(
          (i) =>
            filter.detectedFrom === undefined ||
            Date.parse(i.detectedAt) >= Date.parse(filter.detectedFrom),
        )
        .filter(
          (i) =>
            filter.detectedBefore === undefined ||
            Date.parse(i.detectedAt) < Date.parse(filter.detectedBefore),
        )
        .filter((i) => filter.beforeId === undefined || i.id < filter.beforeId)
        .sort((a, b) => b.id - a.id)
        .slice(0, filter.limit)
        .map(copy)
    },
    async update(id, change) {
      const current = incidents().get(id)!
      const defined = Object.fromEntries(
        Object.entries(change).filter(([, value]) => value !== undefined),
      ) as Partial<Incident>
      const updated: Incident = {
        ...current,
        ...copy(defined),
        ...(change.mitigatedAt !== undefined && { mitigatedAt: utc(change.mitigatedAt) }),
        ...(change.resolvedAt !== undefined && { resolvedAt: utc(change.resolvedAt) }),
        updatedAt: now(),
      }
      incidents().set(id, updated)
      return copy(updated)
    },
  }
}

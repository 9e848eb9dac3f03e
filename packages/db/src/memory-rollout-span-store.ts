import type { RolloutSpan, RolloutSpanRepository } from '@ringmaster/domain'

/** The span outbox for domain tests: same dedupe and lease rules as the table. */
export function memoryRolloutSpanRepository(
  spans: () => Map<number, RolloutSpan & { leaseUntil?: string | null }>,
  nextId: () => number,
): RolloutSpanRepository {
  const copy = <T>(value: T): T => structuredClone(value)
  const publicSpan = ({
    leaseUntil: _lease,
    ...span
  }: RolloutSpan & { leaseUntil?: string | null }) => copy(span)
  return {
    async insertMany(inputs) {
      const rows = spans()
      const taken = new Set([...rows.values()].map((span) => `${span.traceId}/${span.spanId}`))
      for (const input of inputs) {
        const key = `${input.traceId}/${input.spanId}`
        if (taken.has(key)) continue
        taken.add(key)
        const id = nextId()
        rows.set(id, { ...copy(input), id, attempts: 0, leaseUntil: null })
      }
    },
    async lease(now, leaseUntil, limit) {
      const due = Date.parse(now)
      const leased = [...spans().values()]
        .filter((span) => !span.leaseUntil || Date.parse(span.leaseUntil) <= due)
        .sort((a, b) => a.id - b.id)
        .slice(0, limit)
      for (const span of leased) {
        span.leaseUntil = leaseUntil
        span.attempts += 1
      }
      return leased.map(publicSpan)
    },
    async deleteMany(ids) {
      for (const id of ids) spans().delete(id)
    },
    async release(ids, retryAt) {
      for (const id of ids) {
        const span = spans().get(id)
        if (span) span.leaseUntil = retryAt
      }
    },
    async countPending() {
      return spans().size
    },
  }
}

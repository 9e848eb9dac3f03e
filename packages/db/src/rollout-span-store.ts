import type { NewRolloutSpan, RolloutSpan, RolloutSpanRepository } from '@ringmaster/domain'
import { asc, count, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import { rolloutSpans } from './schema/index.js'
import { iso } from './timestamps.js'

// A span row binds 12 parameters; PostgreSQL takes at most 65,535 per statement.
const spanInsertChunk = 2_000

export class DrizzleRolloutSpanRepository implements RolloutSpanRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insertMany(spans: readonly NewRolloutSpan[]): Promise<void> {
    for (let start = 0; start < spans.length; start += spanInsertChunk) {
      await this.db
        .insert(rolloutSpans)
        .values(
          spans.slice(start, start + spanInsertChunk).map((span) => ({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId,
            step: span.step,
            name: span.name,
            startedAt: new Date(span.startedAt),
            endedAt: new Date(span.endedAt),
            status: span.status,
            errorType: span.errorType,
            statusMessage: span.statusMessage,
            facts: span.facts,
            links: span.links,
          })),
        )
        .onConflictDoNothing({ target: [rolloutSpans.traceId, rolloutSpans.spanId] })
    }
  }

  async lease(now: string, leaseUntil: string, limit: number): Promise<RolloutSpan[]> {
    // SKIP LOCKED: two replicas exporting at once take different rows instead of queueing.
    const due = this.db
      .select({ id: rolloutSpans.id })
      .from(rolloutSpans)
      .where(or(isNull(rolloutSpans.leaseUntil), lte(rolloutSpans.leaseUntil, new Date(now))))
      .orderBy(asc(rolloutSpans.id))
      .limit(limit)
      .for('update', { skipLocked: true })
    const rows = await this.db
      .update(rolloutSpans)
      .set({ leaseUntil: new Date(leaseUntil), attempts: sql`${rolloutSpans.attempts} + 1` })
      .where(inArray(rolloutSpans.id, due))
      .returning()
    return rows.sort((a, b) => a.id - b.id).map(toRolloutSpan)
  }

  async deleteMany(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return
    await this.db.delete(rolloutSpans).where(inArray(rolloutSpans.id, [...ids]))
  }

  async release(ids: readonly number[], retryAt: string): Promise<void> {
    if (ids.length === 0) return
    await this.db
      .update(rolloutSpans)
      .set({ leaseUntil: new Date(retryAt) })
      .where(inArray(rolloutSpans.id, [...ids]))
  }

  async countPending(): Promise<number> {
    const [row] = await this.db.select({ count: count() }).from(rolloutSpans)
    return row?.count ?? 0
  }
}

function toRolloutSpan(row: typeof rolloutSpans.$inferSelect): RolloutSpan {
  return {
    id: row.id,
    traceId: row.traceId,
    spanId: row.spanId,
    parentSpanId: row.parentSpanId,
    step: row.step,
    name: row.name,
    startedAt: iso(row.startedAt),
    endedAt: iso(row.endedAt),
    status: row.status,
    errorType: row.errorType,
    statusMessage: row.statusMessage,
    facts: row.facts,
    links: row.links,
    attempts: row.attempts,
  }
}

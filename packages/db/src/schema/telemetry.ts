import type { RolloutSpanFacts, RolloutSpanLink, RolloutSpanStep } from '@ringmaster/domain'
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

/**
 * The span outbox: a rollout span is written in the transaction that ended its step and exported
 * by a worker after commit, so a span is never lost to a crash and never describes a change that
 * rolled back. Rows are deleted once the collector has accepted them.
 */
export const rolloutSpans = pgTable(
  'rollout_spans',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    parentSpanId: text('parent_span_id'),
    step: text('step').$type<RolloutSpanStep>().notNull(),
    name: text('name').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }).notNull(),
    status: text('status').$type<'ok' | 'error' | 'unset'>().notNull(),
    errorType: text('error_type'),
    statusMessage: text('status_message'),
    facts: jsonb('facts').$type<RolloutSpanFacts>().notNull(),
    links: jsonb('links').$type<RolloutSpanLink[]>().notNull().default([]),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    // Span ids are derived from what the span is about, so recording a step twice is a no-op.
    uniqueIndex('rollout_spans_trace_id_span_id_unique').on(table.traceId, table.spanId),
    index('rollout_spans_lease_until_idx').on(table.leaseUntil),
  ],
)

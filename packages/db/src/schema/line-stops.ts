import type { HaltScope, WeeklySchedule } from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

// What stops releases from moving: a halt until someone lifts it, a freeze window by the calendar.

export const halts = pgTable(
  'halts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    scope: text('scope').$type<HaltScope>().notNull(),
    target: text('target'),
    reason: text('reason').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    liftedBy: text('lifted_by'),
    liftedAt: timestamp('lifted_at', { withTimezone: true, mode: 'date' }),
  },
  // The engine reads the active halts before every wave; lifted ones pile up and are not read.
  (table) => [index('halts_active_idx').on(table.id).where(sql`${table.liftedAt} is null`)],
)

export const freezeWindows = pgTable('freeze_windows', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull(),
  scope: text('scope').$type<HaltScope>().notNull(),
  target: text('target'),
  startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }),
  endsAt: timestamp('ends_at', { withTimezone: true, mode: 'date' }),
  schedule: jsonb('schedule').$type<WeeklySchedule>(),
  reason: text('reason').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

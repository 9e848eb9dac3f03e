import type { HealthStatus } from '@ringmaster/domain'
import { bigserial, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'

// What each scale unit runs and how it is doing. Services and scale units are named, not
// referenced: reports and versions outlive a scale unit's deletion for the history.

export const healthReports = pgTable(
  'health_reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    scaleUnit: text('scale_unit').notNull(),
    service: text('service').notNull(),
    status: text('status').$type<HealthStatus>().notNull(),
    signals: jsonb('signals').$type<Record<string, number>>().notNull(),
    reportedBy: text('reported_by').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('health_reports_service_scale_unit_at_idx').on(table.service, table.scaleUnit, table.at),
  ],
)

export const installedVersions = pgTable(
  'installed_versions',
  {
    service: text('service').notNull(),
    scaleUnit: text('scale_unit').notNull(),
    version: text('version').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.service, table.scaleUnit] })],
)

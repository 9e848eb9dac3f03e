import type { IncidentSeverity } from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core'
import { halts } from './line-stops.js'
import { releases } from './releases.js'
import { services } from './topology.js'

// An incident keeps the ring and scale units it was declared on by name, and the share of fleet
// traffic they carried then: its weight in the reports must not move when the topology does.

export const incidents = pgTable(
  'incidents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'restrict' }),
    severity: text('severity').$type<IncidentSeverity>().notNull(),
    title: text('title').notNull(),
    ring: text('ring'),
    scaleUnits: jsonb('scale_units').$type<string[]>().notNull().default([]),
    /** Fraction (0..1] of the fleet's traffic weight the incident touched. */
    trafficShare: doublePrecision('traffic_share').notNull(),
    releaseId: bigint('release_id', { mode: 'number' }).references((): AnyPgColumn => releases.id, {
      onDelete: 'set null',
    }),
    haltId: bigint('halt_id', { mode: 'number' }).references(() => halts.id, {
      onDelete: 'set null',
    }),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    detectedAt: timestamp('detected_at', { withTimezone: true, mode: 'date' }).notNull(),
    mitigatedAt: timestamp('mitigated_at', { withTimezone: true, mode: 'date' }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
    reviewUrl: text('review_url'),
    notes: text('notes').notNull().default(''),
    createdBy: text('created_by').notNull(),
    traceId: text('trace_id').notNull().default(sql`replace(gen_random_uuid()::text, '-', '')`),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('incidents_service_id_detected_at_idx').on(table.serviceId, table.detectedAt),
    index('incidents_release_id_idx').on(table.releaseId),
  ],
)

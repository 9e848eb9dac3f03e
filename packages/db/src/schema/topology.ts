import type { RingPolicy } from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    owner: text('owner'),
    ...timestamps,
  },
  (table) => [uniqueIndex('services_name_unique').on(table.name)],
)

export const rings = pgTable(
  'rings',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    name: text('name').notNull(),
    // "order" is an SQL keyword; the API calls it order.
    ringOrder: integer('ring_order').notNull(),
    description: text('description').notNull().default(''),
    policy: jsonb('policy').$type<RingPolicy>().notNull(),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('rings_name_unique').on(table.name),
    uniqueIndex('rings_ring_order_unique').on(table.ringOrder),
  ],
)

export const scaleUnits = pgTable(
  'scale_units',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    name: text('name').notNull(),
    region: text('region').notNull(),
    ringId: uuid('ring_id')
      .notNull()
      .references(() => rings.id, { onDelete: 'restrict' }),
    pairedWithId: uuid('paired_with_id').references((): AnyPgColumn => scaleUnits.id, {
      onDelete: 'set null',
    }),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    // Its share of the fleet's traffic, relative to the others; weighs outages in the reports.
    trafficWeight: doublePrecision('traffic_weight').notNull().default(1),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('scale_units_name_unique').on(table.name),
    index('scale_units_ring_id_idx').on(table.ringId),
    index('scale_units_region_idx').on(table.region),
  ],
)

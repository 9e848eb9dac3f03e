import type {
  Constraint,
  Dependency,
  FlagStrategy,
  FlagType,
  SdkKind,
  VariantDefinition,
} from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { rings } from './topology.js'

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}

/** What a flag is in every ring; archived flags stay, so that putting the key again revives them. */
export const flags = pgTable(
  'flags',
  {
    key: text('key').primaryKey(),
    project: text('project').notNull(),
    description: text('description').notNull().default(''),
    type: text('type').$type<FlagType>().notNull(),
    owner: text('owner'),
    tags: text('tags').array().notNull().default([]),
    impressionData: boolean('impression_data').notNull().default(false),
    stale: boolean('stale').notNull().default(false),
    archived: boolean('archived').notNull().default(false),
    variants: jsonb('variants').$type<VariantDefinition[]>().notNull().default([]),
    dependencies: jsonb('dependencies').$type<Dependency[]>().notNull().default([]),
    ...timestamps,
  },
  (table) => [index('flags_project_idx').on(table.project)],
)

/** How a flag behaves in one ring; a ring without a row sees the flag disabled. */
export const flagRingStates = pgTable(
  'flag_ring_states',
  {
    flagKey: text('flag_key')
      .notNull()
      .references(() => flags.key, { onDelete: 'cascade' }),
    ring: text('ring')
      .notNull()
      .references(() => rings.name, { onDelete: 'cascade' }),
    enabled: boolean('enabled').notNull(),
    strategies: jsonb('strategies').$type<FlagStrategy[]>().notNull().default([]),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.flagKey, table.ring] }),
    index('flag_ring_states_ring_idx').on(table.ring),
  ],
)

export const segments = pgTable(
  'segments',
  {
    // The number Unleash SDKs see in strategies[].segments; kept when a segment is replaced.
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    constraints: jsonb('constraints').$type<Constraint[]>().notNull().default([]),
    ...timestamps,
  },
  (table) => [uniqueIndex('segments_name_unique').on(table.name)],
)

// Rings are named, not referenced: a ring deleted and made again must go on from its old
// revision, or SDKs holding a newer revision would never see the new ring's changes.
export const flagRingRevisions = pgTable('flag_ring_revisions', {
  ring: text('ring').primaryKey(),
  revision: bigint('revision', { mode: 'number' }).notNull(),
})

/** The change log behind the delta API: which flag or segment changed at each ring revision. */
export const flagChanges = pgTable(
  'flag_changes',
  {
    ring: text('ring').notNull(),
    revision: bigint('revision', { mode: 'number' }).notNull(),
    kind: text('kind').$type<'flag' | 'segment'>().notNull(),
    name: text('name').notNull(),
    segmentId: integer('segment_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.ring, table.revision, table.kind, table.name] })],
)

/** Evaluation counts SDKs reported, summed per flag, ring and hour. */
export const flagMetrics = pgTable(
  'flag_metrics',
  {
    flag: text('flag').notNull(),
    ring: text('ring').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    yes: bigint('yes', { mode: 'number' }).notNull().default(0),
    no: bigint('no', { mode: 'number' }).notNull().default(0),
    variants: jsonb('variants').$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
  },
  (table) => [primaryKey({ columns: [table.flag, table.ring, table.hour] })],
)

export const sdkRegistrations = pgTable(
  'sdk_registrations',
  {
    ring: text('ring').notNull(),
    kind: text('kind').$type<SdkKind>().notNull(),
    appName: text('app_name').notNull(),
    instanceId: text('instance_id').notNull(),
    sdkVersion: text('sdk_version'),
    strategies: text('strategies').array().notNull().default([]),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    intervalMs: integer('interval_ms'),
    seenAt: timestamp('seen_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.ring, table.kind, table.appName, table.instanceId] })],
)

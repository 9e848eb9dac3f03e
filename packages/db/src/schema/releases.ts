import type {
  ApprovalDecision,
  ApprovalGateName,
  DeploymentKind,
  DeploymentState,
  ReleaseHalt,
  ReleaseKind,
  ReleaseState,
  RingPolicy,
  Stage,
  StageState,
} from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { incidents } from './incidents.js'
import { services } from './topology.js'

// Rings and scale units are copied into a release by name: its history must read the same after
// a ring is renumbered or a scale unit is deleted.

export const releases = pgTable(
  'releases',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'restrict' }),
    version: text('version').notNull(),
    commit: text('commit'),
    commitTime: timestamp('commit_time', { withTimezone: true, mode: 'date' }),
    buildUrl: text('build_url'),
    notes: text('notes').notNull().default(''),
    kind: text('kind').$type<ReleaseKind>().notNull(),
    reason: text('reason'),
    requester: text('requester').notNull(),
    ringFrom: text('ring_from').notNull(),
    ringTo: text('ring_to').notNull(),
    state: text('state').$type<ReleaseState>().notNull(),
    halt: jsonb('halt').$type<ReleaseHalt>(),
    outcome: text('outcome'),
    // One trace per release: every replica adds its spans to this trace (see ADR 0005).
    traceId: text('trace_id').notNull().default(sql`replace(gen_random_uuid()::text, '-', '')`),
    /** The incident this release responds to (a hotfix's reason, for the rework rate). */
    incidentId: bigint('incident_id', { mode: 'number' }).references(
      (): AnyPgColumn => incidents.id,
      { onDelete: 'set null' },
    ),
    // When the engine looks at the release again unprompted, and which replica is looking now.
    nextCheckAt: timestamp('next_check_at', { withTimezone: true, mode: 'date' }),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    index('releases_service_id_state_idx').on(table.serviceId, table.state),
    index('releases_state_next_check_at_idx').on(table.state, table.nextCheckAt),
  ],
)

export const releaseStages = pgTable(
  'release_stages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    releaseId: bigint('release_id', { mode: 'number' })
      .notNull()
      .references(() => releases.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    ring: text('ring').notNull(),
    ringOrder: integer('ring_order').notNull(),
    policy: jsonb('policy').$type<RingPolicy>().notNull(),
    waves: jsonb('waves').$type<string[][]>().notNull(),
    state: text('state').$type<StageState>().notNull(),
    currentWave: integer('current_wave').notNull().default(-1),
    // When the stage entered its state and its latest wave: where a span for that step begins.
    stateSince: timestamp('state_since', { withTimezone: true, mode: 'date' }),
    waveStartedAt: timestamp('wave_started_at', { withTimezone: true, mode: 'date' }),
    gate: text('gate').$type<ApprovalGateName>(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    deployedAt: timestamp('deployed_at', { withTimezone: true, mode: 'date' }),
    bakeUntil: timestamp('bake_until', { withTimezone: true, mode: 'date' }),
    approvalExpiresAt: timestamp('approval_expires_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    freezeOverride: jsonb('freeze_override').$type<NonNullable<Stage['freezeOverride']>>(),
  },
  (table) => [
    uniqueIndex('release_stages_release_id_position_unique').on(table.releaseId, table.position),
    index('release_stages_ring_state_idx').on(table.ring, table.state),
  ],
)

export const deployments = pgTable(
  'deployments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    releaseId: bigint('release_id', { mode: 'number' })
      .notNull()
      .references(() => releases.id, { onDelete: 'cascade' }),
    stageId: bigint('stage_id', { mode: 'number' })
      .notNull()
      .references(() => releaseStages.id, { onDelete: 'cascade' }),
    ring: text('ring').notNull(),
    service: text('service').notNull(),
    scaleUnit: text('scale_unit').notNull(),
    wave: integer('wave').notNull(),
    kind: text('kind').$type<DeploymentKind>().notNull(),
    version: text('version'),
    previousVersion: text('previous_version'),
    state: text('state').$type<DeploymentState>().notNull(),
    attempt: integer('attempt').notNull().default(1),
    message: text('message'),
    logsUrl: text('logs_url'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** When this attempt was asked for: creation, or the latest retry. */
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' })
      .notNull()
      .defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    // What keeps two replicas (or a retried step) from creating the same deployment twice.
    uniqueIndex('deployments_stage_id_scale_unit_kind_unique').on(
      table.stageId,
      table.scaleUnit,
      table.kind,
    ),
    index('deployments_scale_unit_state_idx').on(table.scaleUnit, table.state),
    index('deployments_release_id_idx').on(table.releaseId),
    index('deployments_stage_id_wave_idx').on(table.stageId, table.wave),
  ],
)

export const approvals = pgTable(
  'approvals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    releaseId: bigint('release_id', { mode: 'number' })
      .notNull()
      .references(() => releases.id, { onDelete: 'cascade' }),
    stageId: bigint('stage_id', { mode: 'number' })
      .notNull()
      .references(() => releaseStages.id, { onDelete: 'cascade' }),
    ring: text('ring').notNull(),
    gate: text('gate').$type<ApprovalGateName>().notNull(),
    subject: text('subject').notNull(),
    role: text('role').notNull(),
    decision: text('decision').$type<ApprovalDecision>().notNull(),
    comment: text('comment').notNull().default(''),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('approvals_stage_id_idx').on(table.stageId),
    index('approvals_release_id_idx').on(table.releaseId),
  ],
)

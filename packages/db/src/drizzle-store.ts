import {
  type ApiToken,
  type ApiTokenRepository,
  type AuditEvent,
  type AuditLog,
  ConflictError,
  type IdempotencyClaim,
  type IdempotencyRepository,
  InvalidInputError,
  isRole,
  type NewApiToken,
  type NewAuditEvent,
  type NewRing,
  type NewScaleUnit,
  type NewService,
  type ReadOptions,
  type Ring,
  type RingChange,
  type RingRepository,
  type ScaleUnit,
  type ScaleUnitChange,
  type ScaleUnitFilter,
  type ScaleUnitRepository,
  type Service,
  type ServiceRepository,
  type Store,
  type StoredApiToken,
  type StoreTransaction,
  storedRingPolicy,
  type WebhookOutbox,
} from '@ringmaster/domain'
import { and, asc, count, eq, gt, inArray, isNull, type SQL, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import {
  DrizzleConsoleSessionRepository,
  DrizzleServerSecretRepository,
} from './console-session-store.js'
import type { RingmasterDatabase } from './database.js'
import { flagRepositories } from './flag-store.js'
import { DrizzleIncidentRepository } from './incident-store.js'
import { releaseRepositories } from './release-store.js'
import { DrizzleReliabilityRecordRepository } from './reliability-store.js'
import { DrizzleRolloutSpanRepository } from './rollout-span-store.js'
import {
  apiTokens,
  auditEvents,
  idempotencyKeys,
  rings,
  scaleUnits,
  services,
  webhookDeliveries,
  webhooks,
} from './schema/index.js'
import { iso, isoOrNull } from './timestamps.js'
import { DrizzleWebhookRepository } from './webhook-store.js'

// Audit events are read in id order by pollers (`after=<id>`). Ids come from a sequence, so two
// transactions could commit their events out of id order and a poller would skip the slower one.
// Events are therefore written as the transaction's last statements, under one transaction-scoped
// lock held only from there to the commit (ADR 0006): commit order equals id order, and no
// transaction waits for another's work, only for its final insert and commit.
const auditAppendLockKey = 0x41554454
// One statement binds the whole chunk as one JSON parameter; chunks keep each statement short.
// A transaction with more events than one chunk stages them before taking the lock.
const auditInsertChunk = 500

// Replicas starting together on an empty database each saw no admin token and stored their own;
// the bootstrap now takes this transaction-scoped lock before it looks (see lockAdminBootstrap).
const adminBootstrapLockKey = 0x41444d4e

/** NOTIFY channel on which a revoked token's id is announced once the revocation commits. */
export const tokenRevocationsChannel = 'ringmaster_token_revocations'

const uniqueViolation = '23505'
const foreignKeyViolation = '23503'
const retryableCodes = new Set(['40P01', '40001'])
/**
 * Data exceptions (SQLSTATE class 22) a value itself causes: a NUL or an unpaired surrogate
 * (22021, 22P05, 22P02 in jsonb), a number out of a column's range (22003), a date out of range
 * (22008). Validation refuses these first; this is the net under it, so a value that slips
 * through is refused as input instead of failing as the server's fault.
 */
const unstorableValueCodes = new Set(['22021', '22P05', '22P02', '22003', '22008', '22001'])
const maxAttempts = 3

/** Constraint names the domain checks first; hitting one means a concurrent writer got there. */
const conflictMessages: Record<string, string> = {
  services_name_unique: 'a service with that name was created at the same time',
  rings_name_unique: 'a ring with that name was created at the same time',
  rings_ring_order_unique: 'another ring took that order at the same time',
  scale_units_name_unique: 'a scale unit with that name was created at the same time',
  release_stages_release_id_position_unique:
    'the stages of this release were planned at the same time; read the release again',
  // deployments.insertMany skips these rows; only another way of inserting could hit it.
  deployments_stage_id_scale_unit_kind_unique:
    'this deployment was created at the same time; read the release again',
}

export class DrizzleStore implements Store {
  readonly read: StoreTransaction

  constructor(private readonly db: RingmasterDatabase) {
    this.read = repositories(db)
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction(async (tx) => {
          const db = tx as unknown as RingmasterDatabase
          const auditLog = new DrizzleAuditLog(db, [])
          const result = await work(repositories(db, auditLog))
          await auditLog.flush()
          return result
        })
      } catch (error) {
        // Two commands locking the same rows in opposite order: PostgreSQL aborts one. Nothing
        // it wrote survived, so running it again is safe.
        if (attempt < maxAttempts && retryableCodes.has(pgErrorOf(error).code ?? '')) continue
        throw translateConstraintError(error)
      }
    }
  }
}

/**
 * The repositories on one connection or transaction. Inside a transaction the audit log keeps
 * what is appended until `flush`, which the transaction calls last.
 */
function repositories(
  db: RingmasterDatabase,
  auditLog = new DrizzleAuditLog(db, null),
): StoreTransaction {
  return {
    services: new DrizzleServiceRepository(db),
    rings: new DrizzleRingRepository(db),
    scaleUnits: new DrizzleScaleUnitRepository(db),
    apiTokens: new DrizzleApiTokenRepository(db),
    consoleSessions: new DrizzleConsoleSessionRepository(db),
    serverSecrets: new DrizzleServerSecretRepository(db),
    auditLog,
    idempotency: new DrizzleIdempotencyRepository(db),
    webhookOutbox: new DrizzleWebhookOutbox(db),
    webhooks: new DrizzleWebhookRepository(db),
    incidents: new DrizzleIncidentRepository(db),
    rolloutSpans: new DrizzleRolloutSpanRepository(db),
    reliabilityRecords: new DrizzleReliabilityRecordRepository(db),
    ...releaseRepositories(db),
    ...flagRepositories(db),
  }
}

interface PgError {
  code?: string
  constraint_name?: string
  constraint?: string
}

/** drizzle wraps driver errors; postgres-js and PGlite name the constraint differently. */
function pgErrorOf(error: unknown): PgError {
  return ((error as { cause?: unknown })?.cause ?? error ?? {}) as PgError
}

function translateConstraintError(error: unknown): unknown {
  const { code, constraint_name: constraintName, constraint } = pgErrorOf(error)
  const name = constraintName ?? constraint
  if (code === uniqueViolation && name && conflictMessages[name]) {
    return new ConflictError('concurrent-change', conflictMessages[name], { constraint: name })
  }
  if (code !== undefined && unstorableValueCodes.has(code)) {
    return new InvalidInputError(
      'unstorable-value',
      'a value cannot be stored: text must not contain NUL or unpaired surrogates, and numbers must fit their field',
      { sqlstate: code },
    )
  }
  if (code === foreignKeyViolation) {
    return new ConflictError(
      'concurrent-change',
      'something this change refers to (a service, ring, scale unit or release) was changed or deleted at the same time; read it again and retry',
      { constraint: name },
    )
  }
  return error
}

class DrizzleServiceRepository implements ServiceRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(service: NewService): Promise<Service> {
    const [row] = await this.db.insert(services).values(service).returning()
    return toService(row!)
  }

  async findByName(name: string, options: ReadOptions = {}): Promise<Service | null> {
    const query = this.db.select().from(services).where(eq(services.name, name)).$dynamic()
    const [row] = await (options.forUpdate ? query.for('update') : query)
    return row ? toService(row) : null
  }

  async list(): Promise<Service[]> {
    const rows = await this.db.select().from(services).orderBy(asc(services.name))
    return rows.map(toService)
  }
}

function toService(row: typeof services.$inferSelect): Service {
  return {
    name: row.name,
    description: row.description,
    owner: row.owner,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  }
}

class DrizzleRingRepository implements RingRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(ring: NewRing): Promise<Ring> {
    const [row] = await this.db
      .insert(rings)
      .values({
        name: ring.name,
        ringOrder: ring.order,
        description: ring.description,
        policy: ring.policy,
      })
      .returning()
    return toRing(row!, [])
  }

  async findByName(name: string): Promise<Ring | null> {
    return this.findOne(eq(rings.name, name))
  }

  async findByOrder(order: number): Promise<Ring | null> {
    return this.findOne(eq(rings.ringOrder, order))
  }

  async list(): Promise<Ring[]> {
    const rows = await this.db.select().from(rings).orderBy(asc(rings.ringOrder))
    const members = await this.scaleUnitNamesByRing(rows.map((row) => row.id))
    return rows.map((row) => toRing(row, members.get(row.id) ?? []))
  }

  async update(name: string, change: RingChange): Promise<Ring> {
    const [row] = await this.db
      .update(rings)
      .set({
        ...(change.order !== undefined && { ringOrder: change.order }),
        ...(change.description !== undefined && { description: change.description }),
        ...(change.policy !== undefined && { policy: change.policy }),
        updatedAt: sql`now()`,
      })
      .where(eq(rings.name, name))
      .returning()
    const members = await this.scaleUnitNamesByRing([row!.id])
    return toRing(row!, members.get(row!.id) ?? [])
  }

  async delete(name: string): Promise<void> {
    await this.db.delete(rings).where(eq(rings.name, name))
  }

  private async findOne(condition: ReturnType<typeof eq>): Promise<Ring | null> {
    const [row] = await this.db.select().from(rings).where(condition)
    if (!row) return null
    const members = await this.scaleUnitNamesByRing([row.id])
    return toRing(row, members.get(row.id) ?? [])
  }

  private async scaleUnitNamesByRing(ringIds: string[]): Promise<Map<string, string[]>> {
    const byRing = new Map<string, string[]>()
    if (ringIds.length === 0) return byRing
    const rows = await this.db
      .select({ ringId: scaleUnits.ringId, name: scaleUnits.name })
      .from(scaleUnits)
      .where(inArray(scaleUnits.ringId, ringIds))
      .orderBy(asc(scaleUnits.name))
    for (const row of rows) {
      const names = byRing.get(row.ringId) ?? []
      names.push(row.name)
      byRing.set(row.ringId, names)
    }
    return byRing
  }
}

function toRing(row: typeof rings.$inferSelect, scaleUnitNames: string[]): Ring {
  return {
    name: row.name,
    order: row.ringOrder,
    description: row.description,
    policy: storedRingPolicy(row.policy),
    scaleUnits: scaleUnitNames,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  }
}

const partner = alias(scaleUnits, 'partner')

class DrizzleScaleUnitRepository implements ScaleUnitRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(scaleUnit: NewScaleUnit): Promise<ScaleUnit> {
    await this.db.insert(scaleUnits).values({
      name: scaleUnit.name,
      region: scaleUnit.region,
      ringId: await this.ringId(scaleUnit.ring),
      pairedWithId: scaleUnit.pairedWith === null ? null : await this.id(scaleUnit.pairedWith),
      labels: scaleUnit.labels,
      trafficWeight: scaleUnit.trafficWeight,
    })
    return (await this.findByName(scaleUnit.name))!
  }

  async findByName(name: string, options: ReadOptions = {}): Promise<ScaleUnit | null> {
    if (options.forUpdate) {
      // Lock first, read after: a locking read that had to wait re-checks only the locked row, so
      // in the same statement the joined partner name would still come from the old snapshot.
      await this.db
        .select({ id: scaleUnits.id })
        .from(scaleUnits)
        .where(eq(scaleUnits.name, name))
        .for('update')
    }
    const [row] = await this.select().where(eq(scaleUnits.name, name))
    return row ? toScaleUnit(row) : null
  }

  async list(filter: ScaleUnitFilter): Promise<ScaleUnit[]> {
    const conditions = [
      filter.ring === undefined ? undefined : eq(rings.name, filter.ring),
      filter.region === undefined ? undefined : eq(scaleUnits.region, filter.region),
    ]
    const rows = await this.select()
      .where(and(...conditions))
      .orderBy(asc(rings.ringOrder), asc(scaleUnits.name))
    return rows.map(toScaleUnit)
  }

  async update(name: string, change: ScaleUnitChange): Promise<ScaleUnit> {
    await this.db
      .update(scaleUnits)
      .set({
        ...(change.region !== undefined && { region: change.region }),
        ...(change.labels !== undefined && { labels: change.labels }),
        ...(change.trafficWeight !== undefined && { trafficWeight: change.trafficWeight }),
        ...(change.ring !== undefined && { ringId: await this.ringId(change.ring) }),
        ...(change.pairedWith !== undefined && {
          pairedWithId: change.pairedWith === null ? null : await this.id(change.pairedWith),
        }),
        updatedAt: sql`now()`,
      })
      .where(eq(scaleUnits.name, name))
    return (await this.findByName(name))!
  }

  async delete(name: string): Promise<void> {
    await this.db.delete(scaleUnits).where(eq(scaleUnits.name, name))
  }

  private select() {
    return this.db
      .select({ unit: scaleUnits, ring: rings.name, pairedWith: partner.name })
      .from(scaleUnits)
      .innerJoin(rings, eq(rings.id, scaleUnits.ringId))
      .leftJoin(partner, eq(partner.id, scaleUnits.pairedWithId))
      .$dynamic()
  }

  private async ringId(name: string): Promise<string> {
    const [row] = await this.db.select({ id: rings.id }).from(rings).where(eq(rings.name, name))
    return row!.id
  }

  private async id(name: string): Promise<string> {
    const [row] = await this.db
      .select({ id: scaleUnits.id })
      .from(scaleUnits)
      .where(eq(scaleUnits.name, name))
    return row!.id
  }
}

function toScaleUnit(row: {
  unit: typeof scaleUnits.$inferSelect
  ring: string
  pairedWith: string | null
}): ScaleUnit {
  return {
    name: row.unit.name,
    region: row.unit.region,
    ring: row.ring,
    pairedWith: row.pairedWith,
    labels: row.unit.labels,
    trafficWeight: row.unit.trafficWeight,
    createdAt: iso(row.unit.createdAt),
    updatedAt: iso(row.unit.updatedAt),
  }
}

class DrizzleApiTokenRepository implements ApiTokenRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(token: NewApiToken): Promise<ApiToken> {
    const [row] = await this.db
      .insert(apiTokens)
      .values({ ...token, expiresAt: token.expiresAt === null ? null : new Date(token.expiresAt) })
      .returning()
    return toApiToken(row!)
  }

  async findById(id: string): Promise<ApiToken | null> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.id, id))
    return row ? toApiToken(row) : null
  }

  async findLiveByPrefix(prefix: string): Promise<StoredApiToken[]> {
    const rows = await this.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.prefix, prefix), isNull(apiTokens.revokedAt)))
    return rows.map((row) => ({ ...toApiToken(row), secretHash: row.secretHash }))
  }

  async list(): Promise<ApiToken[]> {
    const rows = await this.db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt))
    return rows.map(toApiToken)
  }

  async countLiveWithRole(role: ApiToken['role'], options: ReadOptions = {}): Promise<number> {
    const live = and(eq(apiTokens.role, role), isNull(apiTokens.revokedAt))
    if (options.forUpdate) {
      // Aggregates cannot be locked; lock the rows and count them.
      const rows = await this.db
        .select({ id: apiTokens.id })
        .from(apiTokens)
        .where(live)
        .for('update')
      return rows.length
    }
    const [row] = await this.db.select({ count: count() }).from(apiTokens).where(live)
    return row?.count ?? 0
  }

  async lockAdminBootstrap(): Promise<void> {
    await this.db.execute(sql`select pg_advisory_xact_lock(${adminBootstrapLockKey})`)
  }

  async revoke(id: string, at: string): Promise<ApiToken> {
    const [row] = await this.db
      .update(apiTokens)
      .set({ revokedAt: new Date(at) })
      .where(eq(apiTokens.id, id))
      .returning()
    // Replicas keep recently authenticated tokens in memory; this tells them (at commit) to forget.
    await this.db.execute(sql`select pg_notify(${tokenRevocationsChannel}, ${id})`)
    return toApiToken(row!)
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date(at) })
      .where(eq(apiTokens.id, id))
  }
}

function toApiToken(row: typeof apiTokens.$inferSelect): ApiToken {
  if (!isRole(row.role)) throw new Error(`token ${row.id} has an unknown role in the database`)
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    subject: row.subject,
    ring: row.ring,
    prefix: row.prefix,
    createdAt: iso(row.createdAt),
    createdBy: row.createdBy,
    expiresAt: isoOrNull(row.expiresAt),
    lastUsedAt: isoOrNull(row.lastUsedAt),
    revokedAt: isoOrNull(row.revokedAt),
  }
}

class DrizzleAuditLog implements AuditLog {
  /**
   * `pending` is null outside a transaction: then each append is a transaction of its own.
   * Inside one, each event is kept as the JSON it will be inserted as: that is the copy that
   * keeps it safe from later changes by the caller, and costs less than a clone and a
   * serialization at the end (an import appends thousands).
   */
  constructor(
    private readonly db: RingmasterDatabase,
    private readonly pending: string[] | null,
  ) {}

  async append(event: NewAuditEvent): Promise<void> {
    if (this.pending) {
      this.pending.push(eventJson(event))
      return
    }
    await this.db.transaction((tx) =>
      appendInCommitOrder(tx as unknown as RingmasterDatabase, [eventJson(event)]),
    )
  }

  /** Writes what was appended; the transaction's last statements before its commit. */
  async flush(): Promise<void> {
    if (!this.pending || this.pending.length === 0) return
    const events = this.pending.splice(0)
    await appendInCommitOrder(this.db, events)
  }

  async listAfter(after: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db
      .select()
      .from(auditEvents)
      .where(gt(auditEvents.id, after))
      .orderBy(asc(auditEvents.id))
      .limit(limit)
    return rows.map(toAuditEvent)
  }
}

/**
 * Takes the append lock, then inserts `events` in order. `at` is read from the clock under the
 * lock, and never before the newest event's, so that it does not decrease in id order even if
 * the clock steps back. The lock is released by the commit that follows.
 *
 * Many events (an import appends one per flag) are first copied into a temporary table, before
 * the lock: parsing megabytes of JSON under the lock made every other audited write, stopping
 * the line included, wait for it. Under the lock only the copy from that table remains.
 */
async function appendInCommitOrder(db: RingmasterDatabase, rows: readonly string[]): Promise<void> {
  const array = (from: number, to: number) => `[${rows.slice(from, to).join(',')}]`
  if (rows.length <= auditInsertChunk) {
    await db.execute(sql`select pg_advisory_xact_lock(${auditAppendLockKey})`)
    await insertAuditEvents(
      db,
      sql`jsonb_array_elements(${array(0, rows.length)}::jsonb) with ordinality as event(value, position)`,
    )
    return
  }
  // Dropped by the commit or the rollback that ends this transaction.
  await db.execute(sql`
    create temporary table audit_events_staged (position bigint not null, value jsonb not null)
    on commit drop`)
  for (let start = 0; start < rows.length; start += auditInsertChunk) {
    await db.execute(sql`
      insert into audit_events_staged (position, value)
      select ${start}::bigint + event.position, event.value
      from jsonb_array_elements(${array(start, start + auditInsertChunk)}::jsonb)
        with ordinality as event(value, position)`)
  }
  await db.execute(sql`select pg_advisory_xact_lock(${auditAppendLockKey})`)
  await insertAuditEvents(db, sql`audit_events_staged as event`)
}

/** An event as the insert reads it (`value->>'actor'` and so on). */
function eventJson(event: NewAuditEvent): string {
  return JSON.stringify({
    actor: event.actor,
    action: event.action,
    subject: event.subject,
    data: event.data,
    requestId: event.requestId,
  })
}

/** Inserts the events `source` yields (`value`, in `position` order) with ids and `at` drawn now. */
async function insertAuditEvents(db: RingmasterDatabase, source: SQL): Promise<void> {
  // A subquery with ORDER BY is not flattened, so ids are drawn in the events' order.
  await db.execute(sql`
    insert into ${auditEvents} (at, actor, action, subject, data, request_id)
    select stamp.at, event.value->>'actor', event.value->>'action', event.value->>'subject',
      event.value->'data', event.value->>'requestId'
    from (
      select greatest(
        clock_timestamp(),
        coalesce(
          (select ${auditEvents.at} from ${auditEvents} order by ${auditEvents.id} desc limit 1),
          '-infinity'::timestamptz
        )
      ) as at
    ) as stamp
    cross join ${source}
    order by event.position`)
}

function toAuditEvent(row: typeof auditEvents.$inferSelect): AuditEvent {
  return {
    id: row.id,
    at: iso(row.at),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    data: row.data,
    requestId: row.requestId,
  }
}

class DrizzleIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    // A concurrent transaction inserting the same key makes this insert wait for it to finish.
    const claimed = await this.db
      .insert(idempotencyKeys)
      .values({ scope, key, fingerprint })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key })
    if (claimed.length > 0) return { outcome: 'claimed' }
    const [existing] = await this.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    if (!existing || existing.fingerprint !== fingerprint) return { outcome: 'mismatch' }
    return { outcome: 'replay', result: existing.result }
  }

  async complete(scope: string, key: string, result: unknown): Promise<void> {
    await this.db
      .update(idempotencyKeys)
      .set({ result })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
  }
}

class DrizzleWebhookOutbox implements WebhookOutbox {
  constructor(private readonly db: RingmasterDatabase) {}

  async enqueue(service: string, event: string, payload: Record<string, unknown>): Promise<void> {
    await this.enqueueMany(service, event, [payload])
  }

  async enqueueMany(
    service: string,
    event: string,
    payloads: Record<string, unknown>[],
  ): Promise<void> {
    if (payloads.length === 0) return
    await this.insert(event, payloads, sql`${services.name} = ${service}`)
  }

  async enqueueForEveryService(event: string, payload: Record<string, unknown>): Promise<void> {
    await this.insert(event, [payload], sql`true`)
  }

  /**
   * One statement: a delivery per payload for each enabled webhook of the services `where`
   * picks that wants this event (webhookWants: an empty list, `*`, `kind.*` or the name), in
   * array order. The column list is unqualified, as INSERT requires.
   */
  private async insert(
    event: string,
    payloads: Record<string, unknown>[],
    where: SQL,
  ): Promise<void> {
    const kind = `${event.split('.')[0]}.*`
    await this.db.execute(sql`
      insert into ${webhookDeliveries} (webhook_id, event, payload)
      select ${webhooks.id}, ${event}::text, payload.value
      from ${webhooks}
      inner join ${services} on ${services.id} = ${webhooks.serviceId}
      cross join jsonb_array_elements(${JSON.stringify(payloads)}::jsonb) with ordinality as payload
      where ${where}
        and ${webhooks.disabledAt} is null
        and (cardinality(${webhooks.events}) = 0
          or ${webhooks.events} && array[${event}::text, ${kind}::text, '*'::text])
      order by ${webhooks.id}, payload.ordinality`)
  }
}

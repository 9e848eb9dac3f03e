import type {
  Flag,
  FlagChange,
  FlagDefinition,
  FlagFilter,
  FlagMetricsBucket,
  FlagMetricsRepository,
  FlagRepository,
  FlagRevisionRepository,
  FlagRingState,
  FlagStoreTransaction,
  ReadOptions,
  RingFlagState,
  SdkKind,
  SdkRegistration,
  SdkRegistrationRepository,
  Segment,
  SegmentRepository,
} from '@ringmaster/domain'
import {
  and,
  arrayContains,
  asc,
  eq,
  exists,
  getTableColumns,
  gt,
  gte,
  inArray,
  is,
  lte,
  type SQL,
  sql,
} from 'drizzle-orm'
import { PgTransaction } from 'drizzle-orm/pg-core'
import type { RingmasterDatabase } from './database.js'
import {
  flagChanges,
  flagMetrics,
  flagRingRevisions,
  flagRingStates,
  flags,
  sdkRegistrations,
  segments,
} from './schema/index.js'
import { dateOrNull, iso, isoOrNull } from './timestamps.js'

/** The channel `FlagRevisionRepository.bump` notifies on; the payload is the ring's name. */
export const flagChangesChannel = 'ringmaster_flags'

// PostgreSQL takes at most 65,535 parameters per statement; a change or metrics row binds 6.
const insertChunk = 1_000
// Rows per statement in the bulk paths an import takes: on PGlite a statement holds the event
// loop for as long as it runs, so none may run long (a few tens of milliseconds).
const putChunk = 250
const findChunk = 500
const changesChunk = 1_000
const loadPage = 1_000

/** The feature-flag repositories on one connection or transaction. */
export function flagRepositories(db: RingmasterDatabase): FlagStoreTransaction {
  return {
    flags: new DrizzleFlagRepository(db),
    segments: new DrizzleSegmentRepository(db),
    flagRevisions: new DrizzleFlagRevisionRepository(db),
    flagMetrics: new DrizzleFlagMetricsRepository(db),
    sdkRegistrations: new DrizzleSdkRegistrationRepository(db),
  }
}

const live = eq(flags.archived, false)

class DrizzleFlagRepository implements FlagRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async findByKey(key: string, options: ReadOptions = {}): Promise<Flag | null> {
    const query = this.db.select().from(flags).where(eq(flags.key, key)).$dynamic()
    const locked = options.forUpdate
      ? query.for('update')
      : options.forShare
        ? query.for('share')
        : query
    const [row] = await locked
    if (!row) return null
    const states = await this.ringStates(eq(flagRingStates.flagKey, key))
    return toFlag(row, states.get(key) ?? [])
  }

  async list(filter: FlagFilter): Promise<Flag[]> {
    const where = and(
      filter.tag === undefined ? undefined : arrayContains(flags.tags, [filter.tag]),
      filter.type === undefined ? undefined : eq(flags.type, filter.type),
      filter.project === undefined ? undefined : eq(flags.project, filter.project),
      filter.includeArchived ? undefined : live,
    )
    const rows = await this.db.select().from(flags).where(where).orderBy(asc(flags.key))
    if (rows.length === 0) return []
    const states = await this.ringStates(
      inArray(flagRingStates.flagKey, this.db.select({ key: flags.key }).from(flags).where(where)),
    )
    return rows.map((row) => toFlag(row, states.get(row.key) ?? []))
  }

  async upsert(definition: FlagDefinition): Promise<Flag> {
    const values = {
      project: definition.project,
      description: definition.description,
      type: definition.type,
      owner: definition.owner,
      tags: definition.tags,
      impressionData: definition.impressionData,
      stale: definition.stale,
      archived: false,
      variants: definition.variants,
      dependencies: definition.dependencies,
    }
    await this.db
      .insert(flags)
      .values({ key: definition.key, ...values })
      .onConflictDoUpdate({ target: flags.key, set: { ...values, updatedAt: sql`now()` } })
    return (await this.findByKey(definition.key))!
  }

  async archive(key: string): Promise<Flag> {
    await this.db
      .update(flags)
      .set({ archived: true, updatedAt: sql`now()` })
      .where(eq(flags.key, key))
    return (await this.findByKey(key))!
  }

  async putRingState(key: string, state: FlagRingState): Promise<Flag> {
    // The flag row first, as every other writer of the flag does, so that they lock in one order.
    await this.db.update(flags).set({ updatedAt: sql`now()` }).where(eq(flags.key, key))
    await this.db
      .insert(flagRingStates)
      .values({
        flagKey: key,
        ring: state.ring,
        enabled: state.enabled,
        strategies: state.strategies,
      })
      .onConflictDoUpdate({
        target: [flagRingStates.flagKey, flagRingStates.ring],
        set: { enabled: state.enabled, strategies: state.strategies, updatedAt: sql`now()` },
      })
    return (await this.findByKey(key))!
  }

  async findManyByKeys(
    keys: readonly string[],
    options: ReadOptions = {},
  ): Promise<Map<string, Flag>> {
    const found = new Map<string, Flag>()
    const distinct = [...new Set(keys)].sort()
    // In chunks, in key order (so that two transactions locking overlapping flags cannot
    // deadlock): on PGlite a statement holds the event loop for as long as it runs.
    for (let start = 0; start < distinct.length; start += findChunk) {
      const chunk = distinct.slice(start, start + findChunk)
      // The keys travel as one JSON parameter: binding thousands of parameters costs more than
      // the query itself (mostly in drizzle building it).
      const wanted = sql`${flags.key} in (select jsonb_array_elements_text(${JSON.stringify(chunk)}::jsonb))`
      const query = this.db.select().from(flags).where(wanted).orderBy(asc(flags.key)).$dynamic()
      const rows = await (options.forUpdate
        ? query.for('update')
        : options.forShare
          ? query.for('share')
          : query)
      if (rows.length === 0) continue
      const states = await this.ringStates(
        sql`${flagRingStates.flagKey} in (select jsonb_array_elements_text(${JSON.stringify(rows.map((row) => row.key))}::jsonb))`,
      )
      for (const row of rows) found.set(row.key, toFlag(row, states.get(row.key) ?? []))
    }
    return found
  }

  async putMany(
    entries: readonly { definition: FlagDefinition; ringState: FlagRingState }[],
  ): Promise<Map<string, Flag>> {
    const sorted = [...entries].sort((a, b) =>
      a.definition.key < b.definition.key ? -1 : a.definition.key > b.definition.key ? 1 : 0,
    )
    const written = new Map<string, Flag>()
    for (let start = 0; start < sorted.length; start += putChunk) {
      const chunk = sorted.slice(start, start + putChunk)
      const definitions = JSON.stringify(chunk.map(({ definition }) => definition))
      // The flag rows first, in key order, as every other writer of a flag takes them, so that
      // writers lock in one order. Each chunk is one JSON parameter (see findManyByKeys). The
      // rows come back from the insert, so nothing is read a second time.
      const rows = (await this.db.execute(sql`
        insert into ${flags} (key, project, description, type, owner, tags, impression_data,
          stale, archived, variants, dependencies)
        select flag.key, flag.project, flag.description, flag.type, flag.owner,
          array(select jsonb_array_elements_text(flag.tags)), flag."impressionData", flag.stale,
          false, flag.variants, flag.dependencies
        from jsonb_to_recordset(${definitions}::jsonb) as flag(key text, project text,
          description text, type text, owner text, tags jsonb, "impressionData" boolean,
          stale boolean, variants jsonb, dependencies jsonb)
        order by flag.key
        on conflict (key) do update set project = excluded.project,
          description = excluded.description, type = excluded.type, owner = excluded.owner,
          tags = excluded.tags, impression_data = excluded.impression_data,
          stale = excluded.stale, archived = false, variants = excluded.variants,
          dependencies = excluded.dependencies, updated_at = now()
        returning key, project, description, type, owner, tags, impression_data, stale,
          archived, variants, dependencies, created_at, updated_at`)) as unknown as
        | FlagRowFromSql[]
        | { rows: FlagRowFromSql[] }
      const states = JSON.stringify(
        chunk.map(({ definition, ringState }) => ({ key: definition.key, ...ringState })),
      )
      await this.db.execute(sql`
        insert into ${flagRingStates} (flag_key, ring, enabled, strategies)
        select state.key, state.ring, state.enabled, state.strategies
        from jsonb_to_recordset(${states}::jsonb) as state(key text, ring text, enabled boolean,
          strategies jsonb)
        order by state.key
        on conflict (flag_key, ring) do update set enabled = excluded.enabled,
          strategies = excluded.strategies, updated_at = now()`)
      // The state written is the one given; only the flags' other rings are read.
      const ring = chunk[0]?.ringState.ring ?? ''
      const otherRings = await this.ringStates(
        and(
          sql`${flagRingStates.flagKey} in (select jsonb_array_elements_text(${JSON.stringify(chunk.map(({ definition }) => definition.key))}::jsonb))`,
          sql`${flagRingStates.ring} <> ${ring}`,
        )!,
      )
      const given = new Map(chunk.map(({ definition, ringState }) => [definition.key, ringState]))
      for (const row of rowsOf(rows)) {
        const states = [...(otherRings.get(row.key) ?? []), given.get(row.key)!].sort((a, b) =>
          a.ring < b.ring ? -1 : a.ring > b.ring ? 1 : 0,
        )
        written.set(row.key, toFlag(fromSqlRow(row), states))
      }
    }
    return written
  }

  async listDependents(parent: string): Promise<string[]> {
    const rows = await this.db
      .select({ key: flags.key })
      .from(flags)
      .where(
        and(live, sql`${flags.dependencies} @> ${JSON.stringify([{ feature: parent }])}::jsonb`),
      )
      .orderBy(asc(flags.key))
    return rows.map((row) => row.key)
  }

  async listUsingSegment(segment: string): Promise<string[]> {
    const naming = JSON.stringify([{ segments: [segment] }])
    const rows = await this.db
      .select({ key: flags.key })
      .from(flags)
      .where(
        and(
          live,
          exists(
            this.db
              .select({ one: sql`1` })
              .from(flagRingStates)
              .where(
                and(
                  eq(flagRingStates.flagKey, flags.key),
                  sql`${flagRingStates.strategies} @> ${naming}::jsonb`,
                ),
              ),
          ),
        ),
      )
      .orderBy(asc(flags.key))
    return rows.map((row) => row.key)
  }

  /** The ring states matching `condition`, by flag key, each flag's sorted by ring. */
  private async ringStates(condition: SQL): Promise<Map<string, FlagRingState[]>> {
    const rows = await this.db
      .select()
      .from(flagRingStates)
      .where(condition)
      .orderBy(asc(flagRingStates.flagKey), asc(flagRingStates.ring))
    return groupStates(rows)
  }
}

function groupStates(rows: (typeof flagRingStates.$inferSelect)[]): Map<string, FlagRingState[]> {
  const byFlag = new Map<string, FlagRingState[]>()
  for (const row of rows) {
    const states = byFlag.get(row.flagKey) ?? []
    states.push({ ring: row.ring, enabled: row.enabled, strategies: row.strategies })
    byFlag.set(row.flagKey, states)
  }
  return byFlag
}

/** A flags row as a raw statement returns it: column names, values as the driver sends them. */
type FlagRowFromSql = Record<string, unknown> & { key: string }

/** postgres-js returns the rows; PGlite an object that holds them. */
function rowsOf<T>(result: T[] | { rows: T[] }): T[] {
  return Array.isArray(result) ? result : result.rows
}

/** Maps each column as drizzle's own selects do (timestamps, arrays and jsonb by driver). */
function fromSqlRow(raw: FlagRowFromSql): typeof flags.$inferSelect {
  const row: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(getTableColumns(flags))) {
    const value = raw[column.name]
    row[field] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return row as typeof flags.$inferSelect
}

function toFlag(row: typeof flags.$inferSelect, rings: FlagRingState[]): Flag {
  return {
    key: row.key,
    project: row.project,
    description: row.description,
    type: row.type,
    owner: row.owner,
    tags: row.tags,
    impressionData: row.impressionData,
    stale: row.stale,
    variants: row.variants,
    dependencies: row.dependencies,
    archived: row.archived,
    rings,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  }
}

class DrizzleSegmentRepository implements SegmentRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async findByName(name: string, options: ReadOptions = {}): Promise<Segment | null> {
    const query = this.db.select().from(segments).where(eq(segments.name, name)).$dynamic()
    const locked = options.forUpdate
      ? query.for('update')
      : options.forShare
        ? query.for('share')
        : query
    const [row] = await locked
    return row ? toSegment(row) : null
  }

  async list(): Promise<Segment[]> {
    const rows = await this.db.select().from(segments).orderBy(asc(segments.name))
    return rows.map(toSegment)
  }

  async upsert(segment: {
    name: string
    description: string
    constraints: Segment['constraints']
  }): Promise<Segment> {
    const [row] = await this.db
      .insert(segments)
      .values({
        name: segment.name,
        description: segment.description,
        constraints: segment.constraints,
      })
      .onConflictDoUpdate({
        target: segments.name,
        set: {
          description: segment.description,
          constraints: segment.constraints,
          updatedAt: sql`now()`,
        },
      })
      .returning()
    return toSegment(row!)
  }

  async delete(name: string): Promise<void> {
    await this.db.delete(segments).where(eq(segments.name, name))
  }
}

function toSegment(row: typeof segments.$inferSelect): Segment {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    constraints: row.constraints,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  }
}

type NewFlagChange = Parameters<FlagRevisionRepository['bump']>[1][number]

class DrizzleFlagRevisionRepository implements FlagRevisionRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async bump(
    rings: readonly string[],
    changes: readonly NewFlagChange[],
  ): Promise<Map<string, number>> {
    // Sorted, so that two transactions bumping overlapping rings lock them in the same order
    // (a multi-row VALUES is inserted row by row, in order).
    const ringNames = [...new Set(rings)].sort()
    if (ringNames.length === 0) return new Map()
    const bumped = await this.db
      .insert(flagRingRevisions)
      .values(ringNames.map((ring) => ({ ring, revision: 1 })))
      .onConflictDoUpdate({
        target: flagRingRevisions.ring,
        set: { revision: sql`${flagRingRevisions.revision} + 1` },
      })
      .returning()
    const revisions = new Map(
      ringNames.map((ring) => [ring, bumped.find((row) => row.ring === ring)!.revision]),
    )

    const rows = [...revisions].flatMap(([ring, revision]) =>
      distinctChanges(changes).map((change) => ({
        ring,
        revision,
        kind: change.kind,
        name: change.name,
        segmentId: change.kind === 'segment' ? change.segmentId : null,
      })),
    )
    for (let start = 0; start < rows.length; start += changesChunk) {
      // One JSON parameter per chunk: an import logs thousands of changes per ring.
      await this.db.execute(sql`
        insert into ${flagChanges} (ring, revision, kind, name, segment_id)
        select change.ring, change.revision, change.kind, change.name, change."segmentId"
        from jsonb_to_recordset(${JSON.stringify(rows.slice(start, start + changesChunk))}::jsonb)
          as change(ring text, revision bigint, kind text, name text, "segmentId" integer)`)
    }
    // Delivered when the transaction commits, and not at all if it rolls back.
    await this.db.execute(
      sql`select pg_notify(${flagChangesChannel}, ring) from jsonb_array_elements_text(${JSON.stringify(ringNames)}::jsonb) as ring`,
    )
    return revisions
  }

  async current(ring: string): Promise<number> {
    const [row] = await this.db
      .select({ revision: flagRingRevisions.revision })
      .from(flagRingRevisions)
      .where(eq(flagRingRevisions.ring, ring))
    return row?.revision ?? 0
  }

  async currentAll(): Promise<Map<string, number>> {
    const rows = await this.db.select().from(flagRingRevisions).orderBy(asc(flagRingRevisions.ring))
    return new Map(rows.map((row) => [row.ring, row.revision]))
  }

  async listChanges(ring: string, since: number, limit: number): Promise<FlagChange[]> {
    const rows = await this.db
      .select()
      .from(flagChanges)
      .where(and(eq(flagChanges.ring, ring), gt(flagChanges.revision, since)))
      .orderBy(asc(flagChanges.revision), asc(flagChanges.kind), asc(flagChanges.name))
      .limit(limit)
    return rows.map(toFlagChange)
  }

  async loadRing(ring: string, changesSince: number, changesLimit: number): Promise<RingFlagState> {
    const load = async (db: RingmasterDatabase): Promise<RingFlagState> => {
      // The revision first: should the reads below ever see a later commit (inside a caller's
      // read-committed transaction), the state is newer than its revision, never older, and a
      // client that asks again from that revision is sent the change once more.
      const revisions = new DrizzleFlagRevisionRepository(db)
      const revision = await revisions.current(ring)
      // Page by page: a ring of thousands of flags read and mapped in one statement held the
      // event loop (and, on PGlite, the database) for as long as it took.
      const flagRows: (typeof flags.$inferSelect)[] = []
      for (let after: string | undefined; ; ) {
        const page = await db
          .select()
          .from(flags)
          .where(after === undefined ? live : and(live, gt(flags.key, after)))
          .orderBy(asc(flags.key))
          .limit(loadPage)
        flagRows.push(...page)
        if (page.length < loadPage) break
        after = page.at(-1)!.key
      }
      const stateRows: (typeof flagRingStates.$inferSelect)[] = []
      for (let after: string | undefined; ; ) {
        const page = await db
          .select({ state: flagRingStates })
          .from(flagRingStates)
          .innerJoin(flags, eq(flags.key, flagRingStates.flagKey))
          .where(
            and(
              eq(flagRingStates.ring, ring),
              live,
              after === undefined ? undefined : gt(flagRingStates.flagKey, after),
            ),
          )
          .orderBy(asc(flagRingStates.flagKey))
          .limit(loadPage)
        for (const row of page) stateRows.push(row.state)
        if (page.length < loadPage) break
        after = page.at(-1)!.state.flagKey
      }
      const states = groupStates(stateRows)
      return {
        ring,
        revision,
        flags: flagRows.map((row) => toFlag(row, states.get(row.key) ?? [])),
        segments: await new DrizzleSegmentRepository(db).list(),
        changes: await revisions.listChanges(ring, changesSince, changesLimit),
      }
    }
    // Inside a transaction the caller chose its isolation; on its own, one snapshot for all reads.
    if (is(this.db, PgTransaction)) return load(this.db)
    return this.db.transaction((tx) => load(tx as unknown as RingmasterDatabase), {
      isolationLevel: 'repeatable read',
      accessMode: 'read only',
    })
  }
}

/** A change named twice in one bump is logged once (the log's primary key says so). */
function distinctChanges(changes: readonly NewFlagChange[]): NewFlagChange[] {
  const seen = new Map<string, NewFlagChange>()
  for (const change of changes) seen.set(`${change.kind}\u0000${change.name}`, change)
  return [...seen.values()]
}

function toFlagChange(row: typeof flagChanges.$inferSelect): FlagChange {
  if (row.kind === 'segment') {
    return {
      ring: row.ring,
      revision: row.revision,
      kind: 'segment',
      name: row.name,
      segmentId: row.segmentId!,
    }
  }
  return { ring: row.ring, revision: row.revision, kind: 'flag', name: row.name }
}

class DrizzleFlagMetricsRepository implements FlagMetricsRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async add(buckets: readonly FlagMetricsBucket[]): Promise<void> {
    const rows = foldMetrics(buckets).map((bucket) => ({ ...bucket, hour: new Date(bucket.hour) }))
    for (let start = 0; start < rows.length; start += insertChunk) {
      // One upsert adds to whatever is stored when it gets the row lock, so two replicas adding
      // to the same hour at once both count. Rows go in sorted, so they lock in the same order.
      await this.db
        .insert(flagMetrics)
        .values(rows.slice(start, start + insertChunk))
        .onConflictDoUpdate({
          target: [flagMetrics.flag, flagMetrics.ring, flagMetrics.hour],
          set: {
            yes: sql`${flagMetrics.yes} + excluded.yes`,
            no: sql`${flagMetrics.no} + excluded.no`,
            variants: sql`(
              select coalesce(jsonb_object_agg(counts.key, counts.total), '{}'::jsonb)
              from (
                select key, sum(value::bigint) as total
                from (
                  select key, value from jsonb_each_text(${flagMetrics.variants})
                  union all
                  select key, value from jsonb_each_text(excluded.variants)
                ) as reported
                group by key
              ) as counts
            )`,
          },
        })
    }
  }

  async list(
    flag: string,
    filter: { ring?: string | undefined; from: string; to: string },
  ): Promise<FlagMetricsBucket[]> {
    const rows = await this.db
      .select()
      .from(flagMetrics)
      .where(
        and(
          eq(flagMetrics.flag, flag),
          filter.ring === undefined ? undefined : eq(flagMetrics.ring, filter.ring),
          gte(flagMetrics.hour, new Date(filter.from)),
          lte(flagMetrics.hour, new Date(filter.to)),
        ),
      )
      .orderBy(asc(flagMetrics.hour), asc(flagMetrics.ring))
    return rows.map((row) => ({
      flag: row.flag,
      ring: row.ring,
      hour: iso(row.hour),
      yes: row.yes,
      no: row.no,
      variants: row.variants,
    }))
  }
}

/** The start of the hour `at` falls in, as ISO 8601. */
function startOfHour(at: string): string {
  const ms = Date.parse(at)
  return new Date(ms - (((ms % 3_600_000) + 3_600_000) % 3_600_000)).toISOString()
}

/**
 * Buckets of the same flag, ring and hour summed into one (an upsert may touch a row only once),
 * sorted by flag, ring and hour.
 */
export function foldMetrics(buckets: readonly FlagMetricsBucket[]): FlagMetricsBucket[] {
  const folded = new Map<string, FlagMetricsBucket>()
  for (const bucket of buckets) {
    const hour = startOfHour(bucket.hour)
    const key = `${bucket.flag}\u0000${bucket.ring}\u0000${hour}`
    const sum = folded.get(key) ?? {
      flag: bucket.flag,
      ring: bucket.ring,
      hour,
      yes: 0,
      no: 0,
      variants: {},
    }
    sum.yes += bucket.yes
    sum.no += bucket.no
    for (const [variant, count] of Object.entries(bucket.variants)) {
      sum.variants[variant] = (sum.variants[variant] ?? 0) + count
    }
    folded.set(key, sum)
  }
  return [...folded.values()].sort(
    (a, b) => compare(a.flag, b.flag) || compare(a.ring, b.ring) || compare(a.hour, b.hour),
  )
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

class DrizzleSdkRegistrationRepository implements SdkRegistrationRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async upsert(registration: SdkRegistration): Promise<void> {
    const refreshed = {
      sdkVersion: registration.sdkVersion,
      strategies: registration.strategies,
      startedAt: dateOrNull(registration.startedAt),
      intervalMs: registration.intervalMs,
      seenAt: new Date(registration.seenAt),
    }
    await this.db
      .insert(sdkRegistrations)
      .values({
        ring: registration.ring,
        kind: registration.kind,
        appName: registration.appName,
        instanceId: registration.instanceId,
        ...refreshed,
      })
      .onConflictDoUpdate({
        target: [
          sdkRegistrations.ring,
          sdkRegistrations.kind,
          sdkRegistrations.appName,
          sdkRegistrations.instanceId,
        ],
        set: refreshed,
      })
  }

  async list(filter: {
    ring?: string | undefined
    kind?: SdkKind | undefined
  }): Promise<SdkRegistration[]> {
    const rows = await this.db
      .select()
      .from(sdkRegistrations)
      .where(
        and(
          filter.ring === undefined ? undefined : eq(sdkRegistrations.ring, filter.ring),
          filter.kind === undefined ? undefined : eq(sdkRegistrations.kind, filter.kind),
        ),
      )
      .orderBy(
        asc(sdkRegistrations.ring),
        asc(sdkRegistrations.kind),
        asc(sdkRegistrations.appName),
        asc(sdkRegistrations.instanceId),
      )
    return rows.map((row) => ({
      ring: row.ring,
      kind: row.kind,
      appName: row.appName,
      instanceId: row.instanceId,
      sdkVersion: row.sdkVersion,
      strategies: row.strategies,
      startedAt: isoOrNull(row.startedAt),
      intervalMs: row.intervalMs,
      seenAt: iso(row.seenAt),
    }))
  }
}

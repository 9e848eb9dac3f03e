import { readFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { type DatabaseTarget, dumpPglite, openDatabase } from '../database.js'
import { migrateDatabase } from '../migrations.js'

/**
 * Tests run once per database kind: `run-with-databases` sets these variables for each pass.
 * Run alone (`tap test/x.test.ts`), a test file uses PGlite and migrates its own copy.
 */
export const testDatabaseKind: DatabaseTarget['kind'] =
  process.env.RINGMASTER_TEST_DATABASE === 'postgres' ? 'postgres' : 'pglite'

export const defaultTestPostgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

export function testPostgresUrl(): string {
  return process.env.RINGMASTER_TEST_POSTGRES_URL || defaultTestPostgresUrl
}

export interface TestDatabase {
  target: DatabaseTarget
  /** Drops what `createTestDatabase` made; safe to call twice. */
  dispose(): Promise<void>
}

let pgliteTemplate: Promise<Blob> | undefined

export interface TestDatabaseOptions {
  /**
   * Only this process opens the database. On PGlite it is then an instance already started and
   * used by an earlier test, emptied when that test disposed of it, instead of a new one started
   * from the template: starting PGlite costs over a second of CPU, most of a short test. A target
   * handed to another process (a server started for the test) must not be in-process.
   */
  inProcess?: boolean
}

/** A fresh, migrated database that no other test sees. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (testDatabaseKind === 'pglite') {
    pgliteTemplate ??= loadPgliteTemplate()
    const loadDataDir = await pgliteTemplate
    if (options.inProcess) return reusedPglite(loadDataDir)
    return { target: { kind: 'pglite', loadDataDir }, dispose: async () => {} }
  }
  return createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
}

/** Emptied PGlite instances, ready for the next test. */
const idlePglite = new Set<PGlite>()
/**
 * How long an emptied instance waits for the next test before it is closed. Once a PGlite has
 * served LISTEN it keeps a timer running, so an idle one would keep the test process from ending.
 */
const idleCloseMs = 250
/** What the migrated template's schema looks like; an instance whose schema differs is dropped. */
let templateSchema: Promise<string> | undefined

async function reusedPglite(loadDataDir: Blob): Promise<TestDatabase> {
  const instance = takeIdlePglite() ?? (await PGlite.create({ loadDataDir }))
  templateSchema ??= schemaFingerprint(instance)
  await templateSchema
  let disposed = false
  return {
    target: { kind: 'pglite', loadDataDir, instance },
    async dispose() {
      if (disposed) return
      disposed = true
      if (instance.closed) return
      // A test may have dropped a table or closed the database to see what the app does; such
      // an instance is not reused. Anything else it left behind is emptied here.
      try {
        if ((await schemaFingerprint(instance)) !== (await templateSchema))
          throw new Error('altered')
        await emptyDatabase(instance)
        idlePglite.add(instance)
        setTimeout(() => {
          if (idlePglite.delete(instance)) void instance.close().catch(() => {})
        }, idleCloseMs).unref()
      } catch {
        await instance.close().catch(() => {})
      }
    },
  }
}

function takeIdlePglite(): PGlite | undefined {
  const [instance] = idlePglite
  if (instance !== undefined) idlePglite.delete(instance)
  return instance
}

/** The public schema's tables, columns, indexes, constraints, sequences, functions and triggers. */
async function schemaFingerprint(instance: PGlite): Promise<string> {
  const { rows } = await instance.query<{ fingerprint: string }>(`
    select md5(string_agg(item, ',' order by item)) as fingerprint from (
      select c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname::text || ':' || a.atttypid::regtype::text || ':' || a.attnotnull::text, '') as item
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'public'
      union all
      select 'constraint:' || conname || ':' || pg_get_constraintdef(oid) from pg_constraint
        where connamespace = 'public'::regnamespace
      union all
      select 'function:' || proname || ':' || md5(prosrc) from pg_proc
        where pronamespace = 'public'::regnamespace
      union all
      select 'trigger:' || tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
        where c.relnamespace = 'public'::regnamespace and not t.tgisinternal
    ) items`)
  return rows[0]!.fingerprint
}

/** Back to the migrated template: no rows, sequences restarted, no session state. */
async function emptyDatabase(instance: PGlite): Promise<void> {
  const { rows: tables } = await instance.query<{ name: string }>(
    `select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`,
  )
  const { rows: sequences } = await instance.query<{ name: string }>(
    `select quote_ident(sequencename) as name from pg_sequences where schemaname = 'public'`,
  )
  const statements = [
    tables.length > 0 &&
      `truncate table ${tables.map((table) => `public.${table.name}`).join(', ')} restart identity cascade`,
    ...sequences.map((sequence) => `alter sequence public.${sequence.name} restart`),
  ].filter(Boolean)
  await instance.exec(statements.join(';\n'))
  // Not in a transaction block, which the statements above share.
  await instance.exec('discard all')
}

/** A database on the test PostgreSQL server, cloned from `template` or empty without one. */
export async function createPostgresDatabase(template?: string): Promise<TestDatabase> {
  const name = `ringmaster_test_${Date.now()}_${Math.random().toString(36).slice(2, 10)}`
  const admin = postgres(testPostgresUrl(), { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(
      template ? `create database "${name}" template "${template}"` : `create database "${name}"`,
    )
  } finally {
    await admin.end({ timeout: 5 })
  }
  let disposed = false
  return {
    target: { kind: 'postgres', url: withDatabase(testPostgresUrl(), name), maxConnections: 4 },
    async dispose() {
      if (disposed) return
      disposed = true
      const cleaner = postgres(testPostgresUrl(), { max: 1, onnotice: () => {} })
      try {
        await cleaner.unsafe(`drop database if exists "${name}" with (force)`)
      } finally {
        await cleaner.end({ timeout: 5 })
      }
    },
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

async function loadPgliteTemplate(): Promise<Blob> {
  const dumpFile = process.env.RINGMASTER_TEST_PGLITE_DUMP
  if (dumpFile) return new Blob([readFileSync(dumpFile)])
  return migratedPgliteDump()
}

/** An in-memory PGlite database with every migration applied, as a dump to start copies from. */
export async function migratedPgliteDump(): Promise<Blob> {
  const connection = await openDatabase({ kind: 'pglite' })
  try {
    await migrateDatabase(connection)
    return await dumpPglite(connection)
  } finally {
    await connection.close()
  }
}

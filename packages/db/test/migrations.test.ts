import { readFileSync } from 'node:fs'
import { is, sql } from 'drizzle-orm'
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import type { Test } from 'tap'
import t from 'tap'
import { type DatabaseConnection, openDatabase } from '../src/database.js'
import { migrateDatabase, migrationStatus, migrationsFolder, rowsOf } from '../src/migrations.js'
import * as schema from '../src/schema/index.js'
import { createPostgresDatabase, testDatabaseKind } from '../src/testing/test-database.js'

const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
  entries: { when: number; tag: string }[]
}
const newest = journal.entries.at(-1)!

const schemaTables = (Object.values(schema) as unknown[])
  .filter((value): value is PgTable => is(value, PgTable))
  .map((table) => {
    const config = getTableConfig(table)
    return { name: config.name, columns: config.columns.map((column) => column.name).sort() }
  })
  .sort((a, b) => a.name.localeCompare(b.name))

/** An empty database of this pass's kind: no template, nothing migrated. */
async function openEmpty(t: Test): Promise<DatabaseConnection> {
  if (testDatabaseKind === 'pglite') {
    const connection = await openDatabase({ kind: 'pglite' })
    t.teardown(() => connection.close())
    return connection
  }
  const database = await createPostgresDatabase()
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return connection
}

async function query<T>(connection: DatabaseConnection, statement: ReturnType<typeof sql>) {
  // postgres-js returns its own array subclass; compare plain rows.
  return [...rowsOf<T>(await connection.db.execute(statement))]
}

async function publicTables(connection: DatabaseConnection) {
  const rows = await query<{ table_name: string; column_name: string }>(
    connection,
    sql`select table_name, column_name from information_schema.columns
        where table_schema = 'public' order by table_name, column_name`,
  )
  const tables = new Map<string, string[]>()
  for (const row of rows)
    tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name])
  return [...tables].map(([name, columns]) => ({ name, columns: columns.sort() }))
}

async function appliedMigrations(connection: DatabaseConnection) {
  return query<{ hash: string; created_at: string | number }>(
    connection,
    sql`select hash, created_at from drizzle.__drizzle_migrations order by id`,
  )
}

t.test('migrations build the whole schema on an empty database, once', async (t) => {
  const connection = await openEmpty(t)
  t.strictSame(await publicTables(connection), [], 'the database starts empty')
  t.strictSame(
    await migrationStatus(connection),
    { migrated: false, expected: newest.tag, appliedAt: null },
    'a never-migrated database reports not migrated instead of failing',
  )

  await migrateDatabase(connection)
  t.strictSame(await migrationStatus(connection), {
    migrated: true,
    expected: newest.tag,
    appliedAt: newest.when,
  })
  t.ok(schemaTables.length >= 6, 'the schema module lists its tables')
  t.strictSame(await publicTables(connection), schemaTables, 'every table and column of the schema')
  const applied = await appliedMigrations(connection)
  t.strictSame(
    applied.map((row) => Number(row.created_at)),
    journal.entries.map((entry) => entry.when),
    'each migration recorded once',
  )

  await connection.db.execute(
    sql`insert into services (name, description) values ('kept-across-migrate', 'still here')`,
  )
  await migrateDatabase(connection)
  t.strictSame(await appliedMigrations(connection), applied, 'applying again records nothing')
  t.strictSame(await publicTables(connection), schemaTables)
  t.strictSame(
    await query<{ description: string }>(
      connection,
      sql`select description from services where name = 'kept-across-migrate'`,
    ),
    [{ description: 'still here' }],
    'applying again keeps the data',
  )
  t.equal((await migrationStatus(connection)).migrated, true)
})

t.test(
  'two replicas migrating at once both succeed and each migration runs once',
  {
    skip:
      testDatabaseKind === 'pglite' &&
      'needs PostgreSQL: PGlite is one session in one process, so no replicas race to migrate',
  },
  async (t) => {
    const database = await createPostgresDatabase()
    const replicas = [await openDatabase(database.target), await openDatabase(database.target)]
    t.teardown(async () => {
      for (const replica of replicas) await replica.close()
      await database.dispose()
    })
    const outcomes = await Promise.allSettled(replicas.map((replica) => migrateDatabase(replica)))
    t.strictSame(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled'],
      JSON.stringify(outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason?.message)),
    )
    const [first, second] = replicas as [DatabaseConnection, DatabaseConnection]
    const applied = await appliedMigrations(first)
    t.strictSame(
      applied.map((row) => Number(row.created_at)),
      journal.entries.map((entry) => entry.when),
    )
    t.equal(new Set(applied.map((row) => row.hash)).size, journal.entries.length)
    t.strictSame(await publicTables(second), schemaTables)
    t.equal((await migrationStatus(first)).migrated, true)
    t.equal((await migrationStatus(second)).migrated, true)
  },
)

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import type { DatabaseConnection, Schema } from './database.js'

export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))

// Any constant works; it only has to be the same for every replica.
const migrationLockKey = 0x52494e47

interface Journal {
  entries: { idx: number; when: number; tag: string }[]
}

function latestMigration(): { when: number; tag: string } {
  const journal = JSON.parse(
    readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8'),
  ) as Journal
  const latest = journal.entries.at(-1)
  if (!latest) throw new Error('the migrations journal is empty')
  return latest
}

/**
 * Applies the checked-in migrations. Replicas starting together take turns through a session
 * advisory lock, so each migration runs once.
 */
export async function migrateDatabase(connection: DatabaseConnection): Promise<void> {
  if (connection.kind === 'pglite') {
    await migratePglite(connection.db as unknown as PgliteDatabase<Schema>, { migrationsFolder })
    return
  }
  await connection.withSession(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${migrationLockKey})`)
    try {
      await migratePostgres(db as unknown as PostgresJsDatabase<Schema>, { migrationsFolder })
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${migrationLockKey})`)
    }
  })
}

export interface MigrationStatus {
  migrated: boolean
  expected: string
  appliedAt: number | null
}

/** Whether the newest checked-in migration has been applied (for readiness checks). */
export async function migrationStatus(connection: DatabaseConnection): Promise<MigrationStatus> {
  const latest = latestMigration()
  const table = await connection.db.execute(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  )
  if (!rowsOf<{ present: boolean }>(table)[0]?.present) {
    return { migrated: false, expected: latest.tag, appliedAt: null }
  }
  const result = await connection.db.execute(
    sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
  )
  const applied = rowsOf<{ created_at: string | number }>(result)[0]
  const appliedAt = applied ? Number(applied.created_at) : null
  return { migrated: appliedAt === latest.when, expected: latest.tag, appliedAt }
}

/** postgres-js returns an array of rows, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[]
  return (result as { rows: T[] }).rows
}

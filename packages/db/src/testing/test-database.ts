import { readFileSync } from 'node:fs'
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

/** A fresh, migrated database that no other test sees. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (testDatabaseKind === 'pglite') {
    pgliteTemplate ??= loadPgliteTemplate()
    return {
      target: { kind: 'pglite', loadDataDir: await pgliteTemplate },
      dispose: async () => {},
    }
  }
  return createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
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

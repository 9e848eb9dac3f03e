import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema/index.js'

export type Schema = typeof schema
export type RingmasterDatabase = PgDatabase<PgQueryResultHKT, Schema>

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; maxConnections?: number | undefined }
  | {
      kind: 'pglite'
      /** Where PGlite keeps its files; undefined keeps the database in memory. */
      dataDir?: string | undefined
      /** Starts from a dump (`dumpDataDir`) instead of an empty cluster: tests use a migrated one. */
      loadDataDir?: Blob | undefined
    }

export interface DatabaseConnection {
  kind: DatabaseTarget['kind']
  db: RingmasterDatabase
  /** Runs `work` on one dedicated connection, for session-level locks. */
  withSession<T>(work: (db: RingmasterDatabase) => Promise<T>): Promise<T>
  /**
   * Calls `onNotification` with the payload of every NOTIFY on `channel` (sent by any connection,
   * delivered when its transaction commits); resolves once listening, to a function that stops.
   * `onListen` runs each time listening starts, the first time and after every reconnect:
   * notifications sent while the connection was down are lost, so that is when to read again.
   */
  listen(
    channel: string,
    onNotification: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>
  close(): Promise<void>
}

/** The one place that chooses the driver: PostgreSQL when a URL is configured, PGlite otherwise. */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseConnection> {
  if (target.kind === 'postgres') {
    const client = postgres(target.url, {
      max: target.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: 'ringmaster' },
    })
    return {
      kind: 'postgres',
      db: drizzlePostgres(client, { schema }) as unknown as RingmasterDatabase,
      async withSession(work) {
        const session = postgres(target.url, { max: 1, onnotice: () => {} })
        try {
          return await work(drizzlePostgres(session, { schema }) as unknown as RingmasterDatabase)
        } finally {
          await session.end({ timeout: 5 })
        }
      },
      async listen(channel, onNotification, onListen) {
        // postgres-js listens on a connection of its own, outside the pool. When that connection
        // drops it reconnects by itself, LISTENs again and calls `onlisten` once more.
        const { unlisten } = await client.listen(channel, onNotification, onListen)
        return once(unlisten)
      },
      close: once(() => client.end({ timeout: 5 })),
    }
  }
  if (target.dataDir !== undefined) mkdirSync(target.dataDir, { recursive: true })
  const client = await PGlite.create({
    ...(target.dataDir !== undefined && { dataDir: target.dataDir }),
    ...(target.loadDataDir !== undefined && { loadDataDir: target.loadDataDir }),
  })
  const db = drizzlePglite(client, { schema }) as unknown as RingmasterDatabase
  return {
    kind: 'pglite',
    db,
    // PGlite is a single session already.
    withSession: (work) => work(db),
    // In-process: PGlite hands NOTIFYs to its listeners after the sending transaction commits.
    async listen(channel, onNotification, onListen) {
      const unlisten = await client.listen(channel, onNotification)
      onListen?.()
      return once(() => unlisten())
    },
    close: once(() => client.close()),
  }
}

/** Closing twice (a failed readiness test, then teardown) must not throw. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= close()
    return closing
  }
}

/** A migrated in-memory PGlite database as a dump that `loadDataDir` can start from. */
export async function dumpPglite(connection: DatabaseConnection): Promise<Blob> {
  const client = (connection.db as unknown as { $client: PGlite }).$client
  return client.dumpDataDir('none')
}

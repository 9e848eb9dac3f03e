import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import {
  AvailabilityMonitor,
  type DatabaseAvailability,
  DatabaseSockets,
  type DatabaseTimeouts,
  defaultDatabaseTimeouts,
  EmbeddedAvailability,
} from './database-availability.js'
import * as schema from './schema/index.js'

export type Schema = typeof schema
export type RingmasterDatabase = PgDatabase<PgQueryResultHKT, Schema>

export type DatabaseTarget =
  | {
      kind: 'postgres'
      url: string
      maxConnections?: number | undefined
      /** Defaults: `defaultDatabaseTimeouts`. */
      timeouts?: Partial<DatabaseTimeouts> | undefined
    }
  | {
      kind: 'pglite'
      /** Where PGlite keeps its files; undefined keeps the database in memory. */
      dataDir?: string | undefined
      /** Starts from a dump (`dumpDataDir`) instead of an empty cluster: tests use a migrated one. */
      loadDataDir?: Blob | undefined
      /**
       * An open PGlite to use instead of starting one; closing the connection leaves it open.
       * Starting PGlite costs over a second of CPU, most of a short test, so tests hand one
       * instance from test to test (testing/test-database.ts empties it in between).
       */
      instance?: PGlite | undefined
    }

export interface DatabaseConnection {
  kind: DatabaseTarget['kind']
  db: RingmasterDatabase
  /** Whether the database answers; SDK reads never wait for it, everything else fails fast. */
  availability: DatabaseAvailability
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
    const timeouts = { ...defaultDatabaseTimeouts, ...target.timeouts }
    const sockets = new DatabaseSockets()
    const options = driverOptions(timeouts, sockets)
    const newPool = () => {
      const pool = postgres(target.url, { ...options, max: target.maxConnections ?? 10 })
      // drizzle sets its type parsers on the client it is given: each new pool gets them too.
      drizzlePostgres(pool, { schema })
      return pool
    }
    let pool = newPool()
    // drizzle and the stores hold this stand-in; it forwards to whichever pool is current.
    const client = new Proxy(function pool() {} as unknown as postgres.Sql, {
      apply: (_target, _this, args) => (pool as unknown as (...a: unknown[]) => unknown)(...args),
      get: (_target, property) => {
        const value = (pool as unknown as Record<PropertyKey, unknown>)[property]
        return typeof value === 'function' ? value.bind(pool) : value
      },
    })
    const listeners = new Set<Listener>()
    let closed = false
    const listenOn = async (listener: Listener, attempt = 0): Promise<void> => {
      const on = pool
      try {
        const { unlisten } = await on.listen(
          listener.channel,
          listener.onNotification,
          listener.onListen,
        )
        listener.unlisten = unlisten
      } catch (error) {
        if (closed || !listeners.has(listener) || on !== pool) return
        if (attempt === 0 && listener.unlisten === undefined) throw error
        setTimeout(() => void listenOn(listener, attempt + 1).catch(() => {}), 250).unref()
      }
    }
    const probeSockets = new DatabaseSockets()
    const probeOptions = driverOptions(
      { ...timeouts, connectMs: timeouts.probeCutAfterMs },
      probeSockets,
    )
    const probeClient = postgres(target.url, {
      ...probeOptions,
      max: 1,
      idle_timeout: undefined,
      connection: { ...probeOptions.connection, application_name: 'ringmaster-probe' },
    })
    const availability = new AvailabilityMonitor({
      probe: () => probeClient`select 1`,
      abandonProbe: () => probeSockets.destroyAll(),
      onProbeFailed: () => {
        sockets.refuseNewConnections(true)
        sockets.destroyAll()
      },
      // postgres-js can leave a transaction's connection in a state where later queries never
      // settle when the connection is lost mid-transaction (porsager/postgres#1216): after an
      // outage the pool is replaced by a fresh one, and the old one ends once it is idle.
      onRecovered: () => {
        sockets.refuseNewConnections(false)
        const old = pool
        pool = newPool()
        for (const listener of listeners) void listenOn(listener).catch(() => {})
        // Ended gracefully, not terminated: terminating rejects promises postgres-js no longer
        // handles (a transaction it already gave up on), which would be unhandled rejections.
        void old.end().catch(() => {})
      },
      intervalMs: timeouts.probeIntervalMs,
      timeoutMs: timeouts.probeTimeoutMs,
      cutAfterMs: timeouts.probeCutAfterMs,
    })
    availability.start()
    return {
      kind: 'postgres',
      db: drizzlePostgres(client, { schema }) as unknown as RingmasterDatabase,
      availability,
      async withSession(work) {
        const session = postgres(target.url, { ...options, max: 1 })
        try {
          return await work(drizzlePostgres(session, { schema }) as unknown as RingmasterDatabase)
        } finally {
          await session.end({ timeout: 5 })
        }
      },
      async listen(channel, onNotification, onListen) {
        // postgres-js listens on a connection of its own, outside the pool. When that connection
        // drops it reconnects by itself, LISTENs again and calls `onlisten` once more; a new
        // pool (after an outage) listens again the same way.
        const listener: Listener = { channel, onNotification, onListen, unlisten: undefined }
        listeners.add(listener)
        try {
          await listenOn(listener)
        } catch (error) {
          listeners.delete(listener)
          throw error
        }
        return once(async () => {
          listeners.delete(listener)
          await listener.unlisten?.()
        })
      },
      close: once(async () => {
        closed = true
        availability.stop()
        await Promise.all([pool.end({ timeout: 5 }), probeClient.end({ timeout: 1 })])
      }),
    }
  }
  if (target.dataDir !== undefined) mkdirSync(target.dataDir, { recursive: true })
  const client =
    target.instance ??
    (await PGlite.create({
      ...(target.dataDir !== undefined && { dataDir: target.dataDir }),
      ...(target.loadDataDir !== undefined && { loadDataDir: target.loadDataDir }),
    }))
  yieldAfterEachStatement(client)
  const db = drizzlePglite(client, { schema }) as unknown as RingmasterDatabase
  const availability = new EmbeddedAvailability()
  return {
    kind: 'pglite',
    db,
    availability,
    // PGlite is a single session already.
    withSession: (work) => work(db),
    // In-process: PGlite hands NOTIFYs to its listeners after the sending transaction commits.
    async listen(channel, onNotification, onListen) {
      const unlisten = await client.listen(channel, onNotification)
      onListen?.()
      return once(() => unlisten())
    },
    close: once(async () => {
      availability.closed()
      if (client !== target.instance) await client.close()
    }),
  }
}

const yieldingClients = new WeakSet<PGlite>()

/**
 * PGlite runs each statement synchronously on the main thread and settles it as a microtask, so
 * a transaction of many statements never lets the event loop turn: a big import froze SDK reads,
 * which are answered from memory and need no database at all. Each statement's answer is handed
 * back on a macrotask instead, so waiting requests get a turn between statements. (A request that
 * needs the database still waits for the open transaction: PGlite is one session.)
 */
function yieldAfterEachStatement(client: PGlite): void {
  // A test's instance serves one test after another (`instance`): wrap it once.
  if (yieldingClients.has(client)) return
  yieldingClients.add(client)
  // Every query, inside a transaction or not, goes through one of these two.
  for (const method of ['execProtocolStream', 'execProtocol'] as const) {
    const run = client[method].bind(client) as (...args: unknown[]) => Promise<unknown>
    Object.defineProperty(client, method, {
      configurable: true,
      writable: true,
      value: async (...args: unknown[]) => {
        try {
          return await run(...args)
        } finally {
          await new Promise((resolve) => setImmediate(resolve))
        }
      },
    })
  }
}

/**
 * The driver's side of the timeouts (seconds, as postgres-js counts them) and the server's (sent
 * at connection start): a statement or a transaction left open by a vanished client cannot hold
 * locks for long, and each end notices a dead peer on an idle connection by TCP keepalive.
 */
function driverOptions(timeouts: DatabaseTimeouts, sockets: DatabaseSockets) {
  return {
    onnotice: () => {},
    connect_timeout: timeouts.connectMs / 1000,
    idle_timeout: timeouts.idleConnectionMs / 1000,
    keep_alive: timeouts.keepAliveMs / 1000,
    // postgres-js waits up to 20 s before reconnecting after repeated failures; a database that
    // is back must be used again within a second, so the wait between attempts stays short.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
    // Not in postgres-js's types, but documented and supported: our sockets, so we can cut them.
    ...({ socket: sockets.factory } as object),
    connection: {
      application_name: 'ringmaster',
      statement_timeout: timeouts.statementMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
      tcp_keepalives_idle: Math.max(1, Math.round(timeouts.keepAliveMs / 1000)),
      tcp_keepalives_interval: Math.max(1, Math.round(timeouts.keepAliveMs / 3000)),
      tcp_keepalives_count: 3,
    },
  }
}

interface Listener {
  channel: string
  onNotification: (payload: string) => void
  onListen: (() => void) | undefined
  unlisten: (() => Promise<void>) | undefined
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

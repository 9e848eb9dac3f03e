import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '@ringmaster/db'
import { createTestDatabase, type TestDatabase } from '@ringmaster/db/testing'
import type { Test } from 'tap'

/** Where a server keeps its data; pass it to a second `startServer` to restart on the same data. */
export interface ServerStorage {
  database: TestDatabase
  dataDir: string
  /** The bootstrap admin token; a restart keeps it. */
  adminToken: string
}

export interface StartServerOptions {
  /** Added to (and overriding) the server's environment, e.g. RINGMASTER_ENGINE_INTERVAL_MS. */
  env?: Record<string, string>
  /** The storage of an earlier server: this one restarts on the same data. */
  storage?: ServerStorage
  /** How long the server may take to listen before the test fails (default 90 s). */
  startTimeoutMs?: number
}

export interface RunningServer {
  process: ChildProcess
  storage: ServerStorage
  url: string
  adminToken: string
  /** Everything the server wrote to stdout and stderr so far. */
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** One call as the admin that must succeed (status below 300); returns the JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field in tests.
  call(method: string, path: string, body?: unknown): Promise<any>
}

const packageRoot = new URL('../..', import.meta.url).pathname

// Run from source (the control plane's own tests, through tsx) this starts src/server.ts; compiled
// into dist/testing (as @ringmaster/control-plane/testing) it starts the built dist/server.js.
const fromSource = import.meta.url.endsWith('.ts')
const serverArgs = fromSource
  ? ['--import', 'tsx', new URL('../server.ts', import.meta.url).pathname]
  : [new URL('../server.js', import.meta.url).pathname]

/**
 * Starts the real server process on a free loopback port, on a database of its own (a fresh
 * PGlite data directory, or a fresh PostgreSQL database in the PostgreSQL pass), and stops it
 * and removes the database when the test ends.
 */
export async function startServer(
  t: Test,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const existing = options.storage
  const dataDir = existing?.dataDir ?? mkdtempSync(join(tmpdir(), 'ringmaster-data-'))
  const storage = existing ?? {
    database: await createTestDatabase(),
    dataDir,
    adminToken: `e2e-admin-${randomUUID()}`,
  }
  if (!existing && storage.database.target.kind === 'pglite') {
    // PGlite lives in the data directory. Filled from the migrated template it starts in a third
    // of the time it takes the server to create and migrate an empty one.
    const seeded = await openDatabase({ ...storage.database.target, dataDir })
    await seeded.close()
  }
  const { database, adminToken } = storage
  const child = spawn(process.execPath, serverArgs, {
    // tsx is resolved from the control plane's own dependencies.
    cwd: packageRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      // The address is read from the "Server listening at" line, which is logged at info.
      LOG_LEVEL: 'info',
      RINGMASTER_ADMIN_TOKEN: adminToken,
      RINGMASTER_DATA_DIR: dataDir,
      ...(database.target.kind === 'postgres' && { DATABASE_URL: database.target.url }),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => {
    output += chunk
  })
  child.stderr!.on('data', (chunk) => {
    output += chunk
  })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill(signal)
    const [code] = await once(child, 'exit')
    return code as number | null
  }
  t.teardown(async () => {
    await stop('SIGKILL')
    // The server that made the storage removes it; a test restarting on it stops the others first.
    if (existing) return
    await database.dispose()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const startTimeoutMs = options.startTimeoutMs ?? 90_000
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    )
    const onData = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output}`))
    })
  })
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
  return { process: child, storage, url, adminToken, output: () => output, stop, call }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@ringmaster/db/testing'
import type { Test } from 'tap'

/** Where a server keeps its data; pass it to a second `startServer` to restart on the same data. */
export interface ServerStorage {
  database: Awaited<ReturnType<typeof createTestDatabase>>
  dataDir: string
}

export interface RunningServer {
  process: ChildProcess
  storage: ServerStorage
  url: string
  adminToken: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** One call as the admin that must succeed (status below 300); returns the JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field in tests.
  call(method: string, path: string, body?: unknown): Promise<any>
}

const serverEntry = new URL('../../src/server.ts', import.meta.url).pathname

/**
 * Starts the real server process (src/server.ts) on a free loopback port, on a database of its
 * own (a fresh PGlite data directory, or a fresh PostgreSQL database in the PostgreSQL pass),
 * and stops it and removes the database when the test ends.
 */
export async function startServer(
  t: Test,
  env: Record<string, string> = {},
  existing?: ServerStorage,
): Promise<RunningServer> {
  const storage = existing ?? {
    database: await createTestDatabase(),
    dataDir: mkdtempSync(join(tmpdir(), 'ringmaster-data-')),
  }
  const { database, dataDir } = storage
  const adminToken = `e2e-admin-${'x'.repeat(24)}`
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      RINGMASTER_ADMIN_TOKEN: adminToken,
      RINGMASTER_DATA_DIR: dataDir,
      ...(database.target.kind === 'postgres' && { DATABASE_URL: database.target.url }),
      ...env,
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
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
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

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@ringmaster/db/testing'
import type { Test } from 'tap'

export interface RunningServer {
  process: ChildProcess
  url: string
  adminToken: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
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
): Promise<RunningServer> {
  const database = await createTestDatabase()
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-data-'))
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
  return { process: child, url, adminToken, output: () => output, stop }
}

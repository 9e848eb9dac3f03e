import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@ringmaster/db/testing'
import type { Test } from 'tap'

export interface RunningServer {
  url: string
  adminToken: string
  output: () => string
  /** One call as the admin that must succeed (status below 300); returns the JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field in tests.
  call(method: string, path: string, body?: unknown): Promise<any>
}

// The built control plane (a dev dependency, so turbo builds it before these tests run).
const serverEntry = new URL('../../../../services/control-plane/dist/server.js', import.meta.url)
  .pathname

/**
 * Starts the real server process on a free loopback port and a database of its own (fresh PGlite
 * data directory, or a fresh PostgreSQL database in the PostgreSQL pass); stopped and removed
 * when the test ends. Adapted from services/control-plane/test/helpers/server-process.ts.
 */
export async function startServer(t: Test): Promise<RunningServer> {
  const database = await createTestDatabase()
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-cli-data-'))
  const adminToken = `cli-e2e-admin-${'x'.repeat(24)}`
  const child: ChildProcess = spawn(process.execPath, [serverEntry], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
      RINGMASTER_ENGINE_INTERVAL_MS: '200',
      RINGMASTER_ADMIN_TOKEN: adminToken,
      RINGMASTER_DATA_DIR: dataDir,
      ...(database.target.kind === 'postgres' && { DATABASE_URL: database.target.url }),
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
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    await database.dispose()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000)
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
  return { url, adminToken, output: () => output, call }
}

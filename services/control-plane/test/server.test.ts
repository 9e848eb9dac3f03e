import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import t from 'tap'

// The real server process: configuration checks, first-start bootstrap, restarts, and shutdown.

interface RunningServer {
  process: ChildProcess
  url: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const serverEntry = new URL('../src/server.ts', import.meta.url).pathname

function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    cwd: new URL('..', import.meta.url).pathname,
    // Telemetry has its own tests (telemetry.test.ts); here its exporter would only add to the stop.
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
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
    if (child.exitCode !== null) return child.exitCode
    child.kill(signal)
    const [code] = await once(child, 'exit')
    return code as number | null
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    const onData = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        resolve({ process: child, url: match[1]!, output: () => output, stop })
      }
    }
    child.stdout!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output}`))
    })
  })
}

async function call(url: string, token: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  })
  return { status: response.status, body: await response.json() }
}

t.test('bad configuration stops the server with every problem named', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: 'eighty',
      DATABASE_URL: 'mysql://nope',
      RINGMASTER_ADMIN_TOKEN: 'short',
      LOG_LEVEL: 'loud',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = await once(child, 'exit')
  t.equal(code, 2)
  t.match(stderr, 'Invalid configuration')
  t.match(stderr, "PORT must be a whole number from 0 to 65535; got 'eighty'")
  t.match(stderr, 'DATABASE_URL must be a PostgreSQL URL')
  t.match(stderr, 'RINGMASTER_ADMIN_TOKEN must be at least 24 characters')
  t.match(
    stderr,
    "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got 'loud'",
  )
  t.notMatch(stderr, 'short', 'the rejected secret is not echoed')
})

// PGlite keeps its files in the data dir; on PostgreSQL the database itself persists.
if (testDatabaseKind === 'pglite') {
  t.test('first start prints an admin token once; a restart keeps every row', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-data-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

    const first = await startServer({ RINGMASTER_DATA_DIR: dataDir })
    t.teardown(() => first.stop('SIGKILL'))
    const printed = /generated the bootstrap admin token \(shown once, keep it\): (rm_[\w-]+)/.exec(
      first.output(),
    )
    t.ok(printed, 'the generated token is in the log')
    const token = printed![1]!
    const created = await call(`${first.url}/v1/rings`, token, {
      method: 'POST',
      body: { name: 'ring-0', order: 0 },
    })
    t.equal(created.status, 201)
    t.equal(await first.stop(), 0, 'SIGTERM exits cleanly')

    const second = await startServer({ RINGMASTER_DATA_DIR: dataDir })
    t.teardown(() => second.stop('SIGKILL'))
    t.notMatch(second.output(), 'generated the bootstrap admin token', 'no second token')
    const ring = await call(`${second.url}/v1/rings/ring-0`, token)
    t.equal(ring.status, 200, 'the first token still works')
    t.same(ring.body, created.body, 'the ring survived the restart')
    t.equal(await second.stop(), 0)
  })
}

t.test('SIGTERM lets an in-flight request finish, then exits', async (t) => {
  // On PGlite the server keeps its database in the data directory; PostgreSQL needs one made.
  const database = testDatabaseKind === 'postgres' ? await createTestDatabase() : undefined
  t.teardown(() => database?.dispose())
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-data-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const adminToken = `shutdown-admin-${'x'.repeat(20)}`
  const server = await startServer({
    RINGMASTER_ADMIN_TOKEN: adminToken,
    RINGMASTER_DATA_DIR: dataDir,
    ...(database?.target.kind === 'postgres' && { DATABASE_URL: database.target.url }),
  })
  t.teardown(() => server.stop('SIGKILL'))

  // Send half a body, signal the server, then send the rest: the request must still succeed.
  const body = JSON.stringify({ name: 'late-arrival', description: 'sent across a shutdown' })
  const { hostname, port } = new URL(server.url)
  const pending = new Promise<{ status: number; body: string; connection?: string }>(
    (resolve, reject) => {
      const request = httpRequest(
        {
          hostname,
          port,
          method: 'POST',
          path: '/v1/services',
          headers: {
            authorization: `Bearer ${adminToken}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = ''
          response.on('data', (chunk) => {
            text += chunk
          })
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: text,
              connection: response.headers.connection,
            }),
          )
        },
      )
      request.on('error', reject)
      request.write(body.slice(0, 10))
      setTimeout(() => {
        server.process.kill('SIGTERM')
        setTimeout(() => request.end(body.slice(10)), 500)
      }, 300)
    },
  )
  const response = await pending
  t.equal(response.status, 201, 'the in-flight request completed')
  t.equal(JSON.parse(response.body).name, 'late-arrival')
  // Node's agent keeps sockets alive; the server must not wait for this one to be dropped.
  t.equal(response.connection, 'close', 'the answer closes its connection')
  const [code] = await once(server.process, 'exit')
  t.equal(code, 0)
  t.match(server.output(), '"signal":"SIGTERM"')
})

// Whether a big flag import stops the world (issue 14, section 2): the control plane runs as its
// own process (node services/control-plane/dist/server.js) on a fresh database; while one
// `POST /v1/flags/import` of N flags runs, a loop stops and restarts the line (`POST /v1/halts`,
// then `DELETE /v1/halts/{id}`) and SDK clients poll `GET /api/client/features` (the same loops
// run for a few seconds before the import, as the machine's reference). A benchmark, not
// a test: it prints how long the import took and the latencies seen while it ran, and fails only
// when an answer is wrong (a status other than the expected one).
// Build first: pnpm turbo run build --filter=@ringmaster/control-plane...
// Run: pnpm exec tsx scripts/bench/import-under-load.ts [--flags 5000] [--databases pglite,postgres]
//      [--sdk-clients 4] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
//      [--cpu-prof-dir <dir>]  (writes a V8 CPU profile of each server run there: open it in
//      Chrome DevTools or speedscope to see what held the event loop)
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ADMIN_TOKEN = 'rm_bench_admin_token_0123456789abcdef'
const RING = 'production'
// How often each loop sends while the import runs: a halt (then its lift) and an SDK poll.
const HALT_EVERY_MS = 50
const SDK_POLL_EVERY_MS = 20
const BASELINE_MS = 3_000

const root = fileURLToPath(new URL('../../', import.meta.url))
const serverModule = join(root, 'services/control-plane/dist/server.js')
if (!existsSync(serverModule)) {
  console.error(
    'services/control-plane/dist is missing; build first: pnpm turbo run build --filter=@ringmaster/control-plane...',
  )
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    flags: { type: 'string', default: '5000' },
    databases: { type: 'string' },
    'sdk-clients': { type: 'string', default: '4' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'cpu-prof-dir': { type: 'string' },
  },
})
const FLAGS = Number(args.flags)
const SDK_CLIENTS = Number(args['sdk-clients'])
if (!Number.isInteger(FLAGS) || FLAGS < 1) throw new Error(`--flags: '${args.flags}'`)
if (!Number.isInteger(SDK_CLIENTS) || SDK_CLIENTS < 1) {
  throw new Error(`--sdk-clients: '${args['sdk-clients']}'`)
}
const databases = args.databases?.split(',') ?? ['pglite', 'postgres']
for (const kind of databases) {
  if (kind !== 'pglite' && kind !== 'postgres') throw new Error(`--databases: unknown '${kind}'`)
}

interface SqlClient {
  unsafe(query: string): Promise<unknown>
  end(options?: { timeout?: number }): Promise<void>
}
// The postgres driver is a dependency of @ringmaster/db, not of the root.
const postgres = createRequire(join(root, 'packages/db/package.json'))('postgres') as (
  url: string,
  options?: Record<string, unknown>,
) => SqlClient

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function call(
  baseUrl: string,
  method: string,
  path: string,
  authorization: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization,
      ...headers,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

async function expect<T>(status: number, ...request: Parameters<typeof call>): Promise<T> {
  const response = await call(...request)
  if (response.status !== status) {
    throw new Error(
      `${request[1]} ${request[2]}: expected ${status}, got ${response.status} ${JSON.stringify(response.body).slice(0, 500)}`,
    )
  }
  return response.body as T
}

/**
 * An Unleash client-features body of `count` flags: rollouts, some constraints and variants. Kept
 * under the control plane's 1 MiB body limit (5,000 flags come to about 0.8 MiB).
 */
function importBody(count: number) {
  const features = Array.from({ length: count }, (_, index) => ({
    name: `bench.flag-${String(index).padStart(5, '0')}`,
    enabled: index % 3 !== 0,
    ...(index % 7 === 0 && { type: 'experiment' }),
    strategies:
      index % 2
        ? [{ name: 'default' }]
        : [
            {
              name: 'flexibleRollout',
              parameters: { rollout: String(index % 101), stickiness: 'default', groupId: 'g' },
              ...(index % 10 === 0 && {
                constraints: [{ contextName: 'region', operator: 'IN', values: ['westeurope'] }],
              }),
            },
          ],
    ...(index % 20 === 0 && {
      variants: [
        { name: 'blue', weight: 500, stickiness: 'default' },
        { name: 'green', weight: 500, stickiness: 'default' },
      ],
    }),
  }))
  return { ring: RING, features }
}

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`
const summary = (values: readonly number[]) =>
  `n=${values.length} p50 ${ms(percentile(values, 50))} p99 ${ms(percentile(values, 99))} max ${ms(Math.max(...values))}`

interface RunResult {
  database: string
  baseline: { haltMs: number[]; sdkMs: number[] }
  importMs: number
  imported: number
  haltMs: number[]
  liftMs: number[]
  sdkMs: number[]
  sdkFlagsSeen: number[]
}

async function startServer(
  kind: 'pglite' | 'postgres',
  databaseUrl: string | undefined,
  dataDir: string,
): Promise<{ baseUrl: string; process: ChildProcess }> {
  const port = await freePort()
  const profile = args['cpu-prof-dir']
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${args['cpu-prof-dir']}`,
        `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`,
      ]
    : []
  const child = spawn(process.execPath, [...profile, serverModule], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      RINGMASTER_ADMIN_TOKEN: ADMIN_TOKEN,
      RINGMASTER_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...(kind === 'postgres' && databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const baseUrl = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break
    } catch {}
    if (attempt > 3_000) throw new Error('the server did not become ready within 5 minutes')
    await sleep(100)
  }
  return { baseUrl, process: child }
}

async function runOnce(kind: 'pglite' | 'postgres'): Promise<RunResult> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'ringmaster-import-bench-'))
  const name = `ringmaster_bench_import_${Date.now()}`
  const admin =
    kind === 'postgres' ? postgres(args['postgres-url'], { max: 1, onnotice: () => {} }) : null
  let databaseUrl: string | undefined
  if (admin) {
    await admin.unsafe(`create database ${name}`)
    const url = new URL(args['postgres-url'])
    url.pathname = `/${name}`
    databaseUrl = url.href
  }
  const server = await startServer(kind, databaseUrl, join(dataDir, 'pglite'))
  try {
    return await measure(kind, server.baseUrl)
  } finally {
    server.process.kill('SIGTERM')
    await new Promise((resolve) => server.process.once('exit', resolve))
    await rm(dataDir, { recursive: true, force: true })
    if (admin) {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end({ timeout: 5 })
    }
  }
}

async function measure(kind: string, baseUrl: string): Promise<RunResult> {
  const bearer = `Bearer ${ADMIN_TOKEN}`
  // Seeding, not measured.
  await expect(201, baseUrl, 'POST', '/v1/rings', bearer, { name: RING, order: 0 })
  const issue = async (tokenName: string, role: string, subject: string, ring?: string) =>
    (
      await expect<{ secret: string }>(201, baseUrl, 'POST', '/v1/tokens', bearer, {
        name: tokenName,
        role,
        subject,
        ...(ring && { ring }),
      })
    ).secret
  const sre = `Bearer ${await issue('bench-sre', 'sre', 'bench-sre')}`
  const client = await issue('bench-sdk', 'client', 'bench-sdk', RING)
  const sdkHeaders = { 'unleash-appname': 'bench', 'unleash-instanceid': 'bench-1' }
  const body = JSON.stringify(importBody(FLAGS))
  console.log(`${kind}: import body ${(body.length / 1024 / 1024).toFixed(2)} MiB`)

  // Warm up every route once (JIT, token caches), then measure.
  await expect(200, baseUrl, 'GET', '/api/client/features', client, undefined, sdkHeaders)
  const warmHalt = await expect<{ id: number }>(201, baseUrl, 'POST', '/v1/halts', sre, {
    scope: 'global',
    reason: 'bench warm-up',
  })
  await expect(200, baseUrl, 'DELETE', `/v1/halts/${warmHalt.id}`, sre)

  // First the same loops with no import (BASELINE_MS), so that each run also shows what this
  // machine gives at its current load; then the import. A request counts for the phase it
  // started in.
  let phase: 'baseline' | 'import' | 'done' = 'baseline'
  const samples = {
    baseline: { haltMs: [] as number[], liftMs: [] as number[], sdkMs: [] as number[] },
    import: { haltMs: [] as number[], liftMs: [] as number[], sdkMs: [] as number[] },
  }
  const sdkFlagsSeen: number[] = []
  const haltLoop = async () => {
    while (phase !== 'done') {
      const during = samples[phase]
      const started = performance.now()
      const halt = await expect<{ id: number }>(201, baseUrl, 'POST', '/v1/halts', sre, {
        scope: 'global',
        reason: 'bench: stop the line during an import',
      })
      during.haltMs.push(performance.now() - started)
      const lifting = performance.now()
      await expect(200, baseUrl, 'DELETE', `/v1/halts/${halt.id}`, sre)
      during.liftMs.push(performance.now() - lifting)
      await sleep(HALT_EVERY_MS)
    }
  }
  const sdkLoop = async () => {
    while (phase !== 'done') {
      const during = samples[phase]
      const started = performance.now()
      const features = await expect<{ features: unknown[] }>(
        200,
        baseUrl,
        'GET',
        '/api/client/features',
        client,
        undefined,
        sdkHeaders,
      )
      during.sdkMs.push(performance.now() - started)
      if (during === samples.import) sdkFlagsSeen.push(features.features.length)
      await sleep(SDK_POLL_EVERY_MS)
    }
  }
  const loops = [haltLoop(), ...Array.from({ length: SDK_CLIENTS }, sdkLoop)]
  await sleep(BASELINE_MS)
  phase = 'import'

  const started = performance.now()
  const outcome = await expect<{ flags: string[] }>(
    200,
    baseUrl,
    'POST',
    '/v1/flags/import',
    bearer,
    body,
  )
  const importMs = performance.now() - started
  phase = 'done'
  await Promise.all(loops)
  const { haltMs, liftMs, sdkMs } = samples.import
  console.log(
    `${kind}: no import (${BASELINE_MS} ms): halts ${summary(samples.baseline.haltMs)}; SDK reads ${summary(samples.baseline.sdkMs)}`,
  )
  console.log(
    `${kind}: imported ${outcome.flags.length} flags in ${ms(importMs)}; during it: halts ${summary(haltMs)}; SDK reads ${summary(sdkMs)}`,
  )
  return {
    database: kind,
    baseline: samples.baseline,
    importMs,
    imported: outcome.flags.length,
    haltMs,
    liftMs,
    sdkMs,
    sdkFlagsSeen,
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql.unsafe('select 1')
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 })
  }
}

const machine = `node ${process.version}, nproc ${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
  .loadavg()
  .map((load) => load.toFixed(2))
  .join(' ')}`
console.log(`import under load: ${FLAGS} flags, ${SDK_CLIENTS} SDK clients; ${machine}`)

const results: RunResult[] = []
for (const kind of databases as ('pglite' | 'postgres')[]) {
  if (kind === 'postgres' && !(await postgresReachable(args['postgres-url']))) {
    console.log(`postgres: not reachable at ${args['postgres-url']}; skipped`)
    continue
  }
  const result = await runOnce(kind)
  if (result.imported !== FLAGS) {
    throw new Error(`${kind}: the import reported ${result.imported} flags, not ${FLAGS}`)
  }
  results.push(result)
}

console.log(
  '\n| database | import of N flags | POST /v1/halts p50 / p99 / max (n) | SDK reads p50 / p99 / max (n) |',
)
console.log('| --- | --- | --- | --- |')
const cell = (values: number[]) =>
  `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))} / ${ms(Math.max(...values))} (${values.length})`
for (const result of results) {
  console.log(
    `| ${result.database} | ${FLAGS.toLocaleString('en-US')} in ${ms(result.importMs)} | ${cell(result.haltMs)} | ${cell(result.sdkMs)} |`,
  )
}
console.log('\nThe same loops with no import running, just before it (this machine at this load):')
console.log('| database | POST /v1/halts p50 / p99 / max (n) | SDK reads p50 / p99 / max (n) |')
console.log('| --- | --- | --- |')
for (const result of results) {
  console.log(
    `| ${result.database} | ${cell(result.baseline.haltMs)} | ${cell(result.baseline.sdkMs)} |`,
  )
}

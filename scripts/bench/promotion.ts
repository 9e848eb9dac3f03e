// How fast the promotion engine walks one release through 4 rings of N scale units each, over
// real HTTP, with executors that answer at once. A benchmark, not a test: it prints numbers.
// Build first: pnpm turbo run build --filter=@ringmaster/control-plane...
// Run: pnpm exec tsx scripts/bench/promotion.ts [--sizes 100,1000,10000] [--databases pglite,postgres]
//      [--postgres-url postgres://postgres@127.0.0.1:5432/postgres] [--timeout-seconds N]
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

const RINGS = 4
const WAVE_SIZE = 200
const EXECUTORS = 16
const EVENT_POLL_MS = 20
const EVENT_PAGE = 500
const ADMIN_TOKEN = 'rm_bench_admin_token_0123456789abcdef'

const appModule = new URL('../../services/control-plane/dist/app.js', import.meta.url)
if (!existsSync(appModule)) {
  console.error(
    'services/control-plane/dist is missing; build first: pnpm turbo run build --filter=@ringmaster/control-plane...',
  )
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    databases: { type: 'string' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'timeout-seconds': { type: 'string' },
  },
})
const sizes = args.sizes.split(',').map((size) => {
  const n = Number(size)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: '${size}' is not a whole number`)
  return n
})
const timeoutSeconds =
  args['timeout-seconds'] === undefined ? undefined : Number(args['timeout-seconds'])
if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
  throw new Error(`--timeout-seconds: '${args['timeout-seconds']}' is not a positive number`)
}
const databasesAsked = args.databases?.split(',') ?? ['pglite', 'postgres']
for (const kind of databasesAsked) {
  if (kind !== 'pglite' && kind !== 'postgres') throw new Error(`--databases: unknown '${kind}'`)
}

// Types of what the script touches in the compiled app, so that it needs no build-time imports.
type DatabaseTarget = { kind: 'pglite' } | { kind: 'postgres'; url: string }
interface BenchApp {
  database: { db: { execute(query: string): Promise<unknown> } }
  listen(options: { host: string; port: number }): Promise<string>
  close(): Promise<void>
}
type BuildApp = (options: { database: DatabaseTarget; adminToken: string }) => Promise<BenchApp>
interface SqlClient {
  unsafe(query: string): Promise<unknown>
  end(options?: { timeout?: number }): Promise<void>
}
type Postgres = (url: string, options?: Record<string, unknown>) => SqlClient

const { buildApp } = (await import(appModule.href)) as { buildApp: BuildApp }
// The postgres driver is a dependency of @ringmaster/db, not of the root.
const postgres = createRequire(new URL('../../packages/db/package.json', import.meta.url))(
  'postgres',
) as Postgres

interface AuditEvent {
  id: number
  at: string
  action: string
  subject: string
  data: Record<string, unknown>
}

interface RunResult {
  database: string
  perRing: number
  scaleUnits: number
  waves: number
  wallMs: number
  completeMs: number[]
  transitionMs: number[]
  transitionSeenMs: number[]
  requests: number
}

class Client {
  requests = 0
  constructor(private readonly baseUrl: string) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    this.requests += 1
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
  }

  async expect<T = Record<string, unknown>>(
    status: number,
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<T> {
    const response = await this.call<T>(method, path, token, body)
    if (response.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`,
      )
    }
    return response.body
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

/** Opens a fresh database of the kind, runs `work` on it, and removes it again. */
async function withDatabase<T>(
  kind: 'pglite' | 'postgres',
  work: (target: DatabaseTarget) => Promise<T>,
): Promise<T> {
  if (kind === 'pglite') return work({ kind: 'pglite' })
  const name = `ringmaster_bench_${Date.now()}`
  const admin = postgres(args['postgres-url'], { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database ${name}`)
    const url = new URL(args['postgres-url'])
    url.pathname = `/${name}`
    try {
      return await work({ kind: 'postgres', url: url.href })
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
    }
  } finally {
    await admin.end({ timeout: 5 })
  }
}

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function runOnce(kind: 'pglite' | 'postgres', perRing: number): Promise<RunResult> {
  return withDatabase(kind, async (target) => {
    const app = await buildApp({ database: target, adminToken: ADMIN_TOKEN })
    try {
      const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
      const client = new Client(baseUrl)
      return await measure(app, client, kind, perRing)
    } finally {
      await app.close()
    }
  })
}

async function measure(
  app: BenchApp,
  client: Client,
  kind: string,
  perRing: number,
): Promise<RunResult> {
  const ringNames = Array.from({ length: RINGS }, (_, order) => `ring-${order}`)

  // Seeding, not measured: rings and tokens over HTTP, scale units in bulk into the database.
  for (const [order, name] of ringNames.entries()) {
    await client.expect(201, 'POST', '/v1/rings', ADMIN_TOKEN, {
      name,
      order,
      policy: {
        preApproval: order === 0 ? { role: 'approver', minApprovals: 1, ttlHours: 24 } : null,
        bakeMinutes: 0,
        maxParallel: WAVE_SIZE,
      },
    })
  }
  await app.database.db.execute(
    `insert into scale_units (name, region, ring_id)
     select 'su-' || rings.ring_order || '-' || lpad(n::text, 6, '0'), 'region-' || (n % 12), rings.id
     from rings cross join generate_series(1, ${perRing}) as n`,
  )
  const issue = async (name: string, role: string, subject: string) =>
    (
      await client.expect<{ secret: string }>(201, 'POST', '/v1/tokens', ADMIN_TOKEN, {
        name,
        role,
        subject,
      })
    ).secret
  const pipeline = await issue('bench-pipeline', 'pipeline', 'bench-pipeline')
  const approver = await issue('bench-approver', 'approver', 'bench-lead')

  let cursor = 0
  for (;;) {
    const page = await client.expect<{ events: AuditEvent[]; nextAfter: number }>(
      200,
      'GET',
      `/v1/events?after=${cursor}&limit=${EVENT_PAGE}`,
      ADMIN_TOKEN,
    )
    cursor = page.nextAfter
    if (page.events.length < EVENT_PAGE) break
  }

  // Measured from here.
  const requestsBefore = client.requests
  const started = performance.now()
  await client.expect(201, 'POST', '/v1/services', pipeline, {
    name: 'bench',
    description: 'promotion benchmark',
  })
  const release = await client.expect<{ id: number; stages: { waves: string[][] }[] }>(
    201,
    'POST',
    '/v1/releases',
    pipeline,
    { service: 'bench', version: '1.0.0' },
  )
  const waveCount = release.stages.reduce((sum, stage) => sum + stage.waves.length, 0)
  const subject = `release:${release.id}`

  let done = false
  let failure: Error | null = null
  const fail = (error: Error) => {
    failure ??= error
    done = true
    wakeAll()
  }

  // Executors: a pool that completes every deployment the moment its wave starts.
  const queue: number[] = []
  let idle: (() => void)[] = []
  const wakeAll = () => {
    const waiting = idle
    idle = []
    for (const wake of waiting) wake()
  }
  const completeMs: number[] = []
  const completedAt = new Map<number, number>()
  const executor = async () => {
    while (!done) {
      const id = queue.shift()
      if (id === undefined) {
        await new Promise<void>((resolve) => idle.push(resolve))
        continue
      }
      const callStarted = performance.now()
      const response = await client.call('POST', `/v1/deployments/${id}/complete`, pipeline, {
        result: 'succeeded',
      })
      completedAt.set(id, performance.now())
      completeMs.push(completedAt.get(id)! - callStarted)
      if (response.status !== 200) {
        fail(
          new Error(
            `completing deployment ${id}: ${response.status} ${JSON.stringify(response.body)}`,
          ),
        )
      }
    }
  }

  // The event follower: approves ring 0, hands started waves to the executors, sees the end.
  const events: AuditEvent[] = []
  const seenAt = new Map<number, number>()
  const approvals: Promise<unknown>[] = []
  const follower = async () => {
    while (!done) {
      const page = await client.expect<{ events: AuditEvent[]; nextAfter: number }>(
        200,
        'GET',
        `/v1/events?after=${cursor}&limit=${EVENT_PAGE}`,
        ADMIN_TOKEN,
      )
      cursor = page.nextAfter
      for (const event of page.events) {
        if (event.subject !== subject && !event.subject.startsWith(`${subject}:`)) continue
        events.push(event)
        seenAt.set(event.id, performance.now())
        if (event.action === 'stage.awaiting_approval' && event.data.ring === ringNames[0]) {
          approvals.push(
            client
              .expect(
                201,
                'POST',
                `/v1/releases/${release.id}/stages/${ringNames[0]}/approvals`,
                approver,
                { decision: 'approve', comment: 'bench' },
              )
              .catch(fail),
          )
        } else if (event.action === 'wave.started') {
          queue.push(...(event.data.deployments as number[]))
          wakeAll()
        } else if (event.action === 'release.succeeded') {
          done = true
          wakeAll()
        } else if (
          event.action === 'release.halted' ||
          event.action === 'release.failed' ||
          event.action === 'release.rolled_back'
        ) {
          fail(new Error(`release ${release.id}: ${event.action} ${JSON.stringify(event.data)}`))
        }
      }
      if (page.events.length < EVENT_PAGE) await sleep(EVENT_POLL_MS)
    }
  }

  // Without --timeout-seconds: generous, 2 minutes plus 50 ms per scale unit.
  const timeoutMs =
    timeoutSeconds !== undefined ? timeoutSeconds * 1000 : 120_000 + 50 * RINGS * perRing
  const timer = setTimeout(() => {
    void client
      .call<{ state: string; blockedBy: unknown }>('GET', `/v1/releases/${release.id}`, ADMIN_TOKEN)
      .then(
        ({ body }) =>
          fail(
            new Error(
              `release ${release.id} did not succeed within ${timeoutMs / 1000} s (${completeMs.length} of ${RINGS * perRing} deployments completed): it is ${body.state}, blocked by ${JSON.stringify(body.blockedBy)}`,
            ),
          ),
        fail,
      )
  }, timeoutMs)
  await Promise.all([
    follower().catch(fail),
    ...Array.from({ length: EXECUTORS }, () => executor().catch(fail)),
  ])
  clearTimeout(timer)
  const wallMs = performance.now() - started
  await Promise.all(approvals)
  if (failure) throw failure
  const requests = client.requests - requestsBefore

  return {
    database: kind,
    perRing,
    scaleUnits: RINGS * perRing,
    waves: waveCount,
    wallMs,
    completeMs,
    ...transitions(events, completedAt, seenAt),
    requests,
  }
}

/**
 * The engine's reaction time between waves: from the last deployment.succeeded of a wave to the
 * next wave.started or stage.baking, by the events' `at` (the start of the transaction that wrote
 * them, so the work done inside the engine's transaction is not counted), and as an executor sees
 * it: from the response to the wave's last complete call to the follower reading the next event.
 */
function transitions(
  events: readonly AuditEvent[],
  completedAt: ReadonlyMap<number, number>,
  seenAt: ReadonlyMap<number, number>,
): { transitionMs: number[]; transitionSeenMs: number[] } {
  const waveOf = new Map<number, number>()
  const lastSucceeded: (AuditEvent | undefined)[] = []
  const lastResponse: number[] = []
  for (const event of events) {
    if (event.action === 'wave.started') {
      const wave = lastSucceeded.length
      lastSucceeded.push(undefined)
      lastResponse.push(0)
      for (const id of event.data.deployments as number[]) {
        waveOf.set(id, wave)
        lastResponse[wave] = Math.max(lastResponse[wave]!, completedAt.get(id) ?? 0)
      }
    } else if (event.action === 'deployment.succeeded') {
      const wave = waveOf.get(event.data.deploymentId as number)
      if (wave !== undefined) lastSucceeded[wave] = event
    }
  }
  const transitionMs: number[] = []
  const transitionSeenMs: number[] = []
  for (const [wave, last] of lastSucceeded.entries()) {
    if (!last) continue
    const next = events.find(
      (event) =>
        event.id > last.id && (event.action === 'wave.started' || event.action === 'stage.baking'),
    )
    if (!next) continue
    transitionMs.push(Date.parse(next.at) - Date.parse(last.at))
    transitionSeenMs.push(seenAt.get(next.id)! - lastResponse[wave]!)
  }
  return { transitionMs, transitionSeenMs }
}

const kinds: ('pglite' | 'postgres')[] = []
for (const kind of databasesAsked as ('pglite' | 'postgres')[]) {
  if (kind === 'postgres' && !(await postgresReachable(args['postgres-url']))) {
    const message = `PostgreSQL at ${args['postgres-url']} does not answer`
    if (args.databases !== undefined) {
      console.error(`${message}; drop it from --databases or start it`)
      process.exit(1)
    }
    console.error(`${message}; skipping it`)
    continue
  }
  kinds.push(kind)
}

const cpus = os.cpus()
console.log(
  `Machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${os.platform()} ${os.release()}, load average ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}`,
)
console.log(
  `Topology: ${RINGS} rings × N scale units, waves of ${WAVE_SIZE}, bake 0, ring-0 pre-approval; ${EXECUTORS} concurrent executor calls, events polled every ${EVENT_POLL_MS} ms\n`,
)

const results: RunResult[] = []
for (const kind of kinds) {
  for (const perRing of sizes) {
    process.stderr.write(`${kind}, ${RINGS} × ${perRing.toLocaleString('en-US')}: running…\n`)
    const result = await runOnce(kind, perRing)
    process.stderr.write(
      `${kind}, ${RINGS} × ${perRing.toLocaleString('en-US')}: ${(result.wallMs / 1000).toFixed(1)} s\n`,
    )
    results.push(result)
  }
}

const ms = (value: number) => (Number.isNaN(value) ? '–' : value.toFixed(0))
const rows = [
  [
    'database',
    'scale units',
    'waves',
    'total (s)',
    'units/s',
    'complete p50 (ms)',
    'complete p99 (ms)',
    'transition p50 (ms)',
    'transition p99 (ms)',
    'seen p50 (ms)',
    'seen p99 (ms)',
    'HTTP requests',
  ],
  ...results.map((r) => [
    r.database,
    `${RINGS} × ${r.perRing.toLocaleString('en-US')}`,
    String(r.waves),
    (r.wallMs / 1000).toFixed(1),
    (r.scaleUnits / (r.wallMs / 1000)).toFixed(0),
    ms(percentile(r.completeMs, 50)),
    ms(percentile(r.completeMs, 99)),
    ms(percentile(r.transitionMs, 50)),
    ms(percentile(r.transitionMs, 99)),
    ms(percentile(r.transitionSeenMs, 50)),
    ms(percentile(r.transitionSeenMs, 99)),
    r.requests.toLocaleString('en-US'),
  ]),
]
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
const line = (row: string[], index: number) =>
  `| ${row.map((cell, column) => (index === 0 || column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`
console.log(line(rows[0]!, 0))
console.log(
  `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`,
)
for (const [index, row] of rows.slice(1).entries()) console.log(line(row, index + 1))
console.log(
  `\ncomplete: latency of POST /v1/deployments/{id}/complete with ${EXECUTORS} in flight. transition: last deployment.succeeded of a wave → next wave.started or stage.baking, by audit \`at\` (transaction start). seen: the wave's last complete response → the follower reading that event (polls every ${EVENT_POLL_MS} ms). HTTP requests: everything from creating the service to release.succeeded, event polls included.`,
)

// What a PostgreSQL outage costs (issue 14, section 1; ADR 0007). The control plane runs as its
// own process (node services/control-plane/dist/server.js) on a fresh PostgreSQL database reached
// through a TCP proxy in this process (DatabaseProxy from @ringmaster/control-plane/testing), and
// the proxy is cut for --cut-seconds, once per mode: `reset` (every connection reset, new ones
// refused) and `blackhole` (sockets stay open, no byte goes through). Throughout, SDK clients read
// flags over HTTP (`GET /api/client/features`, `GET /api/frontend`, OFREP); the script reports
// failed reads and their latency before, during and after the cut; how long after the cut an
// admin route (`GET /v1/rings`, sent every 100 ms without waiting for the one before) and /readyz
// first answer 503 /problems/database-unavailable, and how long the admin read sent with the cut
// waits for its answer; and, once the proxy heals, how long until the admin route answers 200
// again and a flag change made right then is served to SDK reads. A benchmark, not a test: it
// fails only when it cannot finish (a setup request refused, a wait past its bound).
// Build first: pnpm turbo run build --filter=@ringmaster/control-plane...
// Run: pnpm exec tsx scripts/bench/database-outage.ts [--cut-seconds 60] [--modes reset,blackhole]
//      [--sdk-clients 4] [--steady-seconds 5]
//      [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { DatabaseProxy as CuttableProxy } from '../../services/control-plane/src/testing/database-proxy.js'

const ADMIN_TOKEN = 'rm_bench_admin_token_0123456789abcdef'
const RING = 'production'
const FLAG = 'everyone'
const FLAG_COUNT = 50
const ROUTES = ['client features', 'frontend', 'ofrep'] as const
// Pause between two reads of one SDK client, and between two admin probes.
const SDK_PAUSE_MS = 10
// During the cut an admin read and a readiness check go out this often, each without waiting for
// the one before, so a request stuck on the database does not hide when the others were refused.
const ADMIN_EVERY_MS = 100
const ADMIN_MAX_IN_FLIGHT = 50
// Bounds, so that a broken server ends the run instead of hanging it. Not targets.
const SDK_READ_TIMEOUT_MS = 10_000
const ADMIN_TIMEOUT_MS = 30_000
const WAIT_BOUND_MS = 60_000
// Targets from the issue.
const TARGET_SDK_P99_MS = 50
const TARGET_UNAVAILABLE_MS = 2_000
const TARGET_RECOVERY_MS = 2_000

const root = fileURLToPath(new URL('../../', import.meta.url))
const serverModule = join(root, 'services/control-plane/dist/server.js')
const proxyModule = join(root, 'services/control-plane/dist/testing/database-proxy.js')
if (!existsSync(serverModule) || !existsSync(proxyModule)) {
  console.error(
    'services/control-plane/dist is missing; build first: pnpm turbo run build --filter=@ringmaster/control-plane...',
  )
  process.exit(2)
}
const { DatabaseProxy } = (await import(pathToFileURL(proxyModule).href)) as {
  DatabaseProxy: typeof CuttableProxy
}

const { values: args } = parseArgs({
  options: {
    'cut-seconds': { type: 'string', default: '60' },
    modes: { type: 'string', default: 'reset,blackhole' },
    'sdk-clients': { type: 'string', default: '4' },
    'steady-seconds': { type: 'string', default: '5' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
})
const CUT_MS = Number(args['cut-seconds']) * 1000
const STEADY_MS = Number(args['steady-seconds']) * 1000
const SDK_CLIENTS = Number(args['sdk-clients'])
if (!(CUT_MS > 0 && CUT_MS <= 3_600_000)) throw new Error(`--cut-seconds: '${args['cut-seconds']}'`)
if (!(STEADY_MS >= 1000 && STEADY_MS <= 600_000)) {
  throw new Error(`--steady-seconds: '${args['steady-seconds']}' (1 to 600)`)
}
if (!Number.isInteger(SDK_CLIENTS) || SDK_CLIENTS < 1 || SDK_CLIENTS > 64) {
  throw new Error(`--sdk-clients: '${args['sdk-clients']}'`)
}
type Mode = 'reset' | 'blackhole'
const modes = args.modes.split(',') as Mode[]
for (const mode of modes) {
  if (mode !== 'reset' && mode !== 'blackhole') throw new Error(`--modes: unknown '${mode}'`)
}
const postgresUrl = new URL(args['postgres-url'])
if (!['127.0.0.1', 'localhost', '[::1]'].includes(postgresUrl.hostname)) {
  throw new Error(
    `--postgres-url: only a database on this machine (loopback), not '${postgresUrl.hostname}'`,
  )
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

interface Answer {
  status: number
  text: string
  ms: number
}

/** One HTTP request; a network error or a timeout is an answer with status 0. */
async function send(
  url: string,
  init: { method?: string; authorization?: string; body?: unknown; timeoutMs: number },
): Promise<Answer> {
  const started = performance.now()
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.authorization && { authorization: init.authorization }),
        'unleash-appname': 'outage-bench',
        'unleash-client-spec': '5.2.0',
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(init.timeoutMs),
    })
    const text = await response.text()
    return { status: response.status, text, ms: performance.now() - started }
  } catch (error) {
    return { status: 0, text: String(error), ms: performance.now() - started }
  }
}

const isUnavailable = (answer: Answer) =>
  answer.status === 503 && answer.text.includes('/problems/database-unavailable')

/** Sends `request` until `done` says yes, `pauseMs` apart; throws past WAIT_BOUND_MS. */
async function until(
  what: string,
  request: () => Promise<Answer>,
  done: (answer: Answer) => boolean,
  pauseMs = 10,
): Promise<{ answer: Answer; at: number; seen: Answer[] }> {
  const deadline = performance.now() + WAIT_BOUND_MS
  const seen: Answer[] = []
  for (;;) {
    const answer = await request()
    if (done(answer)) return { answer, at: performance.now(), seen }
    seen.push(answer)
    if (performance.now() > deadline) {
      throw new Error(`${what}: not within ${WAIT_BOUND_MS} ms; last ${describe(answer)}`)
    }
    await sleep(pauseMs)
  }
}

const describe = (answer: Answer) => `${answer.status} ${answer.text.slice(0, 200)}`

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const fmt = (value: number) =>
  Number.isNaN(value)
    ? '–'
    : value < 100
      ? value.toFixed(1)
      : Math.round(value).toLocaleString('en-US')
const latencies = (values: readonly number[]) =>
  `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))} / ${fmt(values.length ? Math.max(...values) : Number.NaN)} ms`

type Phase = 'before' | 'during' | 'after'
interface SdkRead {
  phase: Phase
  route: (typeof ROUTES)[number]
  ms: number
  failure?: string
}

/** One request sent during the cut; times are from the cut. */
interface Probe {
  sentMs: number
  answeredMs: number
  /** Answered 503 /problems/database-unavailable. */
  unavailable: boolean
  /** Otherwise, what came back. */
  other?: string
}

interface ModeResult {
  mode: Mode
  reads: SdkRead[]
  /** `GET /v1/rings` as the admin, sent every ADMIN_EVERY_MS from the cut to the heal. */
  admin: Probe[]
  /** `GET /readyz`, the same way. */
  readiness: Probe[]
  /** From the heal: admin route 200, /readyz ready, the flag change answered, then served. */
  adminBackMs: number
  readyMs: number
  changeAnsweredMs: number
  changeServedMs: number
  changeRetries: number
}

/** The ring's flags, in Unleash's client API format; `everyone` is the one the bench toggles. */
function importBody() {
  const features = [
    { name: FLAG, enabled: true, strategies: [{ name: 'default' }] },
    ...Array.from({ length: FLAG_COUNT - 1 }, (_, index) => ({
      name: `bench.flag-${String(index).padStart(3, '0')}`,
      enabled: index % 4 !== 0,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: String((index * 7) % 101), stickiness: 'default', groupId: 'g' },
          ...(index % 5 === 0 && {
            constraints: [{ contextName: 'region', operator: 'IN', values: ['westeurope'] }],
          }),
        },
      ],
      ...(index % 10 === 0 && {
        variants: [
          { name: 'blue', weight: 500, stickiness: 'default' },
          { name: 'green', weight: 500, stickiness: 'default' },
        ],
      }),
    })),
  ]
  return { ring: RING, features }
}

interface RunningServer {
  baseUrl: string
  process: ChildProcess
  /** The server's last lines of output, for an error message. */
  tail: () => string
}

async function startServer(databaseUrl: string, dataDir: string): Promise<RunningServer> {
  const port = await freePort()
  const child = spawn(process.execPath, [serverModule], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      RINGMASTER_ADMIN_TOKEN: ADMIN_TOKEN,
      RINGMASTER_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // The server logs a warning per refused request during the cut: keep only the end.
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean))
    if (lines.length > 400) lines.splice(0, lines.length - 200)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const server = {
    baseUrl: `http://127.0.0.1:${port}`,
    process: child,
    tail: () => lines.slice(-20).join('\n'),
  }
  const deadline = performance.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with ${child.exitCode}:\n${server.tail()}`)
    }
    if ((await send(`${server.baseUrl}/readyz`, { timeoutMs: 5_000 })).status === 200) break
    if (performance.now() > deadline) throw new Error('the server was not ready within 2 minutes')
    await sleep(100)
  }
  return server
}

async function stopServer(server: RunningServer): Promise<void> {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return
  const exited = new Promise((resolve) => server.process.once('exit', resolve))
  server.process.kill('SIGTERM')
  const timer = setTimeout(() => server.process.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function runMode(mode: Mode): Promise<ModeResult> {
  const name = `ringmaster_bench_outage_${mode}_${Date.now()}_${process.pid}`
  const admin = postgres(postgresUrl.href, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const databaseUrl = new URL(postgresUrl.href)
  databaseUrl.pathname = `/${name}`
  const proxy = await DatabaseProxy.start({
    host: postgresUrl.hostname,
    port: Number(postgresUrl.port || 5432),
  })
  const dataDir = await mkdtemp(join(os.tmpdir(), 'ringmaster-outage-bench-'))
  let server: RunningServer | undefined
  try {
    server = await startServer(proxy.urlFor(databaseUrl.href), dataDir)
    return await measure(mode, server, proxy)
  } catch (error) {
    if (server) console.error(`${mode}: the server's last lines:\n${server.tail()}`)
    throw error
  } finally {
    proxy.heal()
    if (server) await stopServer(server)
    await proxy.close()
    await rm(dataDir, { recursive: true, force: true })
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end({ timeout: 5 })
  }
}

async function measure(mode: Mode, server: RunningServer, proxy: CuttableProxy) {
  const { baseUrl } = server
  const bearer = `Bearer ${ADMIN_TOKEN}`
  const expect = async (status: number, method: string, path: string, body?: unknown) => {
    const answer = await send(`${baseUrl}${path}`, {
      method,
      authorization: bearer,
      body,
      timeoutMs: ADMIN_TIMEOUT_MS,
    })
    if (answer.status !== status) {
      throw new Error(`${method} ${path}: expected ${status}, got ${describe(answer)}`)
    }
    return JSON.parse(answer.text)
  }

  // Seeding, not measured.
  await expect(201, 'POST', '/v1/rings', { name: RING, order: 0 })
  await expect(200, 'POST', '/v1/flags/import', importBody())
  const token = async (role: 'client' | 'frontend') =>
    `${(await expect(201, 'POST', '/v1/tokens', { name: `bench-${role}`, role, subject: `bench-${role}`, ring: RING })).secret}`
  const client = await token('client')
  const frontend = await token('frontend')

  const clientFeatures = () =>
    send(`${baseUrl}/api/client/features`, {
      authorization: client,
      timeoutMs: SDK_READ_TIMEOUT_MS,
    })
  const reads: [(typeof ROUTES)[number], () => Promise<Answer>][] = [
    ['client features', clientFeatures],
    [
      'frontend',
      () =>
        send(`${baseUrl}/api/frontend?userId=u1&properties[region]=westeurope`, {
          authorization: frontend,
          timeoutMs: SDK_READ_TIMEOUT_MS,
        }),
    ],
    [
      'ofrep',
      () =>
        send(`${baseUrl}/ofrep/v1/evaluate/flags/${FLAG}`, {
          method: 'POST',
          authorization: client,
          body: { context: { targetingKey: 'u1' } },
          timeoutMs: SDK_READ_TIMEOUT_MS,
        }),
    ],
  ]
  const flagCount = (answer: Answer) =>
    (JSON.parse(answer.text) as { features: unknown[] }).features.length
  const everyoneEnabled = (answer: Answer) =>
    (JSON.parse(answer.text) as { features: { name: string; enabled: boolean }[] }).features.find(
      (feature) => feature.name === FLAG,
    )?.enabled
  // Warm up every route once (JIT, token caches).
  for (const [route, read] of reads) {
    const answer = await read()
    if (answer.status !== 200) throw new Error(`${route}: ${describe(answer)}`)
  }

  let phase: Phase = 'before'
  let reading = true
  const sdkReads: SdkRead[] = []
  const sdkClient = async (offset: number) => {
    for (let round = offset; reading; round++) {
      const [route, read] = reads[round % reads.length]!
      const at = phase
      const answer = await read()
      let failure: string | undefined
      if (answer.status !== 200) failure = describe(answer)
      else if (route === 'client features' && flagCount(answer) !== FLAG_COUNT) {
        failure = `${flagCount(answer)} flags instead of ${FLAG_COUNT}`
      }
      sdkReads.push({ phase: at, route, ms: answer.ms, ...(failure && { failure }) })
      await sleep(SDK_PAUSE_MS)
    }
  }
  const clients = Array.from({ length: SDK_CLIENTS }, (_, index) => sdkClient(index))
  const adminRead = () =>
    send(`${baseUrl}/v1/rings`, { authorization: bearer, timeoutMs: ADMIN_TIMEOUT_MS })
  const readyz = () => send(`${baseUrl}/readyz`, { timeoutMs: ADMIN_TIMEOUT_MS })

  try {
    await sleep(STEADY_MS)

    // The cut. The first admin read and readiness check go out with it.
    phase = 'during'
    const cutAt = performance.now()
    if (mode === 'reset') proxy.reset()
    else proxy.blackhole()
    const throughTheCut = async (request: () => Promise<Answer>) => {
      const probes: Probe[] = []
      const pending: Promise<void>[] = []
      let inFlight = 0
      while (performance.now() - cutAt < CUT_MS) {
        if (inFlight < ADMIN_MAX_IN_FLIGHT) {
          const sentMs = performance.now() - cutAt
          inFlight++
          pending.push(
            request().then((answer) => {
              inFlight--
              const unavailable = isUnavailable(answer)
              probes.push({
                sentMs,
                answeredMs: performance.now() - cutAt,
                unavailable,
                ...(!unavailable && { other: describe(answer) }),
              })
            }),
          )
        }
        await sleep(ADMIN_EVERY_MS)
      }
      await Promise.all(pending)
      return probes.sort((a, b) => a.sentMs - b.sentMs)
    }
    const [admin, readiness] = await Promise.all([throughTheCut(adminRead), throughTheCut(readyz)])

    // The database comes back. The admin route and /readyz are polled together; as soon as the
    // admin route answers 200 the flag is turned off, and SDK reads are polled until they show it.
    proxy.heal()
    phase = 'after'
    const healedAt = performance.now()
    const readyWait = until(
      '/readyz answering 200 after the heal',
      readyz,
      (a) => a.status === 200,
      10,
    )
    readyWait.catch(() => {}) // awaited below; this only keeps a failure from going unhandled
    const adminBack = await until(
      'an admin read answering 200 after the heal',
      adminRead,
      (a) => a.status === 200,
      10,
    )
    const answered = await until(
      `PATCH /v1/flags/${FLAG}/rings/${RING} after the heal`,
      () =>
        send(`${baseUrl}/v1/flags/${FLAG}/rings/${RING}`, {
          method: 'PATCH',
          authorization: bearer,
          body: { enabled: false },
          timeoutMs: ADMIN_TIMEOUT_MS,
        }),
      (a) => a.status === 200,
      10,
    )
    const served = await until(
      'the flag change served to SDK reads',
      clientFeatures,
      (a) => a.status === 200 && everyoneEnabled(a) === false,
      5,
    )
    const ready = await readyWait
    await sleep(STEADY_MS)

    return {
      mode,
      reads: sdkReads,
      admin,
      readiness,
      adminBackMs: adminBack.at - healedAt,
      readyMs: ready.at - healedAt,
      changeAnsweredMs: answered.at - healedAt,
      changeServedMs: served.at - healedAt,
      changeRetries: answered.seen.length,
    }
  } finally {
    reading = false
    await Promise.all(clients)
  }
}

function cutFigures(result: ModeResult) {
  const first = (probes: Probe[]) =>
    Math.min(...probes.filter((probe) => probe.unavailable).map((probe) => probe.answeredMs))
  const atCut = result.admin[0]
  return {
    firstUnavailableMs: first(result.admin),
    notReadyMs: first(result.readiness),
    atCutMs: atCut ? atCut.answeredMs - atCut.sentMs : Number.NaN,
    atCut: atCut ? (atCut.unavailable ? '503' : (atCut.other ?? '')) : 'never',
    adminMs: result.admin.map((probe) => probe.answeredMs - probe.sentMs),
    others: [...result.admin, ...result.readiness].flatMap((probe) =>
      probe.other ? [`sent at ${fmt(probe.sentMs)} ms: ${probe.other}`] : [],
    ),
  }
}

async function postgresReachable(): Promise<boolean> {
  const sql = postgres(postgresUrl.href, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql.unsafe('select 1')
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 })
  }
}

const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')
console.log(
  `database outage: cut ${CUT_MS / 1000} s per mode (${modes.join(', ')}), ${SDK_CLIENTS} SDK clients, ${STEADY_MS / 1000} s before and after; node ${process.version}, nproc ${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown'}), load ${load()}`,
)
if (!(await postgresReachable())) {
  // As import-under-load.ts does for its PostgreSQL pass: `pnpm bench` runs on machines without one.
  console.log(`PostgreSQL is not reachable at ${postgresUrl.href}; skipped`)
  process.exit(0)
}

const results: ModeResult[] = []
for (const mode of modes) {
  const result = await runMode(mode)
  results.push(result)
  const phases: Phase[] = ['before', 'during', 'after']
  console.log(`\n${mode} (load ${load()}):`)
  for (const at of phases) {
    const inPhase = result.reads.filter((read) => read.phase === at)
    const failed = inPhase.filter((read) => read.failure)
    console.log(
      `  SDK reads ${at} the cut: ${inPhase.length}, failed ${failed.length}; p50 / p99 / max ${latencies(inPhase.map((read) => read.ms))}`,
    )
    for (const route of ROUTES) {
      const ofRoute = inPhase.filter((read) => read.route === route)
      console.log(`    ${route}: ${ofRoute.length}, ${latencies(ofRoute.map((read) => read.ms))}`)
    }
    for (const read of failed.slice(0, 5)) console.log(`    failed: ${read.route}: ${read.failure}`)
  }
  const cut = cutFigures(result)
  console.log(
    `  cut: first admin 503 after ${fmt(cut.firstUnavailableMs)} ms; the admin read sent with the cut answered ${cut.atCut} after ${fmt(cut.atCutMs)} ms; /readyz first 503 after ${fmt(cut.notReadyMs)} ms`,
  )
  console.log(
    `  admin reads during the cut: ${result.admin.length}, p50 / p99 / max ${latencies(cut.adminMs)}; ${cut.others.length} answered other than 503 database-unavailable (admin and /readyz)`,
  )
  for (const other of cut.others.slice(0, 5)) console.log(`    other: ${other}`)
  const slow = result.admin.filter(
    (probe) => probe.answeredMs - probe.sentMs > TARGET_UNAVAILABLE_MS,
  )
  console.log(
    `  admin reads that waited over ${TARGET_UNAVAILABLE_MS} ms: ${slow.length}${slow.length ? ` (sent at, answered at, from the cut: ${slow.map((probe) => `${fmt(probe.sentMs)} → ${fmt(probe.answeredMs)} ms`).join(', ')})` : ''}`,
  )
  console.log(
    `  heal: admin 200 after ${fmt(result.adminBackMs)} ms, /readyz ready after ${fmt(result.readyMs)} ms, flag change answered after ${fmt(result.changeAnsweredMs)} ms (${result.changeRetries} retries), served to SDK reads after ${fmt(result.changeServedMs)} ms`,
  )
}

console.log(
  '\n| mode | cut | failed SDK reads (before / during / after) | SDK reads during the cut p50 / p99 / max (n) | first admin 503 | admin read sent with the cut answered 503 in | slowest admin read | /readyz first 503 | admin 200 after heal | flag change served after heal |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
const misses: string[] = []
for (const result of results) {
  const failed = (at: Phase) =>
    result.reads.filter((read) => read.phase === at && read.failure).length
  const during = result.reads.filter((read) => read.phase === 'during').map((read) => read.ms)
  const recovered = Math.max(result.adminBackMs, result.readyMs, result.changeServedMs)
  const cut = cutFigures(result)
  const slowest = Math.max(...cut.adminMs)
  console.log(
    `| ${result.mode} | ${CUT_MS / 1000} s | ${failed('before')} / ${failed('during')} / ${failed('after')} | ${latencies(during)} (${during.length}) | ${fmt(cut.firstUnavailableMs)} ms | ${fmt(cut.atCutMs)} ms | ${fmt(slowest)} ms | ${fmt(cut.notReadyMs)} ms | ${fmt(result.adminBackMs)} ms | ${fmt(result.changeServedMs)} ms |`,
  )
  const totalFailed = failed('before') + failed('during') + failed('after')
  if (totalFailed > 0) misses.push(`${result.mode}: ${totalFailed} SDK reads failed (target 0)`)
  if (percentile(during, 99) >= TARGET_SDK_P99_MS) {
    misses.push(
      `${result.mode}: SDK p99 during the cut ${fmt(percentile(during, 99))} ms (target < ${TARGET_SDK_P99_MS} ms)`,
    )
  }
  if (!(cut.firstUnavailableMs <= TARGET_UNAVAILABLE_MS)) {
    misses.push(
      `${result.mode}: first admin 503 after ${fmt(cut.firstUnavailableMs)} ms (target ≤ ${TARGET_UNAVAILABLE_MS} ms)`,
    )
  }
  if (!(slowest <= TARGET_UNAVAILABLE_MS)) {
    misses.push(
      `${result.mode}: an admin read during the cut waited ${fmt(slowest)} ms for its answer (target ≤ ${TARGET_UNAVAILABLE_MS} ms)`,
    )
  }
  if (cut.others.length > 0) {
    misses.push(
      `${result.mode}: ${cut.others.length} admin or /readyz answers during the cut were not a 503 database-unavailable`,
    )
  }
  if (recovered > TARGET_RECOVERY_MS) {
    misses.push(
      `${result.mode}: recovered after ${fmt(recovered)} ms (target ≤ ${TARGET_RECOVERY_MS} ms)`,
    )
  }
}
console.log(misses.length ? `\ntargets missed:\n- ${misses.join('\n- ')}` : '\nevery target met')

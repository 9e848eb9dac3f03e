// The flag benchmarks. Benchmarks, not tests: they print numbers, and fail only when the answers
// are wrong (the evaluators disagree, a route is missing, a response has the wrong status).
//
// In-process (the default): @ringmaster/flag-evaluator against unleash-client 6.12.1 on the same
// state and the same contexts, measured in the same run, median of several rounds. "All flags"
// is what a frontend API request does for one context: every flag, enabled and variant (ours:
// evaluateAll; unleash-client: isEnabled and getVariant for each flag).
//   pnpm --filter @ringmaster/flag-evaluator build
//   pnpm exec tsx scripts/bench/flags.ts [--rounds 7] [--ms 400]
//
// HTTP (--http): the control plane pinned to one core, the large state imported through the API,
// autocannon on the other cores over loopback; client features against a bare Fastify route
// serving the same bytes, and the frontend API for the large state.
//   pnpm turbo run build --filter=@ringmaster/control-plane...
//   pnpm exec tsx scripts/bench/flags.ts --http [--seconds 5] [--http-rounds 3] [--connections 32]
// RINGMASTER_BENCH_CPU_PROF=<dir> writes a CPU profile of each pinned server into <dir>.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type {
  ClientFeaturesState,
  UnleashContext,
} from '../../packages/flag-evaluator/src/index.js'
import { BENCH_HOSTNAME, benchContexts, largeFlagState, smallFlagState } from './flag-datasets.js'

const { values: args } = parseArgs({
  options: {
    'in-process': { type: 'boolean', default: false },
    http: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '400' },
    contexts: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    'http-rounds': { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'log-level': { type: 'string', default: 'warn' },
  },
})
const positive = (name: string, value: string): number => {
  const number = Number(value)
  if (!(number > 0)) throw new Error(`--${name}: '${value}' is not a positive number`)
  return number
}
const ROUNDS = positive('rounds', args.rounds)
const MEASURE_MS = positive('ms', args.ms)
const CONTEXT_COUNT = positive('contexts', args.contexts)
const HTTP_SECONDS = positive('seconds', args.seconds)
const HTTP_ROUNDS = positive('http-rounds', args['http-rounds'])
const CONNECTIONS = positive('connections', args.connections)

const root = fileURLToPath(new URL('../../', import.meta.url))
const evaluatorRoot = join(root, 'packages/flag-evaluator')
const requireFromEvaluator = createRequire(join(evaluatorRoot, 'package.json'))
const format = (n: number) => Math.round(n).toLocaleString('en-US')

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const machine = () =>
  `node ${process.version}, nproc ${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`

// --- in-process ---------------------------------------------------------------------------------

type Evaluator = typeof import('../../packages/flag-evaluator/src/index.js')
// The part of unleash-client the benchmark uses (it is a dependency of the evaluator's tests).
interface UnleashInstance {
  isEnabled(name: string, context: UnleashContext): boolean
  getVariant(
    name: string,
    context: UnleashContext,
  ): {
    name: string
    enabled: boolean
    payload?: unknown
    feature_enabled?: boolean
  }
  on(event: string, listener: (...args: unknown[]) => void): void
  start(): Promise<void>
  destroy(): void
}
interface UnleashModule {
  Unleash: new (config: Record<string, unknown>) => UnleashInstance
  InMemStorageProvider: new () => unknown
}

const APP_NAME = 'bench'

const startUnleash = async (
  { InMemStorageProvider, Unleash }: UnleashModule,
  state: ClientFeaturesState,
): Promise<UnleashInstance> => {
  const unleash = new Unleash({
    url: 'http://127.0.0.1:9/api',
    appName: APP_NAME,
    refreshInterval: 0,
    disableMetrics: true,
    disableAutoStart: true,
    skipInstanceCountWarning: true,
    bootstrap: { data: state.features, segments: state.segments ?? [] },
    storageProvider: new InMemStorageProvider(),
  })
  unleash.on('error', () => {})
  unleash.on('warn', () => {})
  const ready = once(unleash as unknown as NodeJS.EventEmitter, 'ready')
  await unleash.start()
  await ready
  return unleash
}

/** Our side merges the SDK's static context once per context, as a server does per request. */
const withStaticContext = (context: UnleashContext): UnleashContext => ({
  appName: APP_NAME,
  environment: 'default',
  ...context,
})

interface Case {
  state: string
  flags: number
  unleash: UnleashInstance
  compiled: ReturnType<Evaluator['compileFlags']>
  names: string[]
}

let sink = 0

/** Runs `one(context)` over the contexts for `ms` and returns contexts per second. */
const contextsPerSecond = (
  contexts: UnleashContext[],
  one: (context: UnleashContext) => number,
  ms: number,
): number => {
  // Read the clock every `batch` contexts (at least 2 ms of work), so timing costs nothing.
  let batch = 1
  for (let spent = 0; spent < 2; ) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) sink += one(contexts[i % contexts.length] as UnleashContext)
    spent = performance.now() - start
    if (spent < 2) batch *= 2
  }
  let done = 0
  let c = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end) {
    for (let i = 0; i < batch; i++) {
      sink += one(contexts[c] as UnleashContext)
      c = c + 1 === contexts.length ? 0 : c + 1
    }
    done += batch
    now = performance.now()
  }
  return done / ((now - start) / 1000)
}

/**
 * Both evaluators must give the same answers, or the numbers compare different work. Random
 * stickiness and random rollouts are pinned to one value per context on both sides.
 */
const disagreements = (
  evaluator: Evaluator,
  c: Case,
  state: ClientFeaturesState,
  contexts: UnleashContext[],
): number => {
  let roll = 0.5
  const originalRandom = Math.random
  Math.random = () => roll
  const pinned = evaluator.compileFlags(state, { hostname: BENCH_HOSTNAME, random: () => roll })
  let count = 0
  const report = (detail: Record<string, unknown>) => {
    if (count++ < 3) console.error('disagreement', JSON.stringify(detail))
  }
  try {
    for (const [i, context] of contexts.entries()) {
      roll = (i % 100) / 100
      const merged = withStaticContext(context)
      const toggles = new Map(evaluator.evaluateAll(pinned, merged).map((t) => [t.name, t]))
      if (evaluator.evaluateAllJson(pinned, merged) !== JSON.stringify([...toggles.values()])) {
        report({ context, problem: 'evaluateAllJson is not the JSON of evaluateAll' })
      }
      for (const name of c.names) {
        const theirs = c.unleash.getVariant(name, context)
        const theirsEnabled = c.unleash.isEnabled(name, context)
        const ours = evaluator.evaluate(pinned, name, merged)
        const toggle = toggles.get(name)
        const same =
          ours.enabled === theirsEnabled &&
          (toggle !== undefined) === theirsEnabled &&
          ours.variant.name === theirs.name &&
          ours.variant.enabled === theirs.enabled &&
          ours.variant.feature_enabled === !!theirs.feature_enabled &&
          JSON.stringify(ours.variant.payload) === JSON.stringify(theirs.payload) &&
          (toggle === undefined || JSON.stringify(toggle.variant) === JSON.stringify(ours.variant))
        if (!same) report({ flag: name, context, ours, toggle, theirs, theirsEnabled })
      }
    }
  } finally {
    Math.random = originalRandom
  }
  return count
}

type Runner = (evaluator: Evaluator, c: Case) => (context: UnleashContext) => number

const RUNNERS: { name: string; ours: Runner; theirs: Runner }[] = [
  {
    name: 'all flags: enabled + variant',
    ours: (evaluator, c) => (context) =>
      evaluator.evaluateAll(c.compiled, withStaticContext(context)).length,
    theirs: (_evaluator, c) => (context) => {
      let on = 0
      for (const name of c.names) {
        on += c.unleash.isEnabled(name, context) ? 1 : 0
        on += c.unleash.getVariant(name, context).enabled ? 1 : 0
      }
      return on
    },
  },
  {
    name: 'all flags as frontend API JSON',
    ours: (evaluator, c) => (context) =>
      `{"toggles":${evaluator.evaluateAllJson(c.compiled, withStaticContext(context))}}`.length,
    theirs: (_evaluator, c) => (context) => {
      const toggles = []
      for (const name of c.names) {
        if (!c.unleash.isEnabled(name, context)) continue
        const variant = c.unleash.getVariant(name, context)
        toggles.push({ name, enabled: true, variant, impressionData: false })
      }
      return JSON.stringify({ toggles }).length
    },
  },
  {
    name: 'isEnabled per flag',
    ours: (evaluator, c) => (context) => {
      const merged = withStaticContext(context)
      let on = 0
      for (const name of c.names) on += evaluator.isEnabled(c.compiled, name, merged) ? 1 : 0
      return on
    },
    theirs: (_evaluator, c) => (context) => {
      let on = 0
      for (const name of c.names) on += c.unleash.isEnabled(name, context) ? 1 : 0
      return on
    },
  },
  {
    name: 'isEnabled + getVariant per flag',
    ours: (evaluator, c) => (context) => {
      const merged = withStaticContext(context)
      let on = 0
      for (const name of c.names) {
        on += evaluator.isEnabled(c.compiled, name, merged) ? 1 : 0
        on += evaluator.getVariant(c.compiled, name, merged).enabled ? 1 : 0
      }
      return on
    },
    theirs: (_evaluator, c) => (context) => {
      let on = 0
      for (const name of c.names) {
        on += c.unleash.isEnabled(name, context) ? 1 : 0
        on += c.unleash.getVariant(name, context).enabled ? 1 : 0
      }
      return on
    },
  },
]

const runInProcess = async (): Promise<boolean> => {
  const dist = join(evaluatorRoot, 'dist/index.js')
  if (!existsSync(dist)) {
    throw new Error('build first: pnpm --filter @ringmaster/flag-evaluator build')
  }
  // unleash-client reads the host name once, when it is loaded; applicationHostname compares it.
  process.env.HOSTNAME = BENCH_HOSTNAME
  const evaluator = (await import(pathToFileURL(dist).href)) as Evaluator
  const unleashModule = requireFromEvaluator('unleash-client') as UnleashModule
  const contexts = benchContexts(CONTEXT_COUNT, 7)

  console.log(`\n== in-process: ${machine()}`)
  console.log(
    `${ROUNDS} rounds of ${MEASURE_MS} ms per measurement and side, ${CONTEXT_COUNT} contexts; median of the rounds`,
  )
  let failed = false
  const cases: Case[] = []
  for (const [label, state] of [
    ['large', largeFlagState()],
    ['small', smallFlagState()],
  ] as const) {
    const compileStart = performance.now()
    const compiled = evaluator.compileFlags(state, { hostname: BENCH_HOSTNAME })
    const compileMs = performance.now() - compileStart
    const c: Case = {
      state: label,
      flags: state.features.length,
      unleash: await startUnleash(unleashModule, state),
      compiled,
      names: state.features.map((feature) => feature.name),
    }
    const checked = contexts.slice(0, 200)
    const count = disagreements(evaluator, c, state, checked)
    if (count > 0) failed = true
    console.log(
      `${label}: ${c.flags} flags, ${format(JSON.stringify(state).length)} bytes of client features JSON, compiled in ${compileMs.toFixed(1)} ms, ${count} disagreements in ${format(checked.length * c.flags)} flag evaluations`,
    )
    cases.push(c)
  }

  console.log(
    '\n| state | measurement | ours (contexts/s) | unleash-client (contexts/s) | ours (flags/s) | unleash-client (flags/s) | ratio |',
  )
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const c of cases) {
    for (const runner of RUNNERS) {
      const ours = runner.ours(evaluator, c)
      const theirs = runner.theirs(evaluator, c)
      contextsPerSecond(contexts, ours, 200)
      contextsPerSecond(contexts, theirs, 200)
      const oursRounds: number[] = []
      const theirsRounds: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        oursRounds.push(contextsPerSecond(contexts, ours, MEASURE_MS))
        theirsRounds.push(contextsPerSecond(contexts, theirs, MEASURE_MS))
      }
      const oursRate = median(oursRounds)
      const theirsRate = median(theirsRounds)
      console.log(
        `| ${c.state} (${c.flags}) | ${runner.name} | ${format(oursRate)} | ${format(theirsRate)} | ${format(oursRate * c.flags)} | ${format(theirsRate * c.flags)} | ${(oursRate / theirsRate).toFixed(1)}x |`,
      )
    }
  }
  for (const c of cases) c.unleash.destroy()
  if (sink === 0) console.log('(nothing was on)')
  if (failed)
    console.error('\nthe evaluators disagree: the numbers above do not compare the same work')
  return !failed
}

// --- HTTP ---------------------------------------------------------------------------------------

interface AutocannonResult {
  requests: { total: number }
  latency: { p50: number; p99: number }
  duration: number
  errors: number
  timeouts: number
  statusCodeStats: Record<string, { count: number }>
}
interface AutocannonRequest {
  path?: string
  headers?: Record<string, string>
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest
}
type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  headers?: Record<string, string>
  requests?: AutocannonRequest[]
}) => Promise<AutocannonResult>

class BenchError extends Error {}

const ADMIN_TOKEN = 'rm_bench_admin_token_0123456789abcdef'
const RING = 'bench'
const serverJs = join(root, 'services/control-plane/dist/server.js')

const freePort = async (): Promise<number> => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Starts `node <args>` on core 0 and resolves once `ready` answers. */
const startPinned = async (
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  label: string,
): Promise<ChildProcess> => {
  const profile = process.env.RINGMASTER_BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.RINGMASTER_BENCH_CPU_PROF}`]
    : []
  const child = spawn('taskset', ['-c', '0', process.execPath, ...profile, ...nodeArgs], {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new BenchError(`${label} exited with ${child.exitCode} before it was ready:\n${stderr}`)
    }
    if (await ready().catch(() => false)) return child
    await sleep(200)
  }
  child.kill()
  throw new BenchError(`${label} was not ready within 60 s:\n${stderr}`)
}

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await Promise.race([once(child, 'exit'), sleep(15_000)])
  if (child.exitCode === null) child.kill('SIGKILL')
}

/** Calls the admin API; a 404 from a route that does not exist yet says so. */
const adminCall = async (base: string, method: string, path: string, body: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (response.ok) return JSON.parse(text) as Record<string, unknown>
  if (response.status === 404 && /route-not-found|no route|Route .* not found/i.test(text)) {
    throw new BenchError(
      `${method} ${path} does not exist on this server (404): the flag routes are not built yet, so the HTTP benchmark cannot run.`,
    )
  }
  throw new BenchError(`${method} ${path} answered ${response.status}: ${text}`)
}

/** Requests with the wrong status make the numbers meaningless, so they fail the benchmark. */
const measure = async (
  autocannon: Autocannon,
  label: string,
  expectedStatus: number,
  options: Parameters<Autocannon>[0],
) => {
  await autocannon({ ...options, duration: Math.min(2, HTTP_SECONDS) })
  const result = await autocannon(options)
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
  )
  const unexpected = Object.keys(statuses).filter((status) => Number(status) !== expectedStatus)
  if (unexpected.length > 0 || result.errors > 0) {
    throw new BenchError(
      `${label}: expected only ${expectedStatus}, got statuses ${JSON.stringify(statuses)}, ${result.errors} errors, ${result.timeouts} timeouts`,
    )
  }
  const rps = result.requests.total / result.duration
  console.log(
    `| ${label} | ${format(rps)} | ${result.latency.p50} | ${result.latency.p99} | ${format(result.requests.total)} |`,
  )
  return rps
}

const frontendPath = (context: UnleashContext): string => {
  const query = new URLSearchParams()
  for (const [field, value] of Object.entries(context)) {
    if (field === 'properties') {
      for (const [name, property] of Object.entries(value as Record<string, string>)) {
        query.append(`properties[${name}]`, property)
      }
    } else query.append(field, String(value))
  }
  return `/api/frontend?${query}`
}

const runHttp = async (): Promise<boolean> => {
  if (!existsSync(serverJs)) {
    throw new BenchError(
      'services/control-plane/dist/server.js is missing; build first: pnpm turbo run build --filter=@ringmaster/control-plane...',
    )
  }
  if (spawnSync('taskset', ['--version']).status !== 0) {
    throw new BenchError('taskset (util-linux) is needed to pin the servers to one core')
  }
  const cores = os.availableParallelism()
  if (cores < 2) throw new BenchError('needs at least 2 cores: one for the server, one for load')
  console.log(`\n== HTTP: ${machine()}`)
  // The load generator (this process, all its threads) stays off the server's core.
  spawnSync('taskset', ['-a', '-cp', `1-${cores - 1}`, String(process.pid)], { stdio: 'ignore' })
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

  console.log(
    `servers pinned to core 0 (taskset -c 0), autocannon on cores 1-${cores - 1}, ${CONNECTIONS} connections, ${HTTP_SECONDS} s per measurement after a 2 s warm-up, LOG_LEVEL=${args['log-level']}`,
  )
  const state = largeFlagState()
  const dataDir = await mkdtemp(join(os.tmpdir(), 'ringmaster-bench-flags-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    RINGMASTER_DATA_DIR: dataDir,
    RINGMASTER_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: args['log-level'],
  }
  delete env.DATABASE_URL
  const notes: string[] = []
  let server: ChildProcess | undefined
  let bare: ChildProcess | undefined
  try {
    server = await startPinned(
      [serverJs],
      env,
      async () => (await fetch(`${base}/readyz`)).ok,
      'the control plane',
    )
    await adminCall(base, 'POST', '/v1/rings', { name: RING, order: 0 })
    await adminCall(base, 'POST', '/v1/flags/import', {
      ring: RING,
      version: state.version,
      features: state.features,
      segments: state.segments,
    })
    const token = async (role: string) => {
      const issued = await adminCall(base, 'POST', '/v1/tokens', {
        name: `bench-${role}`,
        role,
        ring: RING,
        subject: 'flags-bench',
      })
      return String(issued.secret)
    }
    const clientToken = await token('client')
    const frontendToken = await token('frontend')

    const features = await fetch(`${base}/api/client/features`, {
      headers: { authorization: clientToken },
    })
    if (features.status === 404) {
      throw new BenchError('GET /api/client/features answered 404: the client API is not built yet')
    }
    if (features.status !== 200) {
      throw new BenchError(
        `GET /api/client/features answered ${features.status}: ${await features.text()}`,
      )
    }
    const body = Buffer.from(await features.arrayBuffer())
    const etag = features.headers.get('etag')
    const served = JSON.parse(body.toString()) as ClientFeaturesState
    if (served.features.length !== state.features.length) {
      throw new BenchError(
        `GET /api/client/features serves ${served.features.length} flags; ${state.features.length} were imported`,
      )
    }
    const contexts = benchContexts(1000, 11)
    const firstFrontend = await fetch(`${base}${frontendPath(contexts[0] as UnleashContext)}`, {
      headers: { authorization: frontendToken },
    })
    if (firstFrontend.status !== 200) {
      throw new BenchError(
        `GET /api/frontend answered ${firstFrontend.status}: ${await firstFrontend.text()}`,
      )
    }

    console.log(
      `large state: ${state.features.length} flags; client features body ${format(body.length)} bytes${etag ? `, ETag ${etag}` : ', no ETag'}`,
    )
    // The same bytes from a bare Fastify route: what the client features route could reach. It
    // runs beside the control plane on the same core and the two are measured in turns, so a
    // neighbour's load on this shared machine hits both sides of the ratio alike.
    const bodyFile = join(dataDir, 'client-features.json')
    await writeFile(bodyFile, body)
    const barePort = await freePort()
    const fastifyUrl = pathToFileURL(
      createRequire(join(root, 'services/control-plane/package.json')).resolve('fastify'),
    ).href
    const bareServer = `
      import { readFileSync } from 'node:fs'
      const { default: fastify } = await import(${JSON.stringify(fastifyUrl)})
      const body = readFileSync(${JSON.stringify(bodyFile)})
      const app = fastify({ logger: false })
      app.get('/api/client/features', (_request, reply) => {
        reply.header('content-type', 'application/json; charset=utf-8').send(body)
      })
      await app.listen({ port: ${barePort}, host: '127.0.0.1' })
    `
    bare = await startPinned(
      ['--input-type=module', '-e', bareServer],
      process.env,
      async () => (await fetch(`http://127.0.0.1:${barePort}/api/client/features`)).ok,
      'the bare Fastify route',
    )

    console.log('\n| route | requests/s | p50 (ms) | p99 (ms) | requests |')
    console.log('| --- | ---: | ---: | ---: | ---: |')
    const ratios: number[] = []
    const frontendRates: number[] = []
    let next = 0
    const paths = contexts.map(frontendPath)
    for (let round = 1; round <= HTTP_ROUNDS; round++) {
      const clientFeatures = await measure(
        autocannon,
        `GET /api/client/features (200), round ${round}`,
        200,
        {
          url: `${base}/api/client/features`,
          connections: CONNECTIONS,
          duration: HTTP_SECONDS,
          headers: { authorization: clientToken },
        },
      )
      const bareRps = await measure(
        autocannon,
        `bare Fastify route, same bytes (200), round ${round}`,
        200,
        {
          url: `http://127.0.0.1:${barePort}/api/client/features`,
          connections: CONNECTIONS,
          duration: HTTP_SECONDS,
        },
      )
      ratios.push(clientFeatures / bareRps)
      frontendRates.push(
        await measure(autocannon, `GET /api/frontend?<context> (large), round ${round}`, 200, {
          url: `${base}/api/frontend`,
          connections: CONNECTIONS,
          duration: HTTP_SECONDS,
          headers: { authorization: frontendToken },
          requests: [
            {
              setupRequest: (request) => {
                next = next + 1 === paths.length ? 0 : next + 1
                return { ...request, path: paths[next] as string }
              },
            },
          ],
        }),
      )
    }
    if (etag) {
      await measure(autocannon, 'GET /api/client/features, If-None-Match (304)', 304, {
        url: `${base}/api/client/features`,
        connections: CONNECTIONS,
        duration: HTTP_SECONDS,
        headers: { authorization: clientToken, 'if-none-match': etag },
      })
    } else {
      notes.push('GET /api/client/features sends no ETag, so the 304 case was not measured')
    }
    await stop(server)
    server = undefined
    await stop(bare)
    bare = undefined

    for (const note of notes) console.log(note)
    const ratio = median(ratios)
    const frontend = median(frontendRates)
    console.log(
      `\nclient features / bare route, per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${ratio.toFixed(2)}x (target ≥ 0.90x: ${ratio >= 0.9 ? 'met' : 'MISSED'})`,
    )
    console.log(
      `frontend API, large state: median ${format(frontend)} requests/s (target ≥ 6,900: ${frontend >= 6900 ? 'met' : 'MISSED'})`,
    )
    return true
  } finally {
    if (server) await stop(server)
    if (bare) await stop(bare)
    await rm(dataDir, { recursive: true, force: true })
  }
}

// --- main ---------------------------------------------------------------------------------------

const runHttpPart = args.http
const runInProcessPart = args['in-process'] || !args.http
let ok = true
try {
  if (runInProcessPart) ok = (await runInProcess()) && ok
  if (runHttpPart) ok = (await runHttp()) && ok
} catch (error) {
  if (!(error instanceof BenchError)) throw error
  console.error(`\n${error.message}`)
  ok = false
}
if (!ok) process.exitCode = 1

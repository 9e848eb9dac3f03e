// How long a flag change made through the admin API takes to reach unleash-client in streaming
// mode. A benchmark, not a test: it prints numbers (the test, flag-sdks.test.ts, only checks that
// every change arrives). The control plane runs in this process, as in promotion.ts.
// Build first: pnpm turbo run build --filter=@ringmaster/control-plane...
// Run: pnpm exec tsx scripts/bench/flag-streaming.ts [--changes 50] [--databases pglite,postgres]
//      [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { parseArgs } from 'node:util'

const ADMIN_TOKEN = 'rm_bench_admin_token_0123456789abcdef'
const RING = 'ring-0'
const FLAG = 'everyone'

const appModule = new URL('../../services/control-plane/dist/app.js', import.meta.url)
if (!existsSync(appModule)) {
  console.error(
    'services/control-plane/dist is missing; build first: pnpm turbo run build --filter=@ringmaster/control-plane...',
  )
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '50' },
    databases: { type: 'string', default: 'pglite,postgres' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
})
const changes = Number(args.changes)
if (!Number.isInteger(changes) || changes < 2) throw new Error('--changes: a whole number ≥ 2')
const databases = args.databases.split(',')
for (const kind of databases) {
  if (kind !== 'pglite' && kind !== 'postgres') throw new Error(`--databases: unknown '${kind}'`)
}

// Types of what the script touches, so that it needs no build-time imports.
type DatabaseTarget = { kind: 'pglite' } | { kind: 'postgres'; url: string }
interface BenchApp {
  listen(options: { host: string; port: number }): Promise<string>
  close(): Promise<void>
}
type BuildApp = (options: { database: DatabaseTarget; adminToken: string }) => Promise<BenchApp>
interface SqlClient {
  unsafe(query: string): Promise<unknown>
  end(options?: { timeout?: number }): Promise<void>
}
interface UnleashSdk {
  isEnabled(name: string): boolean
  on(event: string, listener: (...args: unknown[]) => void): void
  once(event: string, listener: (...args: unknown[]) => void): void
  destroy(): void
}
interface UnleashModule {
  Unleash: new (options: Record<string, unknown>) => UnleashSdk
  InMemStorageProvider: new () => unknown
}

const { buildApp } = (await import(appModule.href)) as { buildApp: BuildApp }
// The postgres driver and unleash-client are dependencies of the packages, not of the root.
const postgres = createRequire(new URL('../../packages/db/package.json', import.meta.url))(
  'postgres',
) as (url: string, options?: Record<string, unknown>) => SqlClient
const { Unleash, InMemStorageProvider } = createRequire(
  new URL('../../services/control-plane/package.json', import.meta.url),
)('unleash-client') as UnleashModule

async function withDatabase<T>(kind: string, work: (target: DatabaseTarget) => Promise<T>) {
  if (kind === 'pglite') return work({ kind: 'pglite' })
  const name = `ringmaster_bench_streaming_${Date.now()}`
  const admin = postgres(args['postgres-url'], { max: 1, onnotice: () => {}, connect_timeout: 3 })
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

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined
}

/** Resolves once `check` holds, looking every millisecond. */
function until(check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const poll = setInterval(() => {
      if (check()) {
        clearInterval(poll)
        resolve()
      } else if (performance.now() - started > timeoutMs) {
        clearInterval(poll)
        reject(new Error(`no change within ${timeoutMs} ms`))
      }
    }, 1)
  })
}

interface Result {
  kind: string
  fromRequest: number[]
  fromResponse: number[]
}

async function measure(kind: string): Promise<Result> {
  return withDatabase(kind, async (database) => {
    const app = await buildApp({ database, adminToken: ADMIN_TOKEN })
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 })
      await call(base, 'POST', '/v1/rings', { name: RING, order: 0 })
      await call(base, 'PUT', `/v1/flags/${FLAG}`, {
        rings: { [RING]: { enabled: true, strategies: [{ name: 'default' }] } },
      })
      const created = await call(base, 'POST', '/v1/tokens', {
        name: 'bench-sdk',
        role: 'client',
        ring: RING,
        subject: 'bench',
      })
      const unleash = new Unleash({
        appName: 'bench',
        url: `${base}/api`,
        customHeaders: { Authorization: created!.secret },
        refreshInterval: 60_000,
        metricsInterval: 60_000,
        storageProvider: new InMemStorageProvider(),
        skipInstanceCountWarning: true,
        experimentalMode: { type: 'streaming' },
      })
      unleash.on('error', (error) => console.error(`unleash-client: ${String(error)}`))
      try {
        await new Promise((resolve) => unleash.once('synchronized', resolve))
        const fromRequest: number[] = []
        const fromResponse: number[] = []
        for (let round = 0; round < changes; round++) {
          const enabled = round % 2 === 1
          const sent = performance.now()
          await call(base, 'PATCH', `/v1/flags/${FLAG}/rings/${RING}`, { enabled })
          const answered = performance.now()
          await until(() => unleash.isEnabled(FLAG) === enabled, 10_000)
          const arrived = performance.now()
          fromRequest.push(arrived - sent)
          fromResponse.push(Math.max(0, arrived - answered))
        }
        return { kind, fromRequest, fromResponse }
      } finally {
        unleash.destroy()
      }
    } finally {
      await app.close()
    }
  })
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const figures = (values: readonly number[]) =>
  [50, 90, 99].map((p) => percentile(values, p).toFixed(1)).join(' / ') +
  ` / ${Math.max(...values).toFixed(1)}`

console.log(
  `node ${process.version}, ${os.cpus().length} cpus, load ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}, ${changes} changes per database`,
)
console.log('| database | from | p50 / p90 / p99 / max (ms) |')
console.log('| -------- | ---- | -------------------------: |')
for (const kind of databases) {
  const result = await measure(kind)
  console.log(`| ${kind} | admin request sent | ${figures(result.fromRequest)} |`)
  console.log(`| ${kind} | admin answer (committed) | ${figures(result.fromResponse)} |`)
}

import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

export interface Config {
  port: number
  host: string
  /**
   * The address people and pipelines reach the control plane at (RINGMASTER_PUBLIC_URL), behind
   * any proxy; by default this process's own host and port. Links out of the service use it.
   */
  publicUrl: string | undefined
  /**
   * RINGMASTER_PUBLIC_URL only when it is set: where the console is, for the links in webhook
   * deliveries. A guessed host and port is no address to send to a chat, so none then.
   */
  consoleUrl: string | undefined
  /** PostgreSQL URL; undefined means the embedded PGlite database. */
  databaseUrl: string | undefined
  /** Where PGlite keeps its files (ignored with a database URL). */
  dataDir: string
  /** The bootstrap admin secret; undefined means one is generated and printed on first start. */
  adminToken: string | undefined
  logLevel: LogLevel
  /** How often the promotion worker looks for due releases. */
  engineIntervalMs: number
  /** How often stored rollout spans are exported to the OpenTelemetry collector. */
  spanExportIntervalMs: number
  /** How long a console session lasts after sign-in (absolute, never extended). */
  sessionTtlMs: number
  /** The secret the console cookie is sealed with; undefined means one stored in the database. */
  sessionKey: string | undefined
  /** Fastify's trustProxy: whether X-Forwarded-Proto (and -For) from a proxy are believed. */
  trustProxy: boolean | number | string
  /** A link to a release's trace for the console, with `{traceId}` in it; undefined for none. */
  traceUrlTemplate: string | undefined
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Reads and checks the environment once at start; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const port = readPort(env.PORT, problems)
  const host = env.HOST?.trim() || '127.0.0.1'
  const publicUrl = readPublicUrl(env.RINGMASTER_PUBLIC_URL, host, port, problems)
  const databaseUrl = env.DATABASE_URL?.trim() || undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(
      'DATABASE_URL must be a PostgreSQL URL (postgres://user@host:5432/db); unset it to use the embedded database',
    )
  }
  const adminToken = env.RINGMASTER_ADMIN_TOKEN || undefined
  if (adminToken !== undefined && adminToken.length < 24) {
    problems.push(
      'RINGMASTER_ADMIN_TOKEN must be at least 24 characters; unset it to have one generated',
    )
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel
  if (!logLevels.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${logLevels.join(', ')}; got '${env.LOG_LEVEL}'`)
  }
  const engineIntervalMs = readInterval(env.RINGMASTER_ENGINE_INTERVAL_MS, problems)
  const spanExportIntervalMs = readInterval(
    env.RINGMASTER_SPAN_EXPORT_INTERVAL_MS,
    problems,
    'RINGMASTER_SPAN_EXPORT_INTERVAL_MS',
  )
  const sessionTtlMs = readDuration(env.RINGMASTER_SESSION_TTL, problems)
  const sessionKey = env.RINGMASTER_SESSION_KEY || undefined
  if (sessionKey !== undefined && sessionKey.length < 32) {
    problems.push(
      'RINGMASTER_SESSION_KEY must be at least 32 characters (openssl rand -base64 32); unset it to have one stored in the database',
    )
  }
  const trustProxy = readTrustProxy(env.RINGMASTER_TRUST_PROXY)
  const traceUrlTemplate = readTraceUrlTemplate(env.RINGMASTER_TRACE_URL_TEMPLATE, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    port,
    host,
    publicUrl,
    consoleUrl: env.RINGMASTER_PUBLIC_URL?.trim() ? publicUrl : undefined,
    databaseUrl,
    dataDir: resolve(env.RINGMASTER_DATA_DIR?.trim() || './data'),
    adminToken,
    logLevel,
    engineIntervalMs,
    spanExportIntervalMs,
    sessionTtlMs,
    sessionKey,
    trustProxy,
    traceUrlTemplate,
  }
}

// From dist/plugins/infra/ (or src/ under tsx) up to the monorepo root.
const monorepoCliBundle = new URL(
  '../../../../../packages/cli/dist/ringmaster.mjs',
  import.meta.url,
)

/**
 * Where the single-file CLI served at GET /cli/ringmaster.mjs is: RINGMASTER_CLI_BUNDLE, or the
 * bundle `pnpm build` makes in the monorepo. Read by the route itself, so the app's options do
 * not grow for it; a file that is not there is not a configuration error (the route says how to
 * build it).
 */
export function cliBundlePath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.RINGMASTER_CLI_BUNDLE?.trim()
  return configured ? resolve(configured) : fileURLToPath(monorepoCliBundle)
}

// From dist/plugins/infra/ (or src/ under tsx) to the console package's build in the monorepo.
const monorepoConsoleDir = new URL('../../../../console/dist/', import.meta.url)

/**
 * Where the built web console is: RINGMASTER_CONSOLE_DIR, or the `dist` folder of
 * services/console in the monorepo. Read by the console routes, like the CLI bundle's path; a
 * folder that is not there is not a configuration error (`/` says how to build it).
 */
export function consoleDirPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.RINGMASTER_CONSOLE_DIR?.trim()
  return configured ? resolve(configured) : fileURLToPath(monorepoConsoleDir)
}

const durationUnits: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const defaultSessionTtlMs = 8 * 3_600_000

function readDuration(value: string | undefined, problems: string[]): number {
  if (value === undefined || value.trim() === '') return defaultSessionTtlMs
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim())
  const ms = match ? Number(match[1]) * durationUnits[match[2] || 's']! : Number.NaN
  if (!(ms >= 60_000 && ms <= 30 * 86_400_000)) {
    problems.push(
      `RINGMASTER_SESSION_TTL must be a duration from 1 minute to 30 days, like 8h, 90m or 3600 (seconds); got '${value}'`,
    )
    return defaultSessionTtlMs
  }
  return ms
}

/** `true`, `false`, a number of proxy hops, or the proxies' addresses (comma-separated). */
function readTrustProxy(value: string | undefined): boolean | number | string {
  const configured = value?.trim() ?? ''
  if (configured === '' || /^(false|0|no)$/i.test(configured)) return false
  if (/^(true|yes)$/i.test(configured)) return true
  if (/^[1-9]\d*$/.test(configured)) return Number(configured)
  return configured
}

function readTraceUrlTemplate(value: string | undefined, problems: string[]): string | undefined {
  const configured = value?.trim()
  if (!configured) return undefined
  let valid = configured.includes('{traceId}')
  try {
    valid &&= /^https?:$/.test(new URL(configured.replaceAll('{traceId}', '0')).protocol)
  } catch {
    valid = false
  }
  if (!valid) {
    problems.push(
      `RINGMASTER_TRACE_URL_TEMPLATE must be an http(s) URL with {traceId} in it (https://jaeger.example.com/trace/{traceId}); got '${configured}'`,
    )
    return undefined
  }
  return configured
}

function readInterval(
  value: string | undefined,
  problems: string[],
  name = 'RINGMASTER_ENGINE_INTERVAL_MS',
): number {
  if (value === undefined || value.trim() === '') return 1000
  const interval = Number(value)
  if (!Number.isInteger(interval) || interval < 50 || interval > 60_000) {
    problems.push(`${name} must be a whole number from 50 to 60000; got '${value}'`)
    return 1000
  }
  return interval
}

function readPublicUrl(
  value: string | undefined,
  host: string,
  port: number,
  problems: string[],
): string | undefined {
  const configured = value?.trim()
  if (!configured) {
    // A port chosen by the system (0) is not known yet: no address rather than a wrong one.
    if (port === 0) return undefined
    const reachable = host === '0.0.0.0' || host === '::' ? hostname() : host
    return new URL(`http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`).href
  }
  let url: URL
  try {
    url = new URL(configured)
  } catch {
    problems.push(`RINGMASTER_PUBLIC_URL must be an http(s) URL; got '${configured}'`)
    return undefined
  }
  if (!/^https?:$/.test(url.protocol) || url.search !== '' || url.hash !== '') {
    problems.push(
      `RINGMASTER_PUBLIC_URL must be an http(s) URL without a query or fragment (https://ringmaster.example.com); got '${configured}'`,
    )
    return undefined
  }
  return url.href
}

function readPort(value: string | undefined, problems: string[]): number {
  if (value === undefined || value.trim() === '') return 3000
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be a whole number from 0 to 65535; got '${value}'`)
    return 0
  }
  return port
}

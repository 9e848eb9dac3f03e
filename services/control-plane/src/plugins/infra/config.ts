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

import { connect, type Socket } from 'node:net'

/**
 * How long the PostgreSQL driver waits for what. A database that has gone away must cost a caller
 * about two seconds at most, whether its connections are reset (seen at once) or silently
 * blackholed (seen only by a timeout): see docs/decisions/0007-database-outage.md.
 */
export interface DatabaseTimeouts {
  /** Opening a connection, TCP and PostgreSQL handshake together. */
  connectMs: number
  /** The server cancels a statement that runs longer (`statement_timeout`). */
  statementMs: number
  /** The server ends a session left idle inside a transaction, releasing its locks. */
  idleInTransactionMs: number
  /** The pool closes a connection idle this long. */
  idleConnectionMs: number
  /** TCP keepalive on both ends, so a peer that vanished is noticed on an idle connection. */
  keepAliveMs: number
  /** How often the database is probed with `select 1` on a connection of its own. */
  probeIntervalMs: number
  /** A probe not answered within this is a database that is away: new requests get a 503. */
  probeTimeoutMs: number
  /** A probe still not answered after this cuts every connection, failing work in flight. */
  probeCutAfterMs: number
}

export const defaultDatabaseTimeouts: DatabaseTimeouts = {
  connectMs: 2000,
  statementMs: 15_000,
  idleInTransactionMs: 15_000,
  idleConnectionMs: 60_000,
  keepAliveMs: 10_000,
  // A query in flight when the database goes silent fails within interval + cut (1.75 s) at worst.
  probeIntervalMs: 250,
  probeTimeoutMs: 1000,
  probeCutAfterMs: 1500,
}

/** Whether the database answers, as this process last saw it. */
export interface DatabaseAvailability {
  /** False from a failed probe until a probe succeeds again. */
  readonly available: boolean
  /** When the database was last seen going away (epoch ms), while it is away. */
  readonly unavailableSince: number | undefined
  /** Calls `listener` on every change; returns a function that stops. */
  onChange(listener: (available: boolean) => void): () => void
  /** Probes now (a query just failed with a connection error); resolves to the outcome. */
  probe(): Promise<boolean>
}

/** Error codes of the driver and of Node's sockets that mean "the database cannot be reached". */
const unreachableCodes = new Set([
  'DATABASE_UNAVAILABLE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // SQLSTATEs: connection exceptions, shutdowns, too many connections, a statement timed out,
  // and a database that refuses connections (ALTER DATABASE … ALLOW_CONNECTIONS false).
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
  '55000',
])

/**
 * Whether an error (or any error in its `cause` chain: drizzle wraps the driver's) says the
 * database cannot be reached or did not answer in time, rather than that a statement was wrong.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && unreachableCodes.has(code)) return true
    current = current.cause
  }
  return false
}

/**
 * The sockets a driver client opened, so that all of them can be cut at once. A blackholed
 * connection never errors by itself (the bytes just stop), and PostgreSQL's own timeouts cannot
 * help when the server never hears from us; destroying the socket fails its queries at once and
 * the pool opens a new connection on next use.
 */
export class DatabaseSockets {
  private readonly open = new Set<Socket>()
  private next = 0
  private refusing = false

  /** For postgres-js's `socket` option: a socket it writes to while it connects. */
  readonly factory = (options: { host: string[]; port: number[]; path?: string | false }) => {
    const index = this.next++ % Math.max(1, options.host.length)
    const host = options.host[index] ?? 'localhost'
    const port = options.port[index] ?? options.port[0] ?? 5432
    const socket = options.path ? connect(options.path) : connect(port, host)
    // postgres-js names host and port in its errors from these fields.
    Object.assign(socket, { host, port })
    this.open.add(socket)
    socket.once('close', () => this.open.delete(socket))
    // After the database failed its probe, a query that was waiting for a connection (or whose
    // connection was cut while it connected) would otherwise be sent out again on a new one and
    // wait for the connect timeout. Failing the socket with an error fails that query at once;
    // postgres-js adds its listeners before the next turn of the loop.
    if (this.refusing) setImmediate(() => socket.destroy(unavailableError()))
    return socket
  }

  /** From a failed probe until the database answers again, every new connection fails at once. */
  refuseNewConnections(refusing: boolean): void {
    this.refusing = refusing
  }

  get size(): number {
    return this.open.size
  }

  /**
   * Destroys every socket with an error: postgres-js fails the queries waiting on a socket that
   * errors, whereas one merely closed while connecting makes it quietly connect again.
   */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy(unavailableError())
    this.open.clear()
  }
}

function unavailableError(): Error {
  return Object.assign(new Error('the database did not answer its availability probe'), {
    code: 'DATABASE_UNAVAILABLE',
  })
}

export interface AvailabilityMonitorOptions {
  /** One round trip to the database; rejects or never settles when it is away. */
  probe: () => Promise<unknown>
  /** Abandons a probe that timed out (cuts its connection). */
  abandonProbe: () => void
  /** Runs when a probe errs, or stays silent past `cutAfterMs`: cut every connection. */
  onProbeFailed: () => void
  /** Runs when a probe succeeds after failing, before anyone hears that the database is back. */
  onRecovered?: () => void
  intervalMs: number
  /** Silent this long: the database is unavailable (new requests are refused). */
  timeoutMs: number
  /** Silent this long (from the probe's start): the connections are cut. */
  cutAfterMs: number
  now?: () => number
}

/** How often a probe's wait starts again because this process, not the database, was slow. */
const maxDeadlineExtensions = 5

/**
 * Probes the database on a timer and says whether it answers. Requests that need the database
 * are refused at once while it does not (a 503 rather than a wait), and a failed probe cuts the
 * pool's connections, so a query stuck on a blackholed one fails within about
 * `intervalMs + cutAfterMs`. The first probe that succeeds again makes it available.
 */
export class AvailabilityMonitor implements DatabaseAvailability {
  private state = true
  private since: number | undefined
  private probing: Promise<boolean> | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly listeners = new Set<(available: boolean) => void>()
  private readonly now: () => number

  constructor(private readonly options: AvailabilityMonitorOptions) {
    this.now = options.now ?? Date.now
  }

  get available(): boolean {
    return this.state
  }

  get unavailableSince(): number | undefined {
    return this.since
  }

  start(): void {
    if (this.timer || this.options.intervalMs <= 0) return
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  onChange(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  probe(): Promise<boolean> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined
    })
    return this.probing
  }

  private async runProbe(): Promise<boolean> {
    const { timeoutMs, cutAfterMs } = this.options
    const probed = this.options.probe().then(
      () => 'ok' as const,
      () => 'failed' as const,
    )
    let outcome = await this.raceDeadline(probed, timeoutMs)
    if (outcome === 'timeout') {
      // Silent: new requests are refused from now on. Work in flight is cut only if the silence
      // lasts, so a slow moment (six replicas connecting at once on a loaded machine did it)
      // does not fail every query under way; an answer before then makes it available again.
      this.set(false)
      outcome = await this.raceDeadline(probed, Math.max(0, cutAfterMs - timeoutMs))
      if (outcome === 'timeout') this.options.abandonProbe()
    }
    this.set(outcome === 'ok')
    // A probe that errs found the connections dead; one silent past the cut finds them useless.
    if (outcome !== 'ok') this.options.onProbeFailed()
    return outcome === 'ok'
  }

  private async raceDeadline(
    probed: Promise<'ok' | 'failed'>,
    ms: number,
  ): Promise<'ok' | 'failed' | 'timeout'> {
    const deadline = this.deadline(ms)
    try {
      return await Promise.race([probed, deadline.reached])
    } finally {
      deadline.cancel()
    }
  }

  /**
   * Reached once `timeoutMs` have passed in which this process was free to read the probe's
   * answer. A failed probe cuts every connection, so a busy event loop (a large import, a loaded
   * machine) must not pass for a silent database: a timer that fires late waits again (a few
   * times at most), and before giving up one more turn of the loop reads what has arrived.
   */
  private deadline(timeoutMs: number): { reached: Promise<'timeout'>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined
    const reached = new Promise<'timeout'>((resolve) => {
      const arm = (extensions: number) => {
        const due = performance.now() + timeoutMs
        timer = setTimeout(() => {
          const late = performance.now() - due
          if (late > timeoutMs / 2 && extensions < maxDeadlineExtensions) arm(extensions + 1)
          else immediate = setImmediate(() => resolve('timeout'))
        }, timeoutMs)
      }
      arm(0)
    })
    return {
      reached,
      cancel: () => {
        clearTimeout(timer)
        clearImmediate(immediate)
      },
    }
  }

  private set(available: boolean): void {
    if (available === this.state) return
    this.state = available
    this.since = available ? undefined : this.now()
    if (available) {
      try {
        this.options.onRecovered?.()
      } catch {
        // Recovery of the pool is best effort; listeners still hear that the database is back.
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(available)
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}

/** PGlite runs in this process: it is available until it is closed. */
export class EmbeddedAvailability implements DatabaseAvailability {
  private closedAt: number | undefined
  private readonly listeners = new Set<(available: boolean) => void>()

  get available(): boolean {
    return this.closedAt === undefined
  }

  get unavailableSince(): number | undefined {
    return this.closedAt
  }

  onChange(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async probe(): Promise<boolean> {
    return this.available
  }

  closed(): void {
    if (this.closedAt !== undefined) return
    this.closedAt = Date.now()
    for (const listener of this.listeners) listener(false)
  }
}

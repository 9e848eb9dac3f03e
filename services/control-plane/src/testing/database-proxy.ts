import { connect, createServer, type Server, type Socket } from 'node:net'

export type ProxyMode = 'forwarding' | 'reset' | 'blackhole'

interface Pair {
  client: Socket
  upstream: Socket
  /** Bytes held while blackholed, per direction, forwarded when the cut heals. */
  heldToUpstream: Buffer[]
  heldToClient: Buffer[]
  /** The app closed its end during a blackhole: PostgreSQL learns of it only when the cut heals. */
  closedUnseen: boolean
}

/**
 * A TCP proxy between the app and PostgreSQL that a test or a benchmark can cut, the two ways a
 * database goes away in production:
 * - `reset()`: every connection is reset and new ones are reset as soon as they are accepted
 *   (a database restart, a failover, a firewall that rejects);
 * - `blackhole()`: connections stay open and new ones are accepted, but no byte goes through in
 *   either direction (a partition, a firewall that drops): nothing errors, everything waits.
 * `heal()` forwards again; bytes held by a blackhole are delivered then, as TCP would after a
 * partition heals.
 */
export class DatabaseProxy {
  private mode: ProxyMode = 'forwarding'
  private readonly pairs = new Set<Pair>()
  /** Connections accepted since the proxy started, for tests that want to see reconnects. */
  accepted = 0

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<DatabaseProxy> {
    let proxy: DatabaseProxy | undefined
    const server = createServer((client) => proxy?.accept(client, target))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    proxy = new DatabaseProxy(server, address.port)
    return proxy
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url)
    parsed.hostname = '127.0.0.1'
    parsed.port = String(this.port)
    return parsed.toString()
  }

  get state(): ProxyMode {
    return this.mode
  }

  get openConnections(): number {
    return this.pairs.size
  }

  reset(): void {
    this.mode = 'reset'
    for (const pair of this.pairs) this.drop(pair, true)
  }

  blackhole(): void {
    this.mode = 'blackhole'
  }

  heal(): void {
    this.mode = 'forwarding'
    for (const pair of this.pairs) {
      if (pair.closedUnseen) {
        this.drop(pair, false)
        continue
      }
      for (const chunk of pair.heldToUpstream.splice(0)) pair.upstream.write(chunk)
      for (const chunk of pair.heldToClient.splice(0)) pair.client.write(chunk)
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair, false)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.accepted++
    if (this.mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(target.port, target.host)
    const pair: Pair = {
      client,
      upstream,
      heldToUpstream: [],
      heldToClient: [],
      closedUnseen: false,
    }
    this.pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') pair.heldToUpstream.push(chunk)
      else upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') pair.heldToClient.push(chunk)
      else client.write(chunk)
    })
    // One side gone: the other goes too, except that nothing crosses a blackhole, not even that.
    const end = (side: Socket) => () => {
      if (this.mode === 'blackhole' && side === client) pair.closedUnseen = true
      else this.drop(pair, false)
    }
    for (const socket of [client, upstream]) {
      socket.on('error', end(socket))
      socket.on('close', end(socket))
    }
  }

  private drop(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return
    if (reset && !pair.client.destroyed) pair.client.resetAndDestroy()
    else pair.client.destroy()
    pair.upstream.destroy()
  }
}

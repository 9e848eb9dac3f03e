import { createServer, request as forward } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

/** What the gateway does with a request: pass it on, or one of the failures a real one has. */
export type GatewayFault =
  /** Passes the request on, then drops the connection instead of the answer: the work was done. */
  | 'drop-answer'
  /** Answers 503 with an HTML page, as a load balancer does while no backend is up. */
  | 'unavailable'
  /** Answers 429 with a problem and `Retry-After: 1`, as a rate limit in front of the API does. */
  | 'busy'

export interface GatewayRequest {
  method: string
  path: string
  idempotencyKey: string | undefined
  outcome: 'forwarded' | GatewayFault
  /** The backend's `idempotent-replayed` header, for requests it answered. */
  replayed: string | undefined
}

export interface FlakyGateway {
  url: string
  /** Every request that reached the gateway, oldest first. */
  requests: GatewayRequest[]
  /** The next `times` requests with this method and a path starting with `pathPrefix` get `fault`. */
  fail(method: string, pathPrefix: string, fault: GatewayFault, times?: number): void
}

/**
 * A real HTTP reverse proxy in front of the control plane that fails on request, the way a load
 * balancer does while the service behind it restarts; closed with the test.
 */
export async function startFlakyGateway(t: Test, upstreamUrl: string): Promise<FlakyGateway> {
  const upstream = new URL(upstreamUrl)
  const requests: GatewayRequest[] = []
  const faults: { method: string; pathPrefix: string; fault: GatewayFault; left: number }[] = []

  const server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/'
    const fault = faults.find(
      (candidate) =>
        candidate.left > 0 &&
        candidate.method === incoming.method &&
        path.startsWith(candidate.pathPrefix),
    )
    if (fault) fault.left -= 1
    const record: GatewayRequest = {
      method: incoming.method ?? 'GET',
      path,
      idempotencyKey: incoming.headers['idempotency-key'] as string | undefined,
      outcome: fault?.fault ?? 'forwarded',
      replayed: undefined,
    }
    requests.push(record)
    if (fault?.fault === 'busy') {
      incoming.resume()
      outgoing.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '1' })
      outgoing.end(
        JSON.stringify({
          type: '/problems/rate-limited',
          title: 'Too many requests',
          status: 429,
          detail: 'slow down',
          instance: path,
          requestId: 'gateway',
        }),
      )
      return
    }
    if (fault?.fault === 'unavailable') {
      incoming.resume()
      outgoing.writeHead(503, { 'content-type': 'text/html' })
      outgoing.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>')
      return
    }
    const proxied = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path,
        headers: incoming.headers,
      },
      (answer) => {
        record.replayed = answer.headers['idempotent-replayed'] as string | undefined
        if (fault?.fault === 'drop-answer') {
          // The backend has committed and answered; the caller never hears of it.
          answer.resume()
          outgoing.socket?.destroy()
          return
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    proxied.on('error', () => outgoing.socket?.destroy())
    incoming.pipe(proxied)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(method, pathPrefix, fault, times = 1) {
      faults.push({ method, pathPrefix, fault, left: times })
    },
  }
}

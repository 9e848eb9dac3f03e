import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync, inflateSync } from 'node:zlib'
import {
  type DecodedMessage,
  decodeMessage,
  exportMetricsServiceRequest,
  exportTraceServiceRequest,
} from './otlp-protobuf.js'

/**
 * A real OTLP/HTTP receiver for tests: it takes trace and metric export requests in protobuf or
 * JSON (gzip or not) on a random loopback port, keeps what it received flattened, and can be
 * told to answer with an error, or to stop listening, to exercise the exporter's retries.
 */

export type ReceivedValue =
  | string
  | number
  | boolean
  | null
  | ReceivedValue[]
  | { [key: string]: ReceivedValue }

export type ReceivedAttributes = Record<string, ReceivedValue>

export type ReceivedSpanKind =
  | 'unspecified'
  | 'internal'
  | 'server'
  | 'client'
  | 'producer'
  | 'consumer'

export interface ReceivedSpan {
  traceId: string
  spanId: string
  /** null for a root span. */
  parentSpanId: string | null
  traceState: string
  name: string
  kind: ReceivedSpanKind
  /** Exact, as sent. */
  startTimeUnixNano: string
  endTimeUnixNano: string
  /** Whole milliseconds since the epoch, to compare with ISO timestamps. */
  startTimeMs: number
  endTimeMs: number
  attributes: ReceivedAttributes
  events: Array<{ name: string; timeUnixNano: string; attributes: ReceivedAttributes }>
  links: Array<{ traceId: string; spanId: string; attributes: ReceivedAttributes }>
  status: { code: 'unset' | 'ok' | 'error'; message: string }
  resource: ReceivedAttributes
  scope: { name: string; version: string }
}

export type ReceivedMetricType = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary'

/** One data point of one metric, with what it belongs to. */
export interface ReceivedMetricPoint {
  name: string
  description: string
  unit: string
  type: ReceivedMetricType
  attributes: ReceivedAttributes
  /** A gauge's or sum's value; a histogram's or summary's sum (null when it has none). */
  value: number | null
  /** How many measurements a histogram or summary point holds. */
  count: number | null
  timeUnixNano: string
  resource: ReceivedAttributes
  scope: { name: string; version: string }
}

export type OtlpSignal = 'traces' | 'metrics' | 'logs' | 'other'

export interface ReceivedRequest {
  signal: OtlpSignal
  path: string
  contentType: string
  contentEncoding: string | null
  headers: IncomingMessage['headers']
  /** The body as sent, decompressed. */
  body: Buffer
  /** The status the receiver answered with. */
  status: number
}

export interface FailureOptions {
  /** 503 unless told otherwise. */
  status?: number
  /** Only requests for this signal fail; any signal by default. */
  signal?: OtlpSignal
  /** Sent as Retry-After (seconds). */
  retryAfterSeconds?: number
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: what OTEL_EXPORTER_OTLP_ENDPOINT takes. */
  readonly url: string
  readonly tracesUrl: string
  readonly metricsUrl: string
  readonly port: number
  /** Every span accepted, in the order received. */
  readonly spans: ReceivedSpan[]
  readonly metrics: ReceivedMetricPoint[]
  /** Every request, accepted or not. */
  readonly requests: ReceivedRequest[]
  /** How many requests arrived, for one signal or all. */
  requestCount(signal?: OtlpSignal): number
  /** Answers the next `count` requests (for `options.signal`) with an error, 503 by default. */
  failNext(count: number, options?: FailureOptions): void
  /**
   * Resolves with the spans matching `predicate` once at least `count` have arrived; rejects
   * after `timeoutMs`, saying what did arrive.
   */
  waitForSpans(
    predicate: (span: ReceivedSpan) => boolean,
    timeoutMs?: number,
    count?: number,
  ): Promise<ReceivedSpan[]>
  waitForMetrics(
    predicate: (point: ReceivedMetricPoint) => boolean,
    timeoutMs?: number,
    count?: number,
  ): Promise<ReceivedMetricPoint[]>
  /** Stops listening and drops open connections: the collector is unreachable. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  /** Stops for good. */
  close(): Promise<void>
}

const spanKinds: readonly ReceivedSpanKind[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
]
const statusCodes = ['unset', 'ok', 'error'] as const

export interface OtlpReceiverOptions {
  /** 0 (a free port) by default. */
  port?: number
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const metrics: ReceivedMetricPoint[] = []
  const requests: ReceivedRequest[] = []
  const failures: Array<Required<Pick<FailureOptions, 'status'>> & FailureOptions> = []
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const listener of [...listeners]) listener()
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const path = new URL(request.url ?? '/', 'http://receiver').pathname
    const signal: OtlpSignal = path.endsWith('/v1/traces')
      ? 'traces'
      : path.endsWith('/v1/metrics')
        ? 'metrics'
        : path.endsWith('/v1/logs')
          ? 'logs'
          : 'other'
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim()
    const contentEncoding = request.headers['content-encoding'] ?? null
    const json = contentType === 'application/json'
    const record: ReceivedRequest = {
      signal,
      path,
      contentType,
      contentEncoding,
      headers: request.headers,
      body: Buffer.alloc(0),
      status: 200,
    }
    requests.push(record)
    const answer = (status: number, body: string | Uint8Array, headers: Record<string, string>) => {
      record.status = status
      response.writeHead(status, headers).end(body)
      notify()
    }
    try {
      const raw = Buffer.concat(chunks)
      record.body =
        contentEncoding === 'gzip'
          ? gunzipSync(raw)
          : contentEncoding === 'deflate'
            ? inflateSync(raw)
            : raw
    } catch {
      return answer(400, 'the body could not be decompressed', { 'content-type': 'text/plain' })
    }
    const failure = failures.findIndex((f) => f.signal === undefined || f.signal === signal)
    if (failure !== -1) {
      const [{ status, retryAfterSeconds }] = failures.splice(failure, 1) as [
        (typeof failures)[number],
      ]
      return answer(status, 'told to fail', {
        'content-type': 'text/plain',
        ...(retryAfterSeconds !== undefined && { 'retry-after': String(retryAfterSeconds) }),
      })
    }
    if (signal !== 'traces' && signal !== 'metrics') {
      return answer(signal === 'logs' ? 200 : 404, json ? '{}' : new Uint8Array(), {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
      })
    }
    if (!json && contentType !== 'application/x-protobuf') {
      return answer(415, `unsupported content type '${contentType}'`, {
        'content-type': 'text/plain',
      })
    }
    let message: DecodedMessage
    try {
      message = json
        ? (JSON.parse(record.body.toString('utf8')) as DecodedMessage)
        : decodeMessage(
            record.body,
            signal === 'traces' ? exportTraceServiceRequest : exportMetricsServiceRequest,
          )
    } catch (error) {
      return answer(400, `the body could not be decoded: ${(error as Error).message}`, {
        'content-type': 'text/plain',
      })
    }
    if (signal === 'traces') spans.push(...flattenSpans(message))
    else metrics.push(...flattenMetrics(message))
    // An empty Export*ServiceResponse: everything was accepted.
    answer(200, json ? '{}' : new Uint8Array(), {
      'content-type': json ? 'application/json' : 'application/x-protobuf',
    })
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error))
    })
  })
  let port = options.port ?? 0
  const listen = async () => {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  }
  const stopListening = async () => {
    if (!server.listening) return
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
  }
  await listen()

  const waitFor = <T>(
    what: string,
    items: T[],
    describe: (item: T) => string,
    predicate: (item: T) => boolean,
    timeoutMs: number,
    count: number,
  ): Promise<T[]> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const matching = items.filter(predicate)
        if (matching.length < count) return false
        listeners.delete(check)
        clearTimeout(timer)
        resolve(matching)
        return true
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        const seen = items.map(describe).join(', ') || 'nothing'
        reject(
          new Error(
            `no ${count} matching ${what} within ${timeoutMs} ms; received ${seen} in ${requests.length} requests`,
          ),
        )
      }, timeoutMs)
      if (!check()) listeners.add(check)
    })

  const url = () => `http://127.0.0.1:${port}`
  return {
    get url() {
      return url()
    },
    get tracesUrl() {
      return `${url()}/v1/traces`
    },
    get metricsUrl() {
      return `${url()}/v1/metrics`
    },
    get port() {
      return port
    },
    spans,
    metrics,
    requests,
    requestCount: (signal) =>
      signal === undefined
        ? requests.length
        : requests.filter((request) => request.signal === signal).length,
    failNext(count, failure = {}) {
      for (let n = 0; n < count; n += 1)
        failures.push({ ...failure, status: failure.status ?? 503 })
    },
    waitForSpans: (predicate, timeoutMs = 30_000, count = 1) =>
      waitFor('spans', spans, (span) => span.name, predicate, timeoutMs, count),
    waitForMetrics: (predicate, timeoutMs = 30_000, count = 1) =>
      waitFor('metric points', metrics, (point) => point.name, predicate, timeoutMs, count),
    stop: stopListening,
    start: async () => {
      if (!server.listening) await listen()
    },
    close: stopListening,
  }
}

function flattenSpans(request: DecodedMessage): ReceivedSpan[] {
  const received: ReceivedSpan[] = []
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = flattenAttributes(resourceSpans.resource?.attributes)
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version ?? '' }
      for (const span of scopeSpans.spans ?? []) {
        const startTimeUnixNano = String(span.startTimeUnixNano ?? '0')
        const endTimeUnixNano = String(span.endTimeUnixNano ?? '0')
        received.push({
          traceId: span.traceId ?? '',
          spanId: span.spanId ?? '',
          parentSpanId: span.parentSpanId ? span.parentSpanId : null,
          traceState: span.traceState ?? '',
          name: span.name ?? '',
          kind: spanKinds[Number(span.kind ?? 0)] ?? 'unspecified',
          startTimeUnixNano,
          endTimeUnixNano,
          startTimeMs: nanosToMillis(startTimeUnixNano),
          endTimeMs: nanosToMillis(endTimeUnixNano),
          attributes: flattenAttributes(span.attributes),
          events: (span.events ?? []).map((event: DecodedMessage) => ({
            name: event.name ?? '',
            timeUnixNano: String(event.timeUnixNano ?? '0'),
            attributes: flattenAttributes(event.attributes),
          })),
          links: (span.links ?? []).map((link: DecodedMessage) => ({
            traceId: link.traceId ?? '',
            spanId: link.spanId ?? '',
            attributes: flattenAttributes(link.attributes),
          })),
          status: {
            code: statusCodes[Number(span.status?.code ?? 0)] ?? 'unset',
            message: span.status?.message ?? '',
          },
          resource,
          scope,
        })
      }
    }
  }
  return received
}

const metricTypes: readonly ReceivedMetricType[] = [
  'gauge',
  'sum',
  'histogram',
  'exponentialHistogram',
  'summary',
]

function flattenMetrics(request: DecodedMessage): ReceivedMetricPoint[] {
  const received: ReceivedMetricPoint[] = []
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    const resource = flattenAttributes(resourceMetrics.resource?.attributes)
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      const scope = {
        name: scopeMetrics.scope?.name ?? '',
        version: scopeMetrics.scope?.version ?? '',
      }
      for (const metric of scopeMetrics.metrics ?? []) {
        const type = metricTypes.find((candidate) => metric[candidate] !== undefined)
        if (type === undefined) continue
        for (const point of metric[type].dataPoints ?? []) {
          const single = type === 'gauge' || type === 'sum'
          const value = single
            ? point.asDouble !== undefined
              ? Number(point.asDouble)
              : point.asInt !== undefined
                ? Number(point.asInt)
                : 0
            : point.sum !== undefined
              ? Number(point.sum)
              : null
          received.push({
            name: metric.name ?? '',
            description: metric.description ?? '',
            unit: metric.unit ?? '',
            type,
            attributes: flattenAttributes(point.attributes),
            value,
            count: single ? null : Number(point.count ?? 0),
            timeUnixNano: String(point.timeUnixNano ?? '0'),
            resource,
            scope,
          })
        }
      }
    }
  }
  return received
}

function flattenAttributes(list: DecodedMessage[] | undefined): ReceivedAttributes {
  const attributes: ReceivedAttributes = {}
  for (const entry of list ?? []) attributes[entry.key] = flattenValue(entry.value)
  return attributes
}

function flattenValue(value: DecodedMessage | undefined): ReceivedValue {
  if (value === undefined || value === null) return null
  if (value.stringValue !== undefined) return value.stringValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return Number(value.doubleValue)
  if (value.arrayValue !== undefined) {
    return (value.arrayValue.values ?? []).map((item: DecodedMessage) => flattenValue(item))
  }
  if (value.kvlistValue !== undefined) return flattenAttributes(value.kvlistValue.values)
  if (value.bytesValue !== undefined) return value.bytesValue
  return null
}

function nanosToMillis(nanos: string): number {
  return Number(BigInt(nanos) / 1_000_000n)
}

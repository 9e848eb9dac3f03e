import { InvalidInputError } from '@ringmaster/domain'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** One event as EventSource reads it. `data` is one line (JSON); a newline would split it. */
export interface ServerSentEvent {
  id: number
  event: string
  data: string
}

export interface ServerSentEventsOptions {
  /** Sent first as `retry:`, the reconnect delay EventSource then uses; not sent when absent. */
  retryMs?: number
  /** How often a comment keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number
  /**
   * For streams whose events are pushed as they happen and cannot be held back: a client this
   * many bytes behind on reading is cut off, and catches up by reconnecting with Last-Event-ID.
   * A stream that reads its events itself waits on `drained()` instead and leaves this unset.
   */
  maxBufferedBytes?: number
}

/**
 * The server's end of one server-sent-events stream on a hijacked reply. Backpressure has one
 * rule here: writes never block; a producer that can wait asks `behind` and awaits `drained()`
 * before producing more, and one that cannot is cut off past `maxBufferedBytes`.
 */
export interface ServerSentEvents {
  /** True once the client left, the stream was cut off, or `stop` was called. */
  readonly stopped: boolean
  /** The client has not read everything written yet. */
  readonly behind: boolean
  send(event: ServerSentEvent): void
  /** Resolves when the client has read what was written, or the stream stops. */
  drained(): Promise<void>
  /** Resolves after `ms`, or as soon as the stream stops. */
  pause(ms: number): Promise<void>
  /** Ends the response (once); `ended` resolves when the connection has closed. */
  stop(): void
  readonly ended: Promise<void>
  /** Called once, when the stream stops for any reason. */
  onStop(listener: () => void): void
}

const defaultHeartbeatMs = 15_000

/** Writes the stream's head and keeps it alive until the client leaves or `stop` is called. */
export function openServerSentEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ServerSentEventsOptions = {},
): ServerSentEvents {
  const response = reply.raw
  // 'close' has already been emitted when the client left before the handler got here.
  const closed = response.destroyed
    ? Promise.resolve()
    : new Promise<void>((resolve) => response.once('close', () => resolve()))
  const waiters = new Set<() => void>()
  const stopListeners: (() => void)[] = []
  let heartbeat: NodeJS.Timeout | undefined
  let stopped = false

  const stop = () => {
    if (stopped) return
    stopped = true
    clearInterval(heartbeat)
    request.raw.off('close', stop)
    for (const wake of [...waiters]) wake()
    if (!response.writableEnded) response.end()
    for (const listener of stopListeners.splice(0)) listener()
  }
  /** A promise that resolves on `settle` or when the stream stops, whichever is first. */
  const waitFor = (arm: (settle: () => void) => () => void) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve()
      let disarm = () => {}
      const settle = () => {
        waiters.delete(settle)
        disarm()
        resolve()
      }
      waiters.add(settle)
      disarm = arm(settle)
    })
  const write = (text: string) => {
    if (stopped) return
    response.write(text)
    if (
      options.maxBufferedBytes !== undefined &&
      response.writableLength > options.maxBufferedBytes
    ) {
      request.log.warn('server-sent events client is not reading; closing its stream')
      stop()
    }
  }

  // A write to a connection the client just dropped errors; 'close' then ends the stream.
  response.on('error', stop)
  response.on('close', stop)
  request.raw.on('close', stop)
  if (response.destroyed || request.raw.socket?.destroyed) {
    stop()
  } else {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    })
    // The head goes out now, not with the first event or heartbeat (15 s away): a client knows at
    // once that its stream is open (an EventSource fires `open`).
    response.flushHeaders()
    if (options.retryMs !== undefined) write(`retry: ${options.retryMs}\n\n`)
    heartbeat = setInterval(
      () => write(': keep-alive\n\n'),
      options.heartbeatMs ?? defaultHeartbeatMs,
    )
    heartbeat.unref()
  }

  return {
    get stopped() {
      return stopped
    },
    get behind() {
      return response.writableNeedDrain
    },
    send: (event) => write(formatServerSentEvent(event)),
    drained: () =>
      response.writableNeedDrain
        ? waitFor((settle) => {
            response.once('drain', settle)
            return () => response.off('drain', settle)
          })
        : Promise.resolve(),
    pause: (ms) =>
      waitFor((settle) => {
        const timer = setTimeout(settle, ms)
        return () => clearTimeout(timer)
      }),
    stop,
    ended: closed,
    onStop: (listener) => {
      if (stopped) listener()
      else stopListeners.push(listener)
    },
  }
}

export function formatServerSentEvent({ id, event, data }: ServerSentEvent): string {
  return `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`
}

/**
 * The id an EventSource resumes from: the `id` of the last event it got, which both streams make
 * a non-negative integer. Absent or blank means a first connection. `meaning` names what the id
 * is in the refusal ("an event id", "a revision").
 */
export function parseLastEventId(
  header: string | string[] | undefined,
  meaning: string,
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (value === undefined || value === '') return undefined
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new InvalidInputError(
      'invalid-last-event-id',
      `Last-Event-ID must be ${meaning} (a non-negative integer), not '${value.slice(0, 40)}'`,
    )
  }
  return Number(value)
}

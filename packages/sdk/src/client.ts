import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type FetchResponse,
  type MaybeOptionalInit,
  type Middleware,
} from 'openapi-fetch'
import type { AuditEvent, Inbox, paths } from './generated/control-plane.js'
import {
  isProblem,
  isTransientFailure,
  parseRetryAfter,
  RingmasterProblem,
  RingmasterRequestError,
} from './ringmaster-errors.js'
import { parseServerSentEvents } from './server-sent-events.js'

export type { paths } from './generated/control-plane.js'

/** fetch's `credentials` (the DOM's RequestCredentials, named here so Node builds need no DOM types). */
export type FetchCredentials = 'include' | 'omit' | 'same-origin'

export interface RingmasterClientOptions {
  /** Where the control plane listens, e.g. https://ringmaster.example.com */
  baseUrl: string
  /**
   * An API token (`POST /v1/tokens`); sent as `Authorization: Bearer <token>`. Leave it out in
   * the web console: the browser sends the session cookie of `POST /v1/session` instead.
   */
  token?: string | undefined
  /**
   * The console session's CSRF token (`csrfToken` of `POST /v1/session` or `GET /v1/session`),
   * sent as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE; a function is asked each time.
   */
  csrfToken?: string | (() => string | undefined) | undefined
  /** Whether the browser sends cookies: `same-origin` (the default) sends the console's. */
  credentials?: FetchCredentials | undefined
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Sent as User-Agent, e.g. `ringmaster-cli/1.2.0`. */
  userAgent?: string
  /** Whether and how to try a call again that got no usable answer; by default it is not. */
  retry?: RetryPolicy
}

/**
 * Retries of calls that failed in a way that may pass by itself (`isTransientFailure`: no answer,
 * or 429, 502, 503, 504), such as a control plane restarting behind its load balancer. Every
 * attempt of a write carries the same Idempotency-Key, so a write the server did before its answer
 * was lost is answered from the first attempt, never done twice.
 */
export interface RetryPolicy {
  /** How many times to try again after the first attempt. */
  retries: number
  /**
   * The wait before the first retry, doubled for each after it, with jitter (default 500 ms). An
   * answer with Retry-After (a 429, a control plane shutting down) is waited for longer if it asks.
   */
  minDelayMs?: number
  /** The longest wait between two attempts (default 8 s), a Retry-After's included. */
  maxDelayMs?: number
  /** Called before each retry (and each reconnect of `events()`), e.g. to say so in a log. */
  onRetry?: (retry: RetryNotice) => void
}

export interface RetryNotice {
  /** What went wrong: a RingmasterRequestError or a transient RingmasterProblem. */
  error: unknown
  /** 1 for the first retry. */
  attempt: number
  delayMs: number
  method: string
  url: string
}

/** Options every wrapper method takes besides the request's params and body. */
export interface CallOptions {
  /**
   * The Idempotency-Key of a POST, PUT, PATCH or DELETE. Pass the same key when retrying a call
   * whose outcome is unknown: the server answers with the first attempt's result instead of doing
   * the work twice. A fresh key is made when omitted.
   */
  idempotencyKey?: string
  /** This call's retries instead of the client's; `false` sends it once. */
  retry?: RetryPolicy | false
}

export type RawClient = Client<paths, `${string}/${string}`>
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'
type PathFor<M extends Method> = ClientPathsWithMethod<RawClient, M>

/** The request options of one operation (params, body, headers, signal) plus CallOptions. */
export type InitFor<M extends Method, Path extends PathFor<M>> = Omit<
  NonNullable<MaybeOptionalInit<paths[Path], M>>,
  'parseAs'
> &
  CallOptions

/** The init argument is optional exactly when the operation needs no params and no body. */
type InitArgs<Init> = object extends Init ? [init?: Init] : [init: Init]

/** The JSON body of the operation's success response; `undefined` for a 204. */
export type SuccessBody<
  M extends Method,
  Path extends PathFor<M>,
> = paths[Path][M] extends infer Operation extends Record<string | number, unknown>
  ? OrUndefined<Exclude<FetchResponse<Operation, object, `${string}/${string}`>['data'], undefined>>
  : never
type OrUndefined<T> = [T] extends [never] ? undefined : T

type Call<M extends Method> = <Path extends PathFor<M>>(
  path: Path,
  ...init: InitArgs<InitFor<M, Path>>
) => Promise<SuccessBody<M, Path>>

export interface EventStreamOptions {
  /** Start after this event id; by default only events from now on arrive. */
  after?: number
  /** Only events about this subject or what lies under it, e.g. `release:42`. */
  subject?: string
  /** Only events whose action starts with this, e.g. `release.` */
  action?: string
  /** Ends the iteration. */
  signal?: AbortSignal
  /** Retries of failed connects instead of the client's; `false`: a failed connect throws. */
  retry?: RetryPolicy | false
}

export interface RingmasterClient {
  /** The openapi-fetch client, typed by the spec; answers `{ data, error, response }`. */
  raw: RawClient
  get: Call<'get'>
  post: Call<'post'>
  put: Call<'put'>
  patch: Call<'patch'>
  delete: Call<'delete'>
  /**
   * Follows GET /v1/events/stream. When the server ends the stream (a restart), it reconnects
   * from the last event it yielded, so none is missed or repeated. Stop with `signal` or `break`.
   */
  events(options?: EventStreamOptions): AsyncGenerator<AuditEvent>
  /** GET /v1/inbox: approvals the token's subject may give, and their releases that are stuck. */
  inbox(options?: CallOptions): Promise<Inbox>
}

const commandMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const noRetries: RetryPolicy = { retries: 0 }
const idempotencyHeader = 'idempotency-key'
const defaultReconnectMs = 2000

/** A new random Idempotency-Key. */
export function newIdempotencyKey(): string {
  // Web Crypto, in Node.js 20 and in browsers alike, so the console can use this client.
  return globalThis.crypto.randomUUID()
}

/** Sends the console session's CSRF token with every command, as the server requires of cookies. */
function csrfTokens(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === 'function' ? token() : token
      if (value !== undefined && commandMethods.has(request.method)) {
        request.headers.set('x-csrf-token', value)
      }
      return request
    },
  }
}

export function createRingmasterClient(options: RingmasterClientOptions): RingmasterClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const fetchImpl = options.fetch ?? globalThis.fetch
  const headers: Record<string, string> = {
    ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
    'user-agent': options.userAgent ?? 'ringmaster-sdk',
  }
  const credentials = options.credentials ?? 'same-origin'
  const raw: RawClient = createClient<paths>({
    baseUrl,
    headers,
    credentials,
    fetch: (request) => fetchImpl(request),
  })
  raw.use(idempotencyKeys)
  if (options.csrfToken !== undefined) raw.use(csrfTokens(options.csrfToken))
  const clientRetry = options.retry ?? noRetries
  const retryFor = (override: RetryPolicy | false | undefined) =>
    override === false ? noRetries : (override ?? clientRetry)

  const call =
    <M extends Method>(method: M) =>
    async (path: string, init: CallOptions & Record<string, unknown> = {}) => {
      const { idempotencyKey, retry: callRetry, ...rest } = init
      const retry = retryFor(callRetry)
      const requestHeaders = new Headers(rest.headers as ConstructorParameters<typeof Headers>[0])
      if (idempotencyKey !== undefined) {
        requestHeaders.set(idempotencyHeader, idempotencyKey)
      } else if (
        commandMethods.has(method.toUpperCase()) &&
        !requestHeaders.has(idempotencyHeader)
      ) {
        // Chosen here rather than by the middleware, so every attempt below sends the same key.
        requestHeaders.set(idempotencyHeader, newIdempotencyKey())
      }
      const request = { ...rest, parseAs: 'text' as const, headers: requestHeaders }
      const signal = rest.signal as AbortSignal | undefined
      const url = `${baseUrl}${path}`
      const label = `${method.toUpperCase()} ${url}`
      const send = async () => {
        let result: { data?: unknown; error?: unknown; response: Response }
        try {
          // The wrapper's signature already checked path and init against the spec.
          // biome-ignore lint/suspicious/noExplicitAny: openapi-fetch's generic init cannot be named here.
          result = await raw.request(method, path as any, request as any)
        } catch (error) {
          throw new RingmasterRequestError(`${label}: ${(error as Error).message}`, {
            method: method.toUpperCase(),
            url,
            cause: error,
          })
        }
        return successBody(label, method, result)
      }
      for (let attempt = 0; ; attempt++) {
        try {
          return await send()
        } catch (error) {
          if (attempt >= retry.retries || signal?.aborted || !isTransientFailure(error)) throw error
          await waitToRetry(retry, attempt, { error, method: method.toUpperCase(), url }, signal)
        }
      }
    }

  return {
    raw,
    get: call('get') as Call<'get'>,
    post: call('post') as Call<'post'>,
    put: call('put') as Call<'put'>,
    patch: call('patch') as Call<'patch'>,
    delete: call('delete') as Call<'delete'>,
    inbox: async (inboxOptions = {}) =>
      (await call('get')('/v1/inbox', { ...inboxOptions })) as Inbox,
    events: (eventOptions = {}) =>
      followEvents(
        baseUrl,
        headers,
        credentials,
        fetchImpl,
        retryFor(eventOptions.retry),
        eventOptions,
      ),
  }
}

/**
 * Tells the policy's `onRetry`, then waits before retry `failed + 1`: `minDelayMs` doubled per
 * failure up to `maxDelayMs`, less up to half at random so many clients do not retry in step.
 * An answer that said how long to wait (Retry-After) is waited for, up to `maxDelayMs`.
 */
async function waitToRetry(
  policy: RetryPolicy,
  failed: number,
  what: Pick<RetryNotice, 'error' | 'method' | 'url'>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const longest = policy.maxDelayMs ?? 8000
  const ceiling = Math.min(longest, (policy.minDelayMs ?? 500) * 2 ** failed)
  const backoffMs = Math.round(ceiling * (0.5 + Math.random() / 2))
  const { error } = what
  const askedMs =
    error instanceof RingmasterProblem || error instanceof RingmasterRequestError
      ? error.retryAfterMs
      : undefined
  const delayMs =
    askedMs === undefined ? backoffMs : Math.min(longest, Math.max(backoffMs, askedMs))
  policy.onRetry?.({ ...what, attempt: failed + 1, delayMs })
  await pause(delayMs, signal)
}

/** Gives every command of the raw client a key, unless the caller set one (params.header or headers). */
const idempotencyKeys: Middleware = {
  onRequest({ request }) {
    if (commandMethods.has(request.method) && !request.headers.has(idempotencyHeader)) {
      request.headers.set(idempotencyHeader, newIdempotencyKey())
    }
    return request
  },
}

function successBody(
  label: string,
  method: Method,
  result: { data?: unknown; error?: unknown; response: Response },
): unknown {
  const { response } = result
  const url = response.url
  if (result.error !== undefined || !response.ok) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
    if (isProblem(result.error)) throw new RingmasterProblem(result.error, { retryAfterMs })
    const body = typeof result.error === 'string' ? result.error : JSON.stringify(result.error)
    throw new RingmasterRequestError(`${label}: ${response.status} without a problem body`, {
      method: method.toUpperCase(),
      url,
      status: response.status,
      body: body.slice(0, 1000),
      retryAfterMs,
    })
  }
  const text = result.data as string | undefined
  if (text === undefined || text === '') return undefined
  const contentType = response.headers.get('content-type') ?? ''
  if (/[/+]json\b/.test(contentType)) {
    try {
      return JSON.parse(text)
    } catch {}
  }
  throw new RingmasterRequestError(
    `${label}: ${response.status} answered ${contentType}, not JSON`,
    {
      method: method.toUpperCase(),
      url,
      status: response.status,
      body: text.slice(0, 1000),
    },
  )
}

async function* followEvents(
  baseUrl: string,
  headers: Record<string, string>,
  credentials: FetchCredentials,
  fetchImpl: typeof globalThis.fetch,
  retry: RetryPolicy,
  options: EventStreamOptions,
): AsyncGenerator<AuditEvent> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let lastId = options.after
  let reconnectMs = defaultReconnectMs
  // Failed connects in a row; a connect that answers starts the count again.
  let failedConnects = 0
  try {
    while (!stop.signal.aborted) {
      const query = new URLSearchParams()
      if (lastId !== undefined) query.set('after', String(lastId))
      if (options.subject !== undefined) query.set('subject', options.subject)
      if (options.action !== undefined) query.set('action', options.action)
      const url = `${baseUrl}/v1/events/stream?${query}`
      let stream: ReadableStream<Uint8Array>
      try {
        stream = await openEventStream(url, headers, credentials, fetchImpl, stop.signal)
        failedConnects = 0
      } catch (error) {
        if (stop.signal.aborted) return
        if (failedConnects >= retry.retries || !isTransientFailure(error)) throw error
        await waitToRetry(retry, failedConnects, { error, method: 'GET', url }, stop.signal)
        failedConnects += 1
        continue
      }
      try {
        const chunks = stream.pipeThrough(new TextDecoderStream())
        for await (const message of parseServerSentEvents(chunks)) {
          if (message.retry !== undefined) reconnectMs = message.retry
          if (message.data === '') continue
          const event = JSON.parse(message.data) as AuditEvent
          lastId = event.id
          yield event
        }
      } catch (error) {
        if (stop.signal.aborted) return
        // A dropped connection is resumed below, like EventSource does; anything else is a bug.
        if (!(error instanceof TypeError)) throw error
      }
      await pause(reconnectMs, stop.signal)
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    stop.abort()
  }
}

/** Connects to the event stream and answers its body; throws as the API's other calls do. */
async function openEventStream(
  url: string,
  headers: Record<string, string>,
  credentials: FetchCredentials,
  fetchImpl: typeof globalThis.fetch,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  let response: Response
  try {
    response = await fetchImpl(url, {
      headers: { ...headers, accept: 'text/event-stream' },
      credentials,
      signal,
    })
  } catch (error) {
    throw new RingmasterRequestError(`GET ${url}: ${(error as Error).message}`, {
      method: 'GET',
      url,
      cause: error,
    })
  }
  if (response.ok && response.body) return response.body
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
  if (isProblem(body)) throw new RingmasterProblem(body, { retryAfterMs })
  throw new RingmasterRequestError(`GET ${url}: ${response.status}`, {
    method: 'GET',
    url,
    status: response.status,
    body: text.slice(0, 1000),
    retryAfterMs,
  })
}

/** Waits `ms`, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

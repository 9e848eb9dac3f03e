import type { components } from './generated/control-plane.js'

export type Problem = components['schemas']['Problem']

export interface FieldProblem {
  path: string
  message: string
}

/**
 * The control plane answered with application/problem+json (RFC 9457). Branch on `type`
 * (for example `/problems/validation-failed`), not on `title` or `detail`.
 */
export class RingmasterProblem extends Error {
  override readonly name = 'RingmasterProblem'
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly instance: string
  readonly requestId: string
  /** Every invalid field, for validation problems. */
  readonly errors: FieldProblem[] | undefined
  /** The whole body, including any extension members the problem type adds. */
  readonly body: Problem

  /** How long the server asked the caller to wait before trying again (Retry-After), if it did. */
  readonly retryAfterMs: number | undefined

  constructor(body: Problem, init: { retryAfterMs?: number | undefined } = {}) {
    super(`${body.status} ${body.type}: ${body.detail} (request ${body.requestId})`)
    this.retryAfterMs = init.retryAfterMs
    this.type = body.type
    this.title = body.title
    this.status = body.status
    this.detail = body.detail
    this.instance = body.instance
    this.requestId = body.requestId
    this.errors = body.errors
    this.body = body
  }
}

/**
 * The request got no usable answer: the server could not be reached, the connection failed,
 * or it answered with something that is not the JSON the API promises (a proxy's HTML page).
 */
export class RingmasterRequestError extends Error {
  override readonly name = 'RingmasterRequestError'
  readonly method: string
  readonly url: string
  /** The HTTP status when there was an answer. */
  readonly status: number | undefined
  /** The start of the answer's body when there was one. */
  readonly body: string | undefined
  /** How long the answer asked the caller to wait before trying again (Retry-After), if it did. */
  readonly retryAfterMs: number | undefined

  constructor(
    message: string,
    init: {
      method: string
      url: string
      status?: number
      body?: string
      retryAfterMs?: number | undefined
      cause?: unknown
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.method = init.method
    this.url = init.url
    this.status = init.status
    this.body = init.body
    this.retryAfterMs = init.retryAfterMs
  }
}

/**
 * A Retry-After header in milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 10.2.3),
 * 0 for a date already past. Anything else is no request to wait: undefined.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined
  return Math.max(0, date - now)
}

/** Whether a parsed error body has the members every problem of this API carries. */
export function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false
  const candidate = body as Record<string, unknown>
  return (
    typeof candidate.type === 'string' &&
    typeof candidate.title === 'string' &&
    typeof candidate.status === 'number' &&
    typeof candidate.detail === 'string'
  )
}

/** Answers that say "not now" rather than "no": a gateway or the server itself is briefly away. */
const transientStatuses = new Set([429, 502, 503, 504])

/**
 * Whether the same call, made again unchanged, may well succeed: there was no answer at all (the
 * server is restarting, the connection dropped), or a 429, 502, 503 or 504. Problems the caller
 * caused (4xx) and server bugs (500) are not transient.
 */
export function isTransientFailure(error: unknown): boolean {
  if (error instanceof RingmasterRequestError) {
    return error.status === undefined || transientStatuses.has(error.status)
  }
  return error instanceof RingmasterProblem && transientStatuses.has(error.status)
}

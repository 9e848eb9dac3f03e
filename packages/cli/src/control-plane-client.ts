import { randomUUID } from 'node:crypto'

/**
 * The one place the CLI talks HTTP. It has the shape of `@ringmaster/sdk`'s client
 * (`get/post/put/patch/delete`, problems thrown as `RingmasterProblem`) so it can be swapped for it.
 */
export interface ClientOptions {
  baseUrl: string
  token: string
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined>
  /** Sent on every write; a random one when not given. */
  idempotencyKey?: string
  signal?: AbortSignal
}

export interface ProblemFieldError {
  path?: string
  message?: string
  [key: string]: unknown
}

/** An `application/problem+json` answer (RFC 9457). */
export class RingmasterProblem extends Error {
  override readonly name = 'RingmasterProblem'

  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: ProblemFieldError[],
  ) {
    super(detail || title || `HTTP ${status}`)
  }
}

/** The server could not be reached, or answered something that is not JSON. */
export class RingmasterRequestError extends Error {
  override readonly name = 'RingmasterRequestError'
}

// biome-ignore lint/suspicious/noExplicitAny: bodies are read field by field; the SDK will type them.
export type Json = any

export interface ControlPlaneClient {
  get(path: string, options?: RequestOptions): Promise<Json>
  post(path: string, options?: RequestOptions): Promise<Json>
  put(path: string, options?: RequestOptions): Promise<Json>
  patch(path: string, options?: RequestOptions): Promise<Json>
  delete(path: string, options?: RequestOptions): Promise<Json>
}

export function createControlPlaneClient({ baseUrl, token }: ClientOptions): ControlPlaneClient {
  const base = baseUrl.replace(/\/+$/, '')
  const request = async (method: string, path: string, options: RequestOptions = {}) => {
    const url = new URL(`${base}${path}`)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (method !== 'GET') headers['idempotency-key'] = options.idempotencyKey ?? randomUUID()
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      })
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message
      throw new RingmasterRequestError(`could not reach ${base}: ${cause}`)
    }
    const text = await response.text()
    let body: Json = null
    if (text) {
      try {
        body = JSON.parse(text)
      } catch {
        throw new RingmasterRequestError(
          `${method} ${url.pathname} answered ${response.status} with something that is not JSON`,
        )
      }
    }
    if (response.status >= 400) {
      throw new RingmasterProblem(
        response.status,
        body?.type ?? 'about:blank',
        body?.title ?? response.statusText,
        body?.detail ?? '',
        Array.isArray(body?.errors) ? body.errors : [],
      )
    }
    return body
  }
  return {
    get: (path, options) => request('GET', path, options),
    post: (path, options) => request('POST', path, options),
    put: (path, options) => request('PUT', path, options),
    patch: (path, options) => request('PATCH', path, options),
    delete: (path, options) => request('DELETE', path, options),
  }
}

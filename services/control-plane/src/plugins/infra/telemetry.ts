import { readFileSync } from 'node:fs'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { Span } from '@opentelemetry/api'
import { isSdkRole } from '@ringmaster/domain'
import { attributeNames } from '@ringmaster/telemetry'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { RouteAccess } from './auth.js'

/** `service.version`: the control plane's package version (src/ and dist/ sit beside it). */
export const controlPlaneVersion: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** Probes hit every few seconds and tell nothing a trace would. */
const untracedPaths: ReadonlySet<string> = new Set(['/healthz', '/readyz'])

/** What `@fastify/otel` tried to record about an error, held until the status code is known. */
const heldErrors = new WeakMap<FastifyRequest, { span: Span; record: Array<() => void> }>()

/**
 * `@fastify/otel` marks the span failed (and records the exception) in `onError`, before the
 * error handler has chosen the status code. A 4xx is the client's mistake, which the HTTP
 * conventions leave unset on a server span, so both are held on the span and replayed only for
 * a 5xx; the route's own `onSend` hook from `@fastify/otel` ends the span after ours.
 */
function holdErrors(span: Span, request: FastifyRequest): void {
  const record: Array<() => void> = []
  const setStatus = span.setStatus
  const recordException = span.recordException
  span.setStatus = (status) => {
    record.push(() => setStatus.call(span, status))
    return span
  }
  span.recordException = (exception, time) => {
    record.push(() => recordException.call(span, exception, time))
  }
  heldErrors.set(request, { span, record })
}

function releaseErrors(request: FastifyRequest, statusCode: number): void {
  const held = heldErrors.get(request)
  if (held === undefined) return
  heldErrors.delete(request)
  // The methods were set on the span itself; removing them brings back the SDK's.
  delete (held.span as Partial<Span>).setStatus
  delete (held.span as Partial<Span>).recordException
  if (statusCode >= 500) for (const replay of held.record) replay()
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * Routes only Unleash SDKs call (client, frontend and OFREP APIs). Every SDK instance polls them
 * every few seconds, so a span each would bury the rollout traces in noise and, measured, halved
 * the cheapest of them (304s: 20,400 → 9,100 req/s). Their health is in the flag metrics instead.
 */
function sdkOnly(access: RouteAccess | undefined): boolean {
  return Array.isArray(access) && access.length > 0 && access.every(isSdkRole)
}

/**
 * One HTTP server span per request through `@fastify/otel`, named `METHOD /route/:template`
 * with `http.route`, for every route except the SDK-only ones. Spans go to whatever tracer
 * provider is registered (server.ts starts the SDK). No header is recorded, so tokens never
 * reach a span; `url.path` drops the query string. Hook and handler child spans are off: one
 * span per request is what the traces are for, and each span has a price on the hot paths.
 */
export const telemetryPlugin = fp(
  async (fastify: FastifyInstance) => {
    // Before the instrumentation's own onRoute hook, which skips routes with `otel: false`.
    fastify.addHook('onRoute', (route) => {
      if (sdkOnly(route.config?.access)) route.config = { ...route.config, otel: false }
    })
    const instrumentation = new FastifyOtelInstrumentation({
      instrumentHooks: false,
      instrumentHandler: false,
      ignorePaths: ({ url }) => untracedPaths.has(pathOf(url)),
      requestHook: (span, request) => {
        const route = request.routeOptions.url
        span.updateName(route === undefined ? request.method : `${request.method} ${route}`)
        span.setAttribute(attributeNames.urlPath, pathOf(request.url))
        holdErrors(span, request)
      },
    })
    await fastify.register(instrumentation.plugin())
    fastify.addHook('onSend', (request, reply, payload, done) => {
      releaseErrors(request, reply.statusCode)
      done(null, payload)
    })
  },
  { name: 'telemetry' },
)

import { hash } from 'node:crypto'
import type { Static } from '@fastify/type-provider-typebox'
import { type ClientFeaturesFilter, ForbiddenError, type SdkKind } from '@ringmaster/domain'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { MetricsBody, RegisterBody } from './client-api/client-api-schemas.js'

// Helpers shared by the SDK-facing routes: the Unleash client API, the frontend API and OFREP.

/** The ring an SDK token serves. */
export function sdkRing(request: FastifyRequest): string {
  const actor = request.requireActor()
  if (actor.ring === null) {
    throw new ForbiddenError(
      'token-without-ring',
      `token '${actor.tokenName}' is not bound to a ring; SDKs need a 'client' or 'frontend' token made with "ring"`,
    )
  }
  return actor.ring
}

/** Whether `If-None-Match` names `etag` (weak comparison, lists and `*` included). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const wanted = stripWeak(etag)
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || stripWeak(tag) === wanted
  })
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}

/** An ETag for a body that depends on the request (the frontend API, OFREP bulk). */
export function bodyEtag(body: string): string {
  return `"${hash('sha1', body, 'base64url')}"`
}

/** The `project`, `namePrefix` and `tag` query parameters Unleash SDKs send. */
export function clientFeaturesFilter(query: {
  project?: string[] | undefined
  namePrefix?: string | undefined
  tag?: string[] | undefined
}): ClientFeaturesFilter | undefined {
  if (!query.project?.length && !query.namePrefix && !query.tag?.length) return undefined
  return { projects: query.project, namePrefix: query.namePrefix, tags: query.tag }
}

/** The first header value; Node joins repeated headers, arrays only come from set-cookie. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The SDK instance: the body's `instanceId`, else the `unleash-instanceid` header. */
export function instanceIdOf(request: FastifyRequest, fromBody: string | undefined): string {
  return fromBody || headerValue(request.headers['unleash-instanceid']) || 'unknown'
}

/** Sends JSON serialized once for many requests; the route's schema documents its shape. */
export function sendJson(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body)
}

/** A response without a body: 202 (accepted) or 304 (not modified). */
export function sendEmpty(reply: FastifyReply, status: 202 | 304): FastifyReply {
  return reply.code(status).send()
}

/** `POST /api/client/register` and `/api/frontend/client/register`: remember the SDK instance. */
export function registerSdk(
  fastify: FastifyInstance,
  request: FastifyRequest,
  body: Static<typeof RegisterBody>,
  reply: FastifyReply,
  kind: SdkKind,
): FastifyReply {
  fastify.flagMetrics.register({
    ring: sdkRing(request),
    kind,
    appName: body.appName,
    instanceId: instanceIdOf(request, body.instanceId),
    sdkVersion: body.sdkVersion ?? headerValue(request.headers['unleash-sdk']) ?? null,
    strategies: body.strategies ?? [],
    startedAt: body.started ?? null,
    intervalMs: body.interval === undefined ? null : Number(body.interval),
  })
  return sendEmpty(reply, 202)
}

/** The two metrics routes: counts of flags the ring has are kept, the rest dropped. */
export async function recordSdkMetrics(
  fastify: FastifyInstance,
  request: FastifyRequest,
  body: Static<typeof MetricsBody>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const ring = sdkRing(request)
  const snapshot = await fastify.flagSnapshots.get(ring)
  const recorded = fastify.flagMetrics.record(ring, body, (flag) =>
    snapshot.compiled.flags.has(flag),
  )
  if (recorded.overflow) request.log.warn({ ring }, 'flag metrics dropped: too many waiting')
  return sendEmpty(reply, 202)
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { acceptsSeparateSegments, revisionOfEtag } from '@ringmaster/domain'
import type { FastifyRequest } from 'fastify'
import { problemResponses } from '../../schemas/problem.js'
import {
  clientFeaturesFilter,
  headerValue,
  ifNoneMatch,
  recordSdkMetrics,
  registerSdk,
  sdkRing,
  sendEmpty,
  sendJson,
} from '../sdk-request.js'
import {
  Accepted,
  ClientFeatures,
  ClientFeaturesDelta,
  ClientFeaturesQuery,
  MetricsBody,
  NotModified,
  RegisterBody,
  SdkHeaders,
} from './client-api-schemas.js'

/**
 * The Unleash client API for server-side SDKs. The ring is the one the `client` token is bound
 * to; answers come from the ring's in-memory snapshot (see flag-snapshots), never the database.
 */
export const clientApiRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/api/client/features',
    {
      config: { access: ['client'] },
      schema: {
        operationId: 'getClientFeatures',
        summary: "The ring's flags for Unleash server-side SDKs",
        description:
          'The body of Unleash\'s client features API. Send the ETag back in If-None-Match to get a 304 while nothing changed. SDKs sending Unleash-Client-Spec 4.2.0 or later get segments as a separate list; older SDKs get segment constraints copied into each strategy. Authenticate with the token as the whole Authorization header, as Unleash SDKs do, or as "Bearer <token>".',
        tags: ['client-api'],
        headers: SdkHeaders,
        querystring: ClientFeaturesQuery,
        response: {
          200: ClientFeatures,
          304: NotModified,
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request, reply) => {
      const snapshot = await fastify.flagSnapshots.get(sdkRing(request))
      const inline = !acceptsSeparateSegments(headerValue(request.headers['unleash-client-spec']))
      const served = fastify.flagSnapshots.clientFeatures(
        snapshot,
        inline,
        clientFeaturesFilter(request.query),
      )
      reply.header('etag', served.etag).header('cache-control', 'no-cache')
      if (ifNoneMatch(request.headers['if-none-match'], served.etag)) return sendEmpty(reply, 304)
      return sendJson(reply, served.bytes)
    },
  )

  fastify.get(
    '/api/client/delta',
    {
      config: { access: ['client'] },
      schema: {
        operationId: 'getClientFeaturesDelta',
        summary: 'Changes to the ring since the revision the SDK has',
        description:
          "The delta API of Unleash SDKs in `experimentalMode: { type: 'polling', format: 'delta' }`. The ETag names the revision; sent back in If-None-Match, it gets a 304 when nothing changed, the changed flags and segments (each once, as they are now) when the SDK is behind, and a hydration (everything) when it has no revision or one older than the kept change log.",
        tags: ['client-api'],
        headers: SdkHeaders,
        querystring: ClientFeaturesQuery,
        response: {
          200: ClientFeaturesDelta,
          304: NotModified,
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request, reply) => {
      const snapshot = await fastify.flagSnapshots.get(sdkRing(request))
      const filter = clientFeaturesFilter(request.query)
      const since = deltaRevision(request, snapshot.view.queryHash('delta', filter))
      const answer = fastify.flagSnapshots.delta(snapshot, since, filter)
      reply.header('etag', answer.etag).header('cache-control', 'no-cache')
      if (answer.upToDate) return sendEmpty(reply, 304)
      return sendJson(reply, answer.bytes)
    },
  )

  fastify.post(
    '/api/client/register',
    {
      config: { access: ['client'] },
      schema: {
        operationId: 'registerClient',
        summary: 'An Unleash SDK says it started',
        tags: ['client-api'],
        headers: SdkHeaders,
        body: RegisterBody,
        response: { 202: Accepted, ...problemResponses(400, 401, 403, 415) },
      },
    },
    async (request, reply) => registerSdk(fastify, request, request.body, reply, 'client'),
  )

  fastify.post(
    '/api/client/metrics',
    {
      config: { access: ['client'] },
      schema: {
        operationId: 'postClientMetrics',
        summary: 'Evaluation counts from an Unleash SDK',
        description:
          'Counts are kept per flag, ring and hour (on, off, per variant) and shown by GET /v1/flags/{key}/metrics. Counts of flags the ring does not have are dropped.',
        tags: ['client-api'],
        headers: SdkHeaders,
        body: MetricsBody,
        response: { 202: Accepted, ...problemResponses(400, 401, 403, 415, 503) },
      },
    },
    async (request, reply) => recordSdkMetrics(fastify, request, request.body, reply),
  )
}

/** The revision a delta client has, from the ETag it sends back (ours, for this query). */
function deltaRevision(request: FastifyRequest, queryHash: string): number | undefined {
  const header = request.headers['if-none-match']
  if (!header) return undefined
  for (const candidate of header.split(',')) {
    const revision = revisionOfEtag(candidate, queryHash)
    if (revision !== undefined) return revision
  }
  return undefined
}

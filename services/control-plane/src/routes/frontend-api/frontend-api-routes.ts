import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unleashContext } from '@ringmaster/domain'
import { evaluateAllJsonWithDigest } from '@ringmaster/flag-evaluator'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { problemResponses } from '../../schemas/problem.js'
import {
  Accepted,
  MetricsBody,
  NotModified,
  RegisterBody,
} from '../client-api/client-api-schemas.js'
import {
  headerValue,
  ifNoneMatch,
  recordSdkMetrics,
  registerSdk,
  sdkRing,
  sendEmpty,
  sendJson,
} from '../sdk-request.js'
import {
  FrontendBody,
  FrontendHeaders,
  FrontendQuery,
  FrontendToggles,
} from './frontend-api-schemas.js'

const description =
  "Evaluates the ring's flags for one context like Unleash's frontend API (for unleash-proxy-client and the browser SDKs on it): lists only the flags that are on, each with its variant. remoteAddress defaults to the caller's. Send the ETag back in If-None-Match for a 304 while it holds."

/**
 * The frontend API for browser SDKs (`frontend` tokens). Browsers call it from other origins;
 * the CORS plugin answers their preflights.
 */
export const frontendApiRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    fields: Record<string, unknown>,
  ) => {
    const snapshot = await fastify.flagSnapshots.get(sdkRing(request))
    const context = unleashContext(fields)
    context.remoteAddress ??= request.ip
    // The digest names the toggles' JSON without hashing the body (a SHA-1 of it was a tenth of
    // the request's time): equal answers get equal ETags, whatever the revision.
    const { json, digest } = evaluateAllJsonWithDigest(snapshot.compiled, context)
    const body = `{"toggles":${json}}`
    const etag = `"${digest}"`
    reply.header('etag', etag).header('cache-control', 'no-cache')
    if (ifNoneMatch(headerValue(request.headers['if-none-match']), etag)) {
      return sendEmpty(reply, 304)
    }
    return sendJson(reply, body)
  }

  fastify.get(
    '/api/frontend',
    {
      config: { access: ['frontend'] },
      schema: {
        operationId: 'getFrontendToggles',
        summary: 'The flags that are on for a context given in the query',
        description,
        tags: ['frontend-api'],
        headers: FrontendHeaders,
        querystring: FrontendQuery,
        response: {
          200: FrontendToggles,
          304: NotModified,
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request, reply) => answer(request, reply, request.query),
  )

  fastify.post(
    '/api/frontend',
    {
      config: { access: ['frontend'] },
      schema: {
        operationId: 'postFrontendToggles',
        summary: 'The flags that are on for a context given in the body',
        description,
        tags: ['frontend-api'],
        headers: FrontendHeaders,
        body: FrontendBody,
        response: {
          200: FrontendToggles,
          304: NotModified,
          ...problemResponses(400, 401, 403, 415, 503),
        },
      },
    },
    async (request, reply) => answer(request, reply, request.body.context ?? {}),
  )

  fastify.post(
    '/api/frontend/client/metrics',
    {
      config: { access: ['frontend'] },
      schema: {
        operationId: 'postFrontendMetrics',
        summary: 'Evaluation counts from a browser SDK',
        description:
          'Counts are kept per flag, ring and hour and shown by GET /v1/flags/{key}/metrics. Browser SDKs count flags the ring does not have too; those counts are dropped.',
        tags: ['frontend-api'],
        headers: FrontendHeaders,
        body: MetricsBody,
        response: { 202: Accepted, ...problemResponses(400, 401, 403, 415, 503) },
      },
    },
    async (request, reply) => recordSdkMetrics(fastify, request, request.body, reply),
  )

  fastify.post(
    '/api/frontend/client/register',
    {
      config: { access: ['frontend'] },
      schema: {
        operationId: 'registerFrontendClient',
        summary: 'A browser SDK says it started',
        tags: ['frontend-api'],
        headers: FrontendHeaders,
        body: RegisterBody,
        response: { 202: Accepted, ...problemResponses(400, 401, 403, 415) },
      },
    },
    async (request, reply) => registerSdk(fastify, request, request.body, reply, 'frontend'),
  )
}

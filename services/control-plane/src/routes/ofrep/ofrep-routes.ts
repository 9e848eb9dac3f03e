import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  DomainError,
  evaluateOfrep,
  evaluateOfrepAll,
  InvalidContextError,
  isOfrepFailure,
  ofrepContext,
  UnavailableError,
} from '@ringmaster/domain'
import type { FastifyError, FastifyReply } from 'fastify'
import { problemResponses } from '../../schemas/problem.js'
import { bodyEtag, headerValue, ifNoneMatch, sdkRing, sendEmpty, sendJson } from '../sdk-request.js'
import {
  OfrepBulkFailure,
  OfrepBulkSuccess,
  OfrepFailure,
  OfrepGeneralError,
  OfrepHeaders,
  OfrepParams,
  OfrepRequest,
  OfrepSuccess,
  ofrepJson,
} from './ofrep-schemas.js'

const jsonContentType = 'application/json; charset=utf-8'
const statusOf = { FLAG_NOT_FOUND: 404, GENERAL: 500 } as Record<string, number>

const send = (reply: FastifyReply, status: number, body: unknown) =>
  reply.code(status).type(jsonContentType).send(JSON.stringify(body))

/**
 * The OpenFeature Remote Evaluation Protocol over the ring of a `client` or `frontend` token, so
 * any OpenFeature SDK with an OFREP provider can use Ringmaster flags. Errors here take the
 * protocol's shapes; only authentication problems stay problem+json like the rest of the API.
 */
export const ofrepRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const key = (request.params as { key?: string } | undefined)?.key
    const withKey = (body: Record<string, string>) => (key === undefined ? body : { key, ...body })
    if (error instanceof InvalidContextError) {
      return send(
        reply,
        400,
        withKey({ errorCode: 'INVALID_CONTEXT', errorDetails: error.message }),
      )
    }
    if (
      error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
    ) {
      throw error
    }
    if (error.validation) {
      const issues = error.validation.map(
        (issue) => `${error.validationContext ?? 'body'}${issue.instancePath} ${issue.message}`,
      )
      // A body that parsed but holds a context of the wrong shape is an invalid context.
      const inContext = error.validation.every((issue) => issue.instancePath.startsWith('/context'))
      return send(
        reply,
        400,
        withKey({
          errorCode: inContext ? 'INVALID_CONTEXT' : 'PARSE_ERROR',
          errorDetails: issues.join('; '),
        }),
      )
    }
    if (error.code?.startsWith('FST_ERR_CTP_')) {
      return send(reply, 400, withKey({ errorCode: 'PARSE_ERROR', errorDetails: error.message }))
    }
    if (error instanceof UnavailableError) {
      return send(reply, 503, { errorDetails: error.message })
    }
    // Authentication, roles and other client errors: the shared problem responses.
    if (error instanceof DomainError || (error.statusCode ?? 500) < 500) throw error
    request.log.error({ err: error }, 'OFREP evaluation failed')
    return send(reply, 500, {
      errorDetails: `the evaluation failed; quote request id ${request.id} when reporting it`,
    })
  })

  fastify.post(
    '/ofrep/v1/evaluate/flags/:key',
    {
      config: { access: ['client', 'frontend'] },
      schema: {
        operationId: 'ofrepEvaluateFlag',
        summary: 'Evaluate one flag (OpenFeature Remote Evaluation Protocol)',
        description:
          "OFREP single flag evaluation in the token's ring. `context.targetingKey` is the Unleash userId. A flag without variants answers true or false (variant `on`/`off`); a flag with variants answers the chosen variant's payload, or no value (use the code default) when none applies. A flag that targets users by id answers TARGETING_KEY_MISSING when it is off only because the context has no targetingKey.",
        tags: ['ofrep'],
        params: OfrepParams,
        body: OfrepRequest,
        response: {
          200: ofrepJson(OfrepSuccess, 'The evaluation'),
          400: ofrepJson(OfrepFailure, 'PARSE_ERROR, INVALID_CONTEXT or TARGETING_KEY_MISSING'),
          404: ofrepJson(OfrepFailure, 'FLAG_NOT_FOUND'),
          500: ofrepJson(OfrepGeneralError, 'The evaluation failed'),
          503: ofrepJson(OfrepGeneralError, "The ring's flags cannot be read right now"),
          ...problemResponses(401, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const snapshot = await fastify.flagSnapshots.get(sdkRing(request))
      const context = ofrepContext(request.body.context)
      const evaluation = evaluateOfrep(snapshot.compiled, request.params.key, context)
      if (!isOfrepFailure(evaluation)) return send(reply, 200, evaluation)
      return send(reply, statusOf[evaluation.errorCode] ?? 400, evaluation)
    },
  )

  fastify.post(
    '/ofrep/v1/evaluate/flags',
    {
      config: { access: ['client', 'frontend'] },
      schema: {
        operationId: 'ofrepEvaluateFlags',
        summary: 'Evaluate every flag of the ring (OpenFeature Remote Evaluation Protocol)',
        description:
          'OFREP bulk evaluation for static-context providers (web, mobile): every flag of the ring, each as in the single evaluation (per-flag errors are entries with errorCode). The ETag names the answer; send it back in If-None-Match for a 304 while it holds.',
        tags: ['ofrep'],
        headers: OfrepHeaders,
        body: OfrepRequest,
        response: {
          200: ofrepJson(OfrepBulkSuccess, 'Every flag of the ring'),
          304: { description: 'Not modified: the ETag still names the answer', type: 'null' },
          400: ofrepJson(OfrepBulkFailure, 'PARSE_ERROR or INVALID_CONTEXT'),
          500: ofrepJson(OfrepGeneralError, 'The evaluation failed'),
          503: ofrepJson(OfrepGeneralError, "The ring's flags cannot be read right now"),
          ...problemResponses(401, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const snapshot = await fastify.flagSnapshots.get(sdkRing(request))
      const context = ofrepContext(request.body.context)
      const body = JSON.stringify({ flags: evaluateOfrepAll(snapshot.compiled, context) })
      const etag = bodyEtag(body)
      reply.header('etag', etag).header('cache-control', 'no-cache')
      if (ifNoneMatch(headerValue(request.headers['if-none-match']), etag)) {
        return sendEmpty(reply, 304)
      }
      return sendJson(reply, body)
    },
  )
}

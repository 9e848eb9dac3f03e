import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { isDatabaseUnavailableError } from '@ringmaster/db'
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from '@ringmaster/domain'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Problem } from '../../schemas/problem.js'

const problemContentType = 'application/problem+json; charset=utf-8'

const domainStatuses: [typeof DomainError, number][] = [
  [InvalidInputError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnavailableError, 503],
]

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  408: 'Request timeout',
  413: 'Request body too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal server error',
  503: 'Service unavailable',
}

/** Fastify's own client errors, by code, with the stable problem type each becomes. */
const fastifyErrorTypes: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid-content-length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty-body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_BAD_URL: 'bad-url',
  FST_ERR_MAX_PARAM_LENGTH: 'path-parameter-too-long',
}

/** Seconds a client is told to wait before trying again when the database is away. */
export const databaseRetryAfterSeconds = 2

/**
 * The answer to a request that needs the database while it cannot be reached (refused by the
 * availability gate, or a query that failed to connect or timed out): a 503 a client can retry,
 * never a 500 and never a wait.
 */
export function sendDatabaseUnavailable(request: FastifyRequest, reply: FastifyReply) {
  reply.header('retry-after', String(databaseRetryAfterSeconds))
  return sendProblem(request, reply, {
    status: 503,
    type: 'database-unavailable',
    detail: `the database cannot be reached right now; flag reads go on from memory, everything else can be retried in ${databaseRetryAfterSeconds} s`,
  })
}

export interface ProblemInit {
  status: number
  type: string
  detail: string
  extra?: Record<string, unknown> | undefined
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, init: ProblemInit) {
  const problem: Problem = {
    ...init.extra,
    type: `/problems/${init.type}`,
    title: titles[init.status] ?? 'Error',
    status: init.status,
    detail: init.detail,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: String(request.id),
  }
  if (init.status === 401) reply.header('www-authenticate', 'Bearer realm="ringmaster"')
  return reply.code(init.status).type(problemContentType).send(problem)
}

/**
 * Errors Fastify raises before a route is found (a malformed percent-encoding, a path
 * parameter longer than the router takes): without this they are plain JSON.
 */
export function sendFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400
  return sendProblem(request, reply, {
    status,
    type: fastifyErrorTypes[error.code] ?? 'bad-request',
    detail:
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a path parameter is longer than 100 characters; no name or id is that long'
        : error.code === 'FST_ERR_BAD_URL'
          ? 'the path has a malformed percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8)'
          : error.message,
  })
}

/** Node's HTTP parser refuses some requests before Fastify sees them; they get a problem too. */
const parserErrors: Record<string, { status: number; type: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    type: 'headers-too-large',
    detail: 'the request line and headers exceed 16 kB; send a shorter query or fewer headers',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    type: 'request-timeout',
    detail: 'the request was not received in time',
  },
}

/**
 * The server's `clientError` handler (Fastify's `clientErrorHandler`): answers with a problem
 * document on the raw socket, since there is no request object yet, and closes it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = parserErrors[error.code ?? '']
  const problem = known ?? {
    status: 400,
    type: 'malformed-request',
    detail: 'the request is not valid HTTP/1.1',
  }
  const body = JSON.stringify({
    type: `/problems/${problem.type}`,
    title: titles[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.detail,
  })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${problemContentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}

/**
 * One place turns every error into application/problem+json. Client mistakes get a 4xx with a
 * message a person can act on; anything else is a 500 whose details go to the log only.
 */
export const errorHandlerPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        const status = domainStatuses.find(([type]) => error instanceof type)?.[1] ?? 400
        return sendProblem(request, reply, {
          status,
          type: error.code,
          detail: error.message,
          extra: error.details,
        })
      }
      if (error.validation) {
        const errors = withoutAlternativeNoise(error.validation).map((issue) =>
          describeValidationIssue(error, issue),
        )
        return sendProblem(request, reply, {
          status: 400,
          type: 'validation-failed',
          detail: errors.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
          extra: { errors },
        })
      }
      if (isDatabaseUnavailableError(error)) {
        request.log.warn({ err: error }, 'the database cannot be reached')
        return sendDatabaseUnavailable(request, reply)
      }
      const status = error.statusCode ?? 500
      if (status >= 400 && status < 500) {
        return sendProblem(request, reply, {
          status,
          type: fastifyErrorTypes[error.code] ?? 'bad-request',
          detail:
            error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? `content type '${request.headers['content-type']}' is not accepted; send JSON with Content-Type: application/json`
              : error.message,
        })
      }
      request.log.error({ err: error }, 'request failed')
      return sendProblem(request, reply, {
        status: status >= 500 && status < 600 ? status : 500,
        type: 'internal-error',
        detail: 'The server could not complete the request. Quote the requestId when reporting it.',
      })
    })

    fastify.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, {
        status: 404,
        type: 'route-not-found',
        detail: `no route ${request.method} ${request.url.split('?')[0]}; the API is described at /docs`,
      }),
    )
  },
  { name: 'error-handler' },
)

interface ValidationIssue {
  instancePath: string
  keyword: string
  message?: string | undefined
  params: Record<string, unknown>
}

/**
 * A nullable model is `anyOf: [model, null]` once it is a `$ref`: a bad gate then also fails the
 * null branch ("must be null") and the anyOf itself ("must match a schema in anyOf"). Those two say
 * nothing the model's own errors do not, so they are dropped while any other error remains.
 */
function withoutAlternativeNoise(issues: ValidationIssue[]): ValidationIssue[] {
  const noise = (issue: ValidationIssue) =>
    issue.keyword === 'anyOf' ||
    issue.keyword === 'oneOf' ||
    (issue.keyword === 'type' && issue.params.type === 'null')
  const kept = issues.filter((issue) => !noise(issue))
  return kept.length > 0 ? kept : issues
}

function describeValidationIssue(
  error: FastifyError,
  issue: ValidationIssue,
): { path: string; message: string } {
  const part = error.validationContext ?? 'body'
  const base = `${part}${issue.instancePath}`
  switch (issue.keyword) {
    case 'additionalProperties':
      return {
        path: `${base}/${String(issue.params.additionalProperty)}`,
        message: `unknown field '${String(issue.params.additionalProperty)}' is not allowed`,
      }
    case 'required':
      return {
        path: `${base}/${String(issue.params.missingProperty)}`,
        message: `'${String(issue.params.missingProperty)}' is required`,
      }
    case 'enum':
      return {
        path: base,
        message: `must be one of ${(issue.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`,
      }
    default:
      return { path: base, message: issue.message ?? 'is invalid' }
  }
}

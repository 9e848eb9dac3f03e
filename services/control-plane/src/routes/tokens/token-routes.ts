import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { ApiToken, CreateTokenBody, IssuedToken, TokenList, TokenParams } from './token-schemas.js'

export const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/tokens',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'createToken',
        summary: 'Create an API token; the secret is returned once',
        tags: ['tokens'],
        headers: IdempotencyHeaders,
        body: CreateTokenBody,
        response: { 201: IssuedToken, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const issued = await fastify.tokens.create(request.commandContext(), request.body)
      return reply.code(201).header('cache-control', 'no-store').send(issued)
    },
  )

  fastify.get(
    '/v1/tokens',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'listTokens',
        summary: 'List API tokens (never their secrets)',
        tags: ['tokens'],
        response: { 200: TokenList, ...problemResponses(401, 403) },
      },
    },
    async () => ({ tokens: await fastify.tokens.list() }),
  )

  fastify.delete(
    '/v1/tokens/:id',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'revokeToken',
        summary: 'Revoke an API token; it stops working at once',
        tags: ['tokens'],
        headers: IdempotencyHeaders,
        params: TokenParams,
        response: { 200: ApiToken, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.tokens.revoke(request.commandContext(), request.params.id),
  )
}

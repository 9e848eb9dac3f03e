import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { Type } from 'typebox'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { CreateRingBody, Ring, RingList, RingParams, UpdateRingBody } from './ring-schemas.js'

export const ringRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/rings',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'createRing',
        summary: 'Create a deployment ring',
        tags: ['rings'],
        headers: IdempotencyHeaders,
        body: CreateRingBody,
        response: { 201: Ring, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const ring = await fastify.topology.createRing(request.commandContext(), request.body)
      return reply.code(201).header('location', `/v1/rings/${ring.name}`).send(ring)
    },
  )

  fastify.get(
    '/v1/rings',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listRings',
        summary: 'List rings in rollout order',
        tags: ['rings'],
        response: { 200: RingList, ...problemResponses(401, 403) },
      },
    },
    async () => ({ rings: await fastify.topology.listRings() }),
  )

  fastify.get(
    '/v1/rings/:name',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getRing',
        summary: 'Get one ring with its policy and scale units',
        tags: ['rings'],
        params: RingParams,
        response: { 200: Ring, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.topology.getRing(request.params.name),
  )

  fastify.patch(
    '/v1/rings/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'updateRing',
        summary: "Change a ring's order, description or policy",
        description:
          'Policy fields that are sent replace the stored ones; the others keep their value.',
        tags: ['rings'],
        headers: IdempotencyHeaders,
        params: RingParams,
        body: UpdateRingBody,
        response: { 200: Ring, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.topology.updateRing(request.commandContext(), request.params.name, request.body),
  )

  fastify.delete(
    '/v1/rings/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'deleteRing',
        summary: 'Delete a ring that has no scale units',
        tags: ['rings'],
        headers: IdempotencyHeaders,
        params: RingParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...problemResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      await fastify.topology.deleteRing(request.commandContext(), request.params.name)
      return reply.code(204).send(null)
    },
  )
}

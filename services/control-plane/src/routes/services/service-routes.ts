import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { CreateServiceBody, Service, ServiceList, ServiceParams } from './service-schemas.js'

export const serviceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/services',
    {
      config: { access: ['admin', 'pipeline'] },
      schema: {
        operationId: 'createService',
        summary: 'Register a service that will be released through the rings',
        tags: ['services'],
        headers: IdempotencyHeaders,
        body: CreateServiceBody,
        response: { 201: Service, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const service = await fastify.topology.createService(request.commandContext(), request.body)
      return reply.code(201).header('location', `/v1/services/${service.name}`).send(service)
    },
  )

  fastify.get(
    '/v1/services',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listServices',
        summary: 'List services',
        tags: ['services'],
        response: { 200: ServiceList, ...problemResponses(401, 403) },
      },
    },
    async () => ({ services: await fastify.topology.listServices() }),
  )

  fastify.get(
    '/v1/services/:name',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getService',
        summary: 'Get one service',
        tags: ['services'],
        params: ServiceParams,
        response: { 200: Service, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.topology.getService(request.params.name),
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { Type } from 'typebox'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  CreateScaleUnitBody,
  ScaleUnit,
  ScaleUnitList,
  ScaleUnitParams,
  ScaleUnitQuery,
  UpdateScaleUnitBody,
} from './scale-unit-schemas.js'

export const scaleUnitRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/scale-units',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'createScaleUnit',
        summary: 'Create a scale unit in a region and assign it to a ring',
        tags: ['scale-units'],
        headers: IdempotencyHeaders,
        body: CreateScaleUnitBody,
        response: { 201: ScaleUnit, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const unit = await fastify.topology.createScaleUnit(request.commandContext(), request.body)
      return reply.code(201).header('location', `/v1/scale-units/${unit.name}`).send(unit)
    },
  )

  fastify.get(
    '/v1/scale-units',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listScaleUnits',
        summary: 'List scale units, optionally by ring or region',
        tags: ['scale-units'],
        querystring: ScaleUnitQuery,
        response: { 200: ScaleUnitList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => ({ scaleUnits: await fastify.topology.listScaleUnits(request.query) }),
  )

  fastify.get(
    '/v1/scale-units/:name',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getScaleUnit',
        summary: 'Get one scale unit',
        tags: ['scale-units'],
        params: ScaleUnitParams,
        response: { 200: ScaleUnit, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.topology.getScaleUnit(request.params.name),
  )

  fastify.patch(
    '/v1/scale-units/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'updateScaleUnit',
        summary: 'Change a scale unit; a new ring moves it (audited as scale-unit.moved)',
        tags: ['scale-units'],
        headers: IdempotencyHeaders,
        params: ScaleUnitParams,
        body: UpdateScaleUnitBody,
        response: { 200: ScaleUnit, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.topology.updateScaleUnit(request.commandContext(), request.params.name, request.body),
  )

  fastify.delete(
    '/v1/scale-units/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'deleteScaleUnit',
        summary: 'Delete a scale unit (its region pair, if any, is unpaired)',
        tags: ['scale-units'],
        headers: IdempotencyHeaders,
        params: ScaleUnitParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      await fastify.topology.deleteScaleUnit(request.commandContext(), request.params.name)
      return reply.code(204).send(null)
    },
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { Type } from 'typebox'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { PutSegmentBody, Segment, SegmentList, SegmentParams } from '../flags/flag-schemas.js'

export const segmentRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.put(
    '/v1/segments/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'putSegment',
        summary: 'Create or replace a segment',
        description:
          'A segment is a named set of constraints strategies share. Changing one changes every flag that uses it, in every ring.',
        tags: ['segments'],
        headers: IdempotencyHeaders,
        params: SegmentParams,
        body: PutSegmentBody,
        response: { 200: Segment, 201: Segment, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { segment, created } = await fastify.flags.putSegment(
        request.commandContext(),
        request.params.name,
        request.body,
      )
      if (created) {
        reply.code(201).header('location', `/v1/segments/${encodeURIComponent(segment.name)}`)
      }
      return reply.send(segment)
    },
  )

  fastify.get(
    '/v1/segments',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listSegments',
        summary: 'List segments',
        tags: ['segments'],
        response: { 200: SegmentList, ...problemResponses(401, 403) },
      },
    },
    async () => ({ segments: await fastify.flags.listSegments() }),
  )

  fastify.get(
    '/v1/segments/:name',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getSegment',
        summary: 'Get one segment',
        tags: ['segments'],
        params: SegmentParams,
        response: { 200: Segment, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.flags.getSegment(request.params.name),
  )

  fastify.delete(
    '/v1/segments/:name',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'deleteSegment',
        summary: 'Delete a segment no flag uses',
        description: 'A segment still used by a strategy is a 409 naming the flags.',
        tags: ['segments'],
        headers: IdempotencyHeaders,
        params: SegmentParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...problemResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      await fastify.flags.deleteSegment(request.commandContext(), request.params.name)
      return reply.code(204).send(null)
    },
  )
}

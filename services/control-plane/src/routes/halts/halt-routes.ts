import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, haltScopes, humanRoles } from '@ringmaster/domain'
import { Type } from 'typebox'
import { IdempotencyHeaders, Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { Reason } from '../releases/release-schemas.js'

export const Halt = Type.Object(
  {
    id: Type.Integer({ description: 'The halt id' }),
    scope: StringEnum(haltScopes, 'global (everything), service or ring'),
    target: Nullable(Type.String({ description: 'The service or ring halted; null for global' })),
    reason: Type.String({ description: 'Why the line was stopped' }),
    createdBy: Type.String({ description: 'Who stopped it' }),
    createdAt: Timestamp('When'),
    liftedBy: Nullable(Type.String({ description: 'Who lifted it' })),
    liftedAt: Nullable(Timestamp('When it was lifted; null while it holds')),
    incidentId: Nullable(
      Type.Integer({
        description:
          'The incident declared with halt: true that opened it; null for a halt of its own',
      }),
    ),
  },
  {
    $id: 'Halt',
    description: 'A stop of the line: no new wave starts where it holds',
    additionalProperties: false,
  },
)

const CreateHaltBody = Type.Object(
  {
    scope: StringEnum(haltScopes, 'global (everything), service or ring'),
    target: Type.Optional(Name('The service or ring to halt; omit for global')),
    reason: Reason('Why; shown to everyone whose release waits'),
  },
  { additionalProperties: false },
)

const HaltParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The halt id' }) },
  { additionalProperties: false },
)

const HaltQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean({ description: 'Only halts that still hold' })),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 500,
        default: 100,
        description: 'Page size (ignored with active)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const haltRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/halts',
    {
      config: { access: humanRoles },
      schema: {
        operationId: 'createHalt',
        summary: 'Stop the line: no new wave starts anywhere the halt covers',
        description:
          'Any person may stop the line (pipeline tokens may not). The halt is atomic: once this returns, no new wave starts under it; deployments already running may finish and report.',
        tags: ['halts'],
        headers: IdempotencyHeaders,
        body: CreateHaltBody,
        response: { 201: Halt, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const halt = await fastify.stopTheLine.createHalt(request.commandContext(), request.body)
      return reply.code(201).header('location', `/v1/halts/${halt.id}`).send(halt)
    },
  )

  fastify.get(
    '/v1/halts',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listHalts',
        summary: 'List halts, newest first, or only the ones that hold',
        tags: ['halts'],
        querystring: HaltQuery,
        response: {
          200: Type.Object(
            { halts: Type.Array(Halt, { description: 'The halts' }) },
            { additionalProperties: false },
          ),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({ halts: await fastify.stopTheLine.listHalts(request.query) }),
  )

  fastify.delete(
    '/v1/halts/:id',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'liftHalt',
        summary: 'Lift a halt; waiting releases go on (lifting a lifted halt is harmless)',
        tags: ['halts'],
        headers: IdempotencyHeaders,
        params: HaltParams,
        response: { 200: Halt, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.stopTheLine.liftHalt(request.commandContext(), request.params.id),
  )
}

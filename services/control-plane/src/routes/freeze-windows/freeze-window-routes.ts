import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, haltScopes } from '@ringmaster/domain'
import { Type } from 'typebox'
import { IdempotencyHeaders, Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { Reason } from '../releases/release-schemas.js'

export const WeeklySchedule = Type.Object(
  {
    daysOfWeek: Type.Array(
      Type.Integer({ minimum: 0, maximum: 6, description: '0 = Sunday … 6 = Saturday' }),
      {
        minItems: 1,
        maxItems: 7,
        uniqueItems: true,
        description: 'The days the window starts on',
      },
    ),
    start: Type.String({
      pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
      description: 'Start time, HH:MM in UTC',
    }),
    durationMinutes: Type.Integer({
      minimum: 1,
      maximum: 10080,
      description: 'How long each occurrence lasts',
    }),
  },
  {
    $id: 'WeeklySchedule',
    additionalProperties: false,
    description: 'A weekly recurring window, in UTC',
  },
)

export const FreezeWindow = Type.Object(
  {
    id: Type.Integer({ description: 'The freeze window id' }),
    name: Type.String({ description: 'A name people recognise, e.g. black friday' }),
    scope: StringEnum(haltScopes, 'global, service or ring'),
    target: Nullable(Type.String({ description: 'The service or ring frozen; null for global' })),
    startsAt: Nullable(Timestamp('Start of a one-off window')),
    endsAt: Nullable(Timestamp('End of a one-off window')),
    schedule: Nullable(WeeklySchedule),
    reason: Type.String({ description: 'Why promotions wait' }),
    createdBy: Type.String({ description: 'Who created it' }),
    createdAt: Timestamp('When'),
    activeUntil: Nullable(
      Timestamp('When the window is in force now, when it ends; otherwise null'),
    ),
  },
  {
    $id: 'FreezeWindow',
    description: 'A planned period when promotions into the rings it covers wait',
    additionalProperties: false,
  },
)

const CreateFreezeWindowBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'A name people recognise, e.g. black friday',
    }),
    scope: StringEnum(haltScopes, 'global, service or ring'),
    target: Type.Optional(Name('The service or ring to freeze; omit for global')),
    startsAt: Type.Optional(Timestamp('Start of a one-off window (with endsAt)')),
    endsAt: Type.Optional(Timestamp('End of a one-off window (with startsAt)')),
    schedule: Type.Optional(WeeklySchedule),
    reason: Reason('Why promotions must wait'),
  },
  { additionalProperties: false },
)

const FreezeWindowParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The freeze window id' }) },
  { additionalProperties: false },
)

export const freezeWindowRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/freeze-windows',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'createFreezeWindow',
        summary: 'Plan a freeze: promotions into the rings it covers wait while it is in force',
        description:
          'Either a one-off period (startsAt and endsAt) or a weekly schedule. Releases already in a ring finish it; they wait before entering the next one. An admin may override it for one release and ring, with a reason.',
        tags: ['freeze-windows'],
        headers: IdempotencyHeaders,
        body: CreateFreezeWindowBody,
        response: { 201: FreezeWindow, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const window = await fastify.stopTheLine.createFreezeWindow(
        request.commandContext(),
        request.body,
      )
      return reply.code(201).header('location', `/v1/freeze-windows/${window.id}`).send(window)
    },
  )

  fastify.get(
    '/v1/freeze-windows',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listFreezeWindows',
        summary: 'List freeze windows and whether each is in force now',
        tags: ['freeze-windows'],
        response: {
          200: Type.Object(
            { freezeWindows: Type.Array(FreezeWindow, { description: 'Oldest first' }) },
            { additionalProperties: false },
          ),
          ...problemResponses(401, 403),
        },
      },
    },
    async () => ({ freezeWindows: await fastify.stopTheLine.listFreezeWindows() }),
  )

  fastify.delete(
    '/v1/freeze-windows/:id',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'deleteFreezeWindow',
        summary: 'Delete a freeze window; releases waiting on it go on',
        tags: ['freeze-windows'],
        headers: IdempotencyHeaders,
        params: FreezeWindowParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      await fastify.stopTheLine.deleteFreezeWindow(request.commandContext(), request.params.id)
      return reply.code(204).send(null)
    },
  )
}

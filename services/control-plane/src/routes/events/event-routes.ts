import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, maxAuditPageSize } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Timestamp } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'

export const AuditEvent = Type.Object(
  {
    id: Type.Integer({ description: 'Increases with every change; pass it as `after` to page on' }),
    at: Timestamp('When the change committed'),
    actor: Type.String({ description: 'Subject of the token that made the change' }),
    action: Type.String({ description: 'What happened, e.g. ring.created, scale-unit.moved' }),
    subject: Type.String({ description: 'What it happened to, e.g. ring:ring-0' }),
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Details, usually `before` and `after`',
    }),
    requestId: Type.Union([Type.String(), Type.Null()], {
      description: 'The request that made the change',
    }),
  },
  {
    $id: 'AuditEvent',
    description: 'One recorded change: who did what to what, and when',
    additionalProperties: false,
  },
)

export const EventPage = Type.Object(
  {
    events: Type.Array(AuditEvent, { description: 'Oldest first' }),
    nextAfter: Type.Integer({
      description: 'Pass as `after` for the next page; unchanged when there is nothing newer',
    }),
  },
  { $id: 'AuditEventPage', description: 'A page of the audit trail', additionalProperties: false },
)

const EventQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, default: 0, description: 'Only events with a larger id' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: maxAuditPageSize,
        default: 100,
        description: 'Page size',
      }),
    ),
  },
  { additionalProperties: false },
)

export const eventRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/events',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listEvents',
        summary: 'Page through the audit trail, oldest first',
        description:
          'Every change is recorded in the same transaction as the change. Events appear in commit order, so polling with `after=<nextAfter>` never skips one.',
        tags: ['events'],
        querystring: EventQuery,
        response: { 200: EventPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) =>
      fastify.audit.listAfter(request.query.after ?? 0, request.query.limit ?? 100),
  )
}

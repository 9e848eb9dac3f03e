import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sendDatabaseUnavailable, sendProblem } from '../../plugins/infra/error-handler.js'
import { problemResponses } from '../../schemas/problem.js'

const Health = Type.Object(
  { status: Type.Literal('ok', { description: 'Always ok when the process answers' }) },
  { additionalProperties: false },
)

const Readiness = Type.Object(
  {
    status: Type.Literal('ready', { description: 'Always ready when the status is 200' }),
    database: Type.String({ description: 'pglite (embedded) or postgres' }),
    migration: Type.String({ description: 'The newest migration, applied' }),
  },
  { additionalProperties: false },
)

export const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is up',
        tags: ['health'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  fastify.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and is fully migrated',
        tags: ['health'],
        response: { 200: Readiness, ...problemResponses(503) },
      },
    },
    async (request, reply) => {
      // Known to be away: say so at once rather than wait for a query that will time out.
      if (!fastify.database.availability.available) return sendDatabaseUnavailable(request, reply)
      try {
        const status = await fastify.migrationStatus()
        if (status.migrated) {
          return {
            status: 'ready' as const,
            database: fastify.database.kind,
            migration: status.expected,
          }
        }
        return sendProblem(request, reply, {
          status: 503,
          type: 'not-migrated',
          detail: `the database is not migrated to ${status.expected} yet`,
        })
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed')
        void fastify.database.availability.probe()
        return sendDatabaseUnavailable(request, reply)
      }
    },
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, maxMetricsRangeDays } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Name, Nullable, Timestamp } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import { FlagParams } from './flag-schemas.js'

const Counts = {
  yes: Type.Integer({ description: 'Evaluations that answered on' }),
  no: Type.Integer({ description: 'Evaluations that answered off' }),
  variants: Type.Record(Type.String(), Type.Integer(), {
    description: 'Evaluations per variant name (including "disabled")',
  }),
}

const FlagMetrics = Type.Object(
  {
    flag: Type.String({ description: 'The flag' }),
    ring: Nullable(Type.String({ description: 'The ring asked for; null for every ring' })),
    from: Timestamp('Start of the range (inclusive)'),
    to: Timestamp('End of the range (exclusive)'),
    buckets: Type.Array(
      Type.Object(
        {
          ring: Type.String({ description: 'The ring' }),
          hour: Timestamp('Start of the hour'),
          ...Counts,
        },
        { additionalProperties: false, description: 'Counts of one ring in one hour' },
      ),
      { description: 'One per ring and hour with counts, oldest first' },
    ),
    totals: Type.Object(Counts, { additionalProperties: false, description: 'The sums' }),
  },
  { additionalProperties: false },
)

const FlagMetricsQuery = Type.Object(
  {
    ring: Type.Optional(Name('Only this ring')),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Default: 24 hours ago' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
  },
  { additionalProperties: false },
)

export const flagMetricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/flags/:key/metrics',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getFlagMetrics',
        summary: 'How often SDKs evaluated a flag, per ring and hour',
        description: `Counts reported by SDKs through /api/client/metrics and /api/frontend/client/metrics. At most ${maxMetricsRangeDays} days at a time.`,
        tags: ['flags'],
        params: FlagParams,
        querystring: FlagMetricsQuery,
        response: { 200: FlagMetrics, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.flagMetrics.list(request.params.key, request.query),
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { problemResponses } from '../../schemas/problem.js'
import { ReliabilityQuery, ReliabilityReport } from './report-schemas.js'

export const reportRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/reports/reliability',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getReliabilityReport',
        summary: 'MTTR, MTBF, availability (plain and traffic-weighted) and DORA over a window',
        description:
          'Computed from incidents and releases as they are now: an incident declared later for a past window changes that window. Each figure says how it is defined; docs/reliability-metrics.md has a worked example.',
        tags: ['reports'],
        querystring: ReliabilityQuery,
        response: { 200: ReliabilityReport, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => fastify.reports.reliability(request.query),
  )
}

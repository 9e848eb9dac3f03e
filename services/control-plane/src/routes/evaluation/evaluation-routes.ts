import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, explainFlags, unleashContext } from '@ringmaster/domain'
import { problemResponses } from '../../schemas/problem.js'
import { EvaluateBody, EvaluateResponse } from './evaluation-schemas.js'

export const evaluationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/evaluate',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'evaluateFlags',
        summary: 'Evaluate flags for a context and say why',
        description:
          "Evaluates the ring's flags (or the named ones) for one context exactly as the SDKs do, and explains each answer: which strategy matched, or for each strategy the constraint, rollout bucket, user list or segment that kept it off. Nothing is counted in the flag metrics.",
        tags: ['evaluation'],
        body: EvaluateBody,
        response: { 200: EvaluateResponse, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { ring, flags } = request.body
      await fastify.topology.getRing(ring)
      const snapshot = await fastify.flagSnapshots.get(ring)
      const context = unleashContext(request.body.context ?? {})
      const results = explainFlags(snapshot.compiled, context, flags).map(
        ({ flagName, ...explanation }) => ({ flag: flagName, ...explanation }),
      )
      return { ring, revision: snapshot.revision, context, results }
    },
  )
}

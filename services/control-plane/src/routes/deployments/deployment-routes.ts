import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  CompleteDeploymentBody,
  Deployment,
  DeploymentParams,
  DesiredState,
  HealthReportBody,
  HealthReportResult,
  ScaleUnitNameParams,
} from './deployment-schemas.js'

/** Executors (pipeline tokens) pull work, report progress and health; people retry failures. */
const executorRoles = ['pipeline', 'sre', 'admin'] as const

export const deploymentRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/scale-units/:name/desired',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getDesiredState',
        summary: 'What should run on a scale unit, and the open deployments an executor should do',
        description:
          'Executors poll this. Work of a halted release that has not started is left off until the release resumes; rollbacks always appear.',
        tags: ['deployments'],
        params: ScaleUnitNameParams,
        response: { 200: DesiredState, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.deployments.desiredState(request.params.name),
  )

  fastify.get(
    '/v1/deployments/:id',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getDeployment',
        summary: 'Get one deployment',
        tags: ['deployments'],
        params: DeploymentParams,
        response: { 200: Deployment, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.deployments.getDeployment(request.params.id),
  )

  fastify.post(
    '/v1/deployments/:id/start',
    {
      config: { access: executorRoles },
      schema: {
        operationId: 'startDeployment',
        summary: 'An executor starts a pending deployment (repeating it is harmless)',
        description:
          'Refused with 409 while the release or the line is halted: new work does not start then.',
        tags: ['deployments'],
        headers: IdempotencyHeaders,
        params: DeploymentParams,
        response: { 200: Deployment, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.deployments.start(request.commandContext(), request.params.id),
  )

  fastify.post(
    '/v1/deployments/:id/complete',
    {
      config: { access: executorRoles },
      schema: {
        operationId: 'completeDeployment',
        summary: 'An executor reports a deployment succeeded or failed (repeating it is harmless)',
        description:
          'Reporting the same result again returns the deployment unchanged; a different result for a finished deployment is a 409. A failure halts the release until the deployment is retried or the release rolled back.',
        tags: ['deployments'],
        headers: IdempotencyHeaders,
        params: DeploymentParams,
        body: CompleteDeploymentBody,
        response: { 200: Deployment, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.deployments.complete(request.commandContext(), request.params.id, request.body),
  )

  fastify.post(
    '/v1/deployments/:id/retry',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'retryDeployment',
        summary: 'Run a failed deployment again; a release halted only by it goes on',
        tags: ['deployments'],
        headers: IdempotencyHeaders,
        params: DeploymentParams,
        response: { 200: Deployment, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.deployments.retry(request.commandContext(), request.params.id),
  )

  fastify.post(
    '/v1/scale-units/:name/health',
    {
      config: { access: executorRoles },
      schema: {
        operationId: 'reportHealth',
        summary:
          'Report the health of a service on a scale unit; gates releases deploying or baking there',
        description:
          "An unhealthy status, or a signal past the ring's thresholds, fails the health gate of every release of the service deploying or baking on the scale unit: the release halts, and with autoRollback it is rolled back.",
        tags: ['deployments'],
        headers: IdempotencyHeaders,
        params: ScaleUnitNameParams,
        body: HealthReportBody,
        response: { 201: HealthReportResult, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const result = await fastify.deployments.reportHealth(
        request.commandContext(),
        request.params.name,
        request.body,
      )
      return reply.code(201).send(result)
    },
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, humanRoles } from '@ringmaster/domain'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  ApprovalBody,
  ApprovalResult,
  CreateReleaseBody,
  ReasonBody,
  ReleaseDetail,
  ReleaseHealth,
  ReleaseList,
  ReleaseParams,
  ReleaseQuery,
  StageParams,
} from './release-schemas.js'

export const releaseRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/releases',
    {
      config: { access: ['pipeline', 'admin'] },
      schema: {
        operationId: 'createRelease',
        summary: 'Create a release: a version of a service on its way through a range of rings',
        description:
          "The release is planned at once (one stage per ring, each split into waves of at most the ring's maxParallel, region pairs in different waves) and the promotion engine starts walking it. Older releases of the service that have not started become superseded. The token's subject is the requester, who can never approve it.",
        tags: ['releases'],
        headers: IdempotencyHeaders,
        body: CreateReleaseBody,
        response: { 201: ReleaseDetail, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const release = await fastify.releases.createRelease(request.commandContext(), request.body)
      return reply.code(201).header('location', `/v1/releases/${release.id}`).send(release)
    },
  )

  fastify.get(
    '/v1/releases',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listReleases',
        summary: 'List releases, newest first, by service and state',
        tags: ['releases'],
        querystring: ReleaseQuery,
        response: { 200: ReleaseList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50
      const releases = await fastify.releases.listReleases({
        service: request.query.service,
        state: request.query.state,
        beforeId: request.query.before,
        limit,
      })
      return { releases, nextBefore: releases.length === limit ? releases.at(-1)!.id : null }
    },
  )

  fastify.get(
    '/v1/releases/:id',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getRelease',
        summary:
          'Get a release with its stages, waves, deployments, approvals and what it waits for',
        tags: ['releases'],
        params: ReleaseParams,
        response: { 200: ReleaseDetail, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.releases.getRelease(request.params.id),
  )

  fastify.get(
    '/v1/releases/:id/health',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getReleaseHealth',
        summary:
          "The latest health report of each scale unit a release targets, against its ring's thresholds",
        tags: ['releases'],
        params: ReleaseParams,
        response: { 200: ReleaseHealth, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.deployments.releaseHealth(request.params.id),
  )

  fastify.post(
    '/v1/releases/:id/stages/:ring/approvals',
    {
      // Every role may call it; the ring's policy decides who may approve, and says why not.
      config: { access: anyRole },
      schema: {
        operationId: 'decideApproval',
        summary: 'Approve or reject the open approval gate of a release in a ring',
        description:
          "The ring's policy names the role that may approve (admins may always); the requester of a release never approves it, a pipeline token never approves, and each person counts once. A rejection fails the stage and stops the release. Once the wait expires (approvalTimeoutMinutes), 409 /problems/approval-expired.",
        tags: ['releases'],
        headers: IdempotencyHeaders,
        params: StageParams,
        body: ApprovalBody,
        response: { 201: ApprovalResult, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const result = await fastify.releases.decideApproval(
        request.commandContext(),
        request.params.id,
        request.params.ring,
        request.body,
      )
      return reply.code(201).send(result)
    },
  )

  fastify.post(
    '/v1/releases/:id/promote',
    {
      config: { access: ['approver', 'admin'] },
      schema: {
        operationId: 'promoteRelease',
        summary: 'Promote a release out of its current ring (may cut a bake short)',
        description:
          'Refused with 409 /problems/release-halted while any halt holds the release (a stop of the line covering its service and ring, an incident that stopped the line, or its own halt); the problem names each halt in `halts` and says how it ends.',
        tags: ['releases'],
        headers: IdempotencyHeaders,
        params: ReleaseParams,
        body: ReasonBody,
        response: { 200: ReleaseDetail, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.releases.promote(request.commandContext(), request.params.id, request.body.reason),
  )

  const lifecycle = [
    {
      action: 'halt',
      operationId: 'haltRelease',
      summary: 'Stop a release: no new wave starts until it is resumed (anyone may stop the line)',
      access: humanRoles,
      run: fastify.releases.halt.bind(fastify.releases),
    },
    {
      action: 'resume',
      operationId: 'resumeRelease',
      summary: 'Resume a halted release where it stopped',
      access: ['sre', 'admin'] as const,
      run: fastify.releases.resume.bind(fastify.releases),
    },
    {
      action: 'rollback',
      operationId: 'rollBackRelease',
      summary: 'Roll a release back: every scale unit it reached returns to its previous version',
      access: ['sre', 'admin'] as const,
      run: fastify.releases.rollback.bind(fastify.releases),
    },
    {
      action: 'cancel',
      operationId: 'cancelRelease',
      summary: 'Cancel a release: open work is withdrawn, deployed scale units keep what they run',
      access: ['pipeline', 'sre', 'admin'] as const,
      run: fastify.releases.cancel.bind(fastify.releases),
    },
  ]
  for (const { action, operationId, summary, access, run } of lifecycle) {
    fastify.post(
      `/v1/releases/:id/${action}`,
      {
        config: { access },
        schema: {
          operationId,
          summary,
          tags: ['releases'],
          headers: IdempotencyHeaders,
          params: ReleaseParams,
          body: ReasonBody,
          response: { 200: ReleaseDetail, ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => run(request.commandContext(), request.params.id, request.body.reason),
    )
  }

  fastify.post(
    '/v1/releases/:id/stages/:ring/freeze-override',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'overrideFreeze',
        summary: 'Let a release enter a ring during a freeze window (audited, with a reason)',
        tags: ['releases'],
        headers: IdempotencyHeaders,
        params: StageParams,
        body: ReasonBody,
        response: { 200: ReleaseDetail, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.releases.overrideFreeze(
        request.commandContext(),
        request.params.id,
        request.params.ring,
        request.body.reason,
      ),
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, humanRoles, incidentResponderRoles } from '@ringmaster/domain'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  CreateIncidentBody,
  Incident,
  IncidentList,
  IncidentParams,
  IncidentQuery,
  IncidentTimeBody,
  UpdateIncidentBody,
} from './incident-schemas.js'

/** Mitigate and resolve may be sent without a body: it means "now". */
function bodyDefaultsToEmpty(request: FastifyRequest, _reply: FastifyReply, done: () => void) {
  request.body ??= {}
  done()
}

export const incidentRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/incidents',
    {
      config: { access: humanRoles },
      schema: {
        operationId: 'createIncident',
        summary: 'Declare an incident; with halt: true it also stops the line for the service',
        description:
          'Any person may declare one (pipeline tokens may not). Its share of fleet traffic is fixed now from the traffic weights of the scale units named, or of the ring, or 1 for the whole fleet.',
        tags: ['incidents'],
        headers: IdempotencyHeaders,
        body: CreateIncidentBody,
        response: { 201: Incident, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const incident = await fastify.incidents.createIncident(
        request.commandContext(),
        request.body,
      )
      return reply.code(201).header('location', `/v1/incidents/${incident.id}`).send(incident)
    },
  )

  fastify.get(
    '/v1/incidents',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listIncidents',
        summary: 'List incidents, newest first, by service and whether they are open',
        tags: ['incidents'],
        querystring: IncidentQuery,
        response: { 200: IncidentList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50
      const incidents = await fastify.incidents.listIncidents({
        service: request.query.service,
        open: request.query.open,
        beforeId: request.query.before,
        limit,
      })
      return { incidents, nextBefore: incidents.length === limit ? incidents.at(-1)!.id : null }
    },
  )

  fastify.get(
    '/v1/incidents/:id',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getIncident',
        summary: 'Get one incident',
        tags: ['incidents'],
        params: IncidentParams,
        response: { 200: Incident, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.incidents.getIncident(request.params.id),
  )

  fastify.patch(
    '/v1/incidents/:id',
    {
      config: { access: incidentResponderRoles },
      schema: {
        operationId: 'updateIncident',
        summary: 'Change an incident: severity, title, review link, blameless notes',
        description:
          'Its times feed MTTR and availability, so only responders (admin, approver, sre) change an incident; a viewer may declare one but not change it.',
        tags: ['incidents'],
        headers: IdempotencyHeaders,
        params: IncidentParams,
        body: UpdateIncidentBody,
        response: { 200: Incident, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.incidents.updateIncident(request.commandContext(), request.params.id, request.body),
  )

  fastify.post(
    '/v1/incidents/:id/mitigate',
    {
      config: { access: incidentResponderRoles },
      preValidation: bodyDefaultsToEmpty,
      schema: {
        operationId: 'mitigateIncident',
        summary: 'Say when the impact stopped growing',
        description:
          'Mitigating again at the same time returns the incident unchanged; another time is a 409, and so is mitigating a resolved incident. Only responders (admin, approver, sre) mitigate: the time feeds the reliability figures.',
        tags: ['incidents'],
        headers: IdempotencyHeaders,
        params: IncidentParams,
        body: IncidentTimeBody('mitigated'),
        response: { 200: Incident, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.incidents.mitigateIncident(request.commandContext(), request.params.id, request.body),
  )

  fastify.post(
    '/v1/incidents/:id/resolve',
    {
      config: { access: incidentResponderRoles },
      preValidation: bodyDefaultsToEmpty,
      schema: {
        operationId: 'resolveIncident',
        summary: 'Say when service was restored; records the incident trace',
        description:
          'Resolving again at the same time returns the incident unchanged; another time is a 409. Not before the mitigation. A halt declared with the incident stays until someone lifts it. Only responders (admin, approver, sre) resolve: the time is what MTTR measures.',
        tags: ['incidents'],
        headers: IdempotencyHeaders,
        params: IncidentParams,
        body: IncidentTimeBody('resolved'),
        response: { 200: Incident, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.incidents.resolveIncident(request.commandContext(), request.params.id, request.body),
  )
}

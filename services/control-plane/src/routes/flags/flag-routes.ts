import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole, type ImportFlagsInput } from '@ringmaster/domain'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  Flag,
  FlagList,
  FlagListQuery,
  FlagParams,
  FlagRingParams,
  ImportFlagsBody,
  ImportOutcome,
  PutFlagBody,
  RingEnabledBody,
  RingStrategiesBody,
} from './flag-schemas.js'

/** Flags change what users see, so only admins change them; every control-plane role reads. */
export const flagRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.put(
    '/v1/flags/:key',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'putFlag',
        summary: 'Create or replace a feature flag',
        description:
          'The body is the whole definition; rings named in `rings` get that state, the others keep theirs. Every ring whose answers can change gets a new revision, and SDKs pick the change up on their next poll or at once when streaming.',
        tags: ['flags'],
        headers: IdempotencyHeaders,
        params: FlagParams,
        body: PutFlagBody,
        response: { 200: Flag, 201: Flag, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { flag, created } = await fastify.flags.putFlag(
        request.commandContext(),
        request.params.key,
        request.body,
      )
      if (created) reply.code(201).header('location', `/v1/flags/${flag.key}`)
      return reply.send(flag)
    },
  )

  fastify.get(
    '/v1/flags',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'listFlags',
        summary: 'List feature flags',
        description:
          'Filter by tag, type or project; `ring` with `enabled` lists the flags on (or off) in that ring. Archived flags only with `archived=true`.',
        tags: ['flags'],
        querystring: FlagListQuery,
        response: { 200: FlagList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { archived, ...filter } = request.query
      return { flags: await fastify.flags.listFlags({ ...filter, includeArchived: archived }) }
    },
  )

  fastify.get(
    '/v1/flags/:key',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getFlag',
        summary: 'Get one feature flag with its state in each ring',
        tags: ['flags'],
        params: FlagParams,
        response: { 200: Flag, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.flags.getFlag(request.params.key),
  )

  fastify.delete(
    '/v1/flags/:key',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'archiveFlag',
        summary: 'Archive a feature flag',
        description:
          'As in Unleash, deleting archives: the flag disappears from every SDK answer and keeps its history; putting the key again brings it back. A flag other flags depend on cannot be archived (409 naming them).',
        tags: ['flags'],
        headers: IdempotencyHeaders,
        params: FlagParams,
        response: { 200: Flag, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.flags.archiveFlag(request.commandContext(), request.params.key),
  )

  fastify.patch(
    '/v1/flags/:key/rings/:ring',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'setFlagRingEnabled',
        summary: 'Turn a flag on or off in one ring',
        tags: ['flags'],
        headers: IdempotencyHeaders,
        params: FlagRingParams,
        body: RingEnabledBody,
        response: { 200: Flag, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.flags.setRingEnabled(
        request.commandContext(),
        request.params.key,
        request.params.ring,
        request.body.enabled,
      ),
  )

  fastify.put(
    '/v1/flags/:key/rings/:ring/strategies',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'putFlagRingStrategies',
        summary: "Replace a flag's strategies in one ring",
        description:
          'Strategies are tried in order and any match turns the flag on; an empty list means on for everyone while the flag is enabled.',
        tags: ['flags'],
        headers: IdempotencyHeaders,
        params: FlagRingParams,
        body: RingStrategiesBody,
        response: { 200: Flag, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      fastify.flags.putRingStrategies(
        request.commandContext(),
        request.params.key,
        request.params.ring,
        request.body.strategies,
      ),
  )

  fastify.post(
    '/v1/flags/import',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'importFlags',
        summary: "Import flags from Unleash's client API body",
        description:
          "Send the body of Unleash's `GET /api/client/features` (with `segments`) plus the ring it describes. Segments are matched by name, definitions replaced (owner and tags kept), and each flag's state in the ring replaced, all in one transaction. Nothing is written when any flag is invalid.",
        tags: ['flags'],
        headers: IdempotencyHeaders,
        body: ImportFlagsBody,
        response: { 200: ImportOutcome, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    // Exported bodies sometimes carry numeric parameters; the import turns them into text.
    async (request) =>
      fastify.flags.importFlags(request.commandContext(), request.body as ImportFlagsInput),
  )
}

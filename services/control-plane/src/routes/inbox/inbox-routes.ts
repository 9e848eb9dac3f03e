import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { anyRole } from '@ringmaster/domain'
import { problemResponses } from '../../schemas/problem.js'
import { Inbox } from './inbox-schemas.js'

export const inboxRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/inbox',
    {
      config: { access: anyRole },
      schema: {
        operationId: 'getInbox',
        summary:
          'What waits for the caller: approvals they may give, their releases that are stuck',
        description:
          "Read for the token's subject and role, under the same rules as an approval: a ring's approvals go to its role (and admins), never to the release's requester, and not twice to the same person. A viewer or pipeline token has no approvals to give.",
        tags: ['releases'],
        response: { 200: Inbox, ...problemResponses(401, 403) },
      },
    },
    async (request) => fastify.inbox.inboxOf(request.requireActor()),
  )
}

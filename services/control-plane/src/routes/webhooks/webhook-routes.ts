import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../../schemas/common.js'
import { problemResponses } from '../../schemas/problem.js'
import {
  CreatedWebhook,
  CreateWebhookBody,
  DeliveryList,
  DeliveryParams,
  DeliveryQuery,
  Webhook,
  WebhookDelivery,
  WebhookList,
  WebhookParams,
  WebhookQuery,
} from './webhook-schemas.js'

export const webhookRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/webhooks',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'createWebhook',
        summary: "Send a service's events to a URL; the signing secret is returned once",
        description:
          'Every event of the service (or only those listed) is POSTed to the URL as JSON, or as a Slack or Teams message (format), signed with HMAC-SHA256 of "<x-ringmaster-timestamp>.<body>" in x-ringmaster-signature. Failed deliveries are retried with exponential backoff. See docs/webhooks.md.',
        tags: ['webhooks'],
        headers: IdempotencyHeaders,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const created = await fastify.webhooks.create(request.commandContext(), request.body)
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .header('location', `/v1/webhooks/${created.webhook.id}`)
        .send(created)
    },
  )

  fastify.get(
    '/v1/webhooks',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhooks (never their secrets), optionally of one service',
        tags: ['webhooks'],
        querystring: WebhookQuery,
        response: { 200: WebhookList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => ({ webhooks: await fastify.webhooks.list(request.query) }),
  )

  fastify.get(
    '/v1/webhooks/:id',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'getWebhook',
        summary: 'Get one webhook (never its secret)',
        tags: ['webhooks'],
        params: WebhookParams,
        response: { 200: Webhook, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => fastify.webhooks.get(request.params.id),
  )

  fastify.delete(
    '/v1/webhooks/:id',
    {
      config: { access: ['admin'] },
      schema: {
        operationId: 'disableWebhook',
        summary: 'Disable a webhook: nothing more is sent and its pending deliveries fail',
        description:
          'The webhook and its delivery log are kept. Disabling a disabled webhook is harmless.',
        tags: ['webhooks'],
        headers: IdempotencyHeaders,
        params: WebhookParams,
        response: { 200: Webhook, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.webhooks.disable(request.commandContext(), request.params.id),
  )

  fastify.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'The delivery log of a webhook, newest first: attempts, last status and error',
        tags: ['webhooks'],
        params: WebhookParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryList, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      deliveries: await fastify.webhooks.listDeliveries(request.params.id, request.query.limit),
    }),
  )

  fastify.post(
    '/v1/webhook-deliveries/:id/redeliver',
    {
      config: { access: ['sre', 'admin'] },
      schema: {
        operationId: 'redeliverWebhookDelivery',
        summary: 'Queue a failed delivery again, with a fresh set of attempts',
        tags: ['webhooks'],
        headers: IdempotencyHeaders,
        params: DeliveryParams,
        response: { 200: WebhookDelivery, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => fastify.webhooks.redeliver(request.commandContext(), request.params.id),
  )
}

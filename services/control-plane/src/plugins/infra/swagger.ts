import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { problemResponse } from '../../schemas/problem.js'
import type { RouteAccess } from './auth.js'
import { hoistRepeatedComponents } from './openapi-components.js'

export const apiVersion = '0.1.0'

/**
 * The OpenAPI document is generated from the route schemas; `pnpm openapi` writes it to
 * openapi/control-plane.json. Each operation's description ends with the roles that may call it.
 */
export const swaggerPlugin = fp(
  async (fastify: FastifyInstance) => {
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Ringmaster control plane',
          version: apiVersion,
          description:
            'Deployment rings, scale units and the services released through them. Errors are RFC 9457 problem details (application/problem+json). Authenticate with `Authorization: Bearer <token>`; the web console signs in with POST /v1/session and sends its session cookie with an X-CSRF-Token header on changes.',
        },
        security: [{ bearerToken: [] }],
        components: {
          securitySchemes: {
            bearerToken: {
              type: 'http',
              scheme: 'bearer',
              description: 'An API token from POST /v1/tokens (or the bootstrap admin token)',
            },
          },
        },
        tags: [
          { name: 'health', description: 'Liveness and readiness' },
          { name: 'tokens', description: 'API tokens and their roles' },
          {
            name: 'sessions',
            description:
              'Console sign-in with an API token: a session cookie, and X-CSRF-Token on every change made with it',
          },
          { name: 'services', description: 'The services being released' },
          { name: 'rings', description: 'Deployment rings and their promotion policies' },
          {
            name: 'scale-units',
            description: 'Deployable stamps, each in one region and one ring',
          },
          { name: 'events', description: 'The audit trail of every change, paged or streamed' },
          {
            name: 'releases',
            description: 'Releases walking the rings: approvals, promotion, halt, roll back',
          },
          {
            name: 'deployments',
            description: 'Executors: desired state, deployment progress, health reports',
          },
          { name: 'halts', description: 'Stop the line, for everything or one service or ring' },
          { name: 'freeze-windows', description: 'Planned periods when promotions wait' },
          {
            name: 'incidents',
            description:
              'Incidents: declare (optionally stopping the line), mitigate, resolve, review',
          },
          {
            name: 'reports',
            description: 'Reliability over a window: MTTR, MTBF, availability and DORA figures',
          },
          { name: 'webhooks', description: 'Signed push delivery of work to executors' },
          { name: 'flags', description: 'Feature flags and their state in each ring' },
          { name: 'segments', description: 'Named constraint sets that flag strategies share' },
          { name: 'evaluation', description: 'Flag answers for a context, with the reasons' },
          {
            name: 'client-api',
            description:
              'The Unleash client API for server-side SDKs (client tokens): features, delta, streaming, metrics',
          },
          {
            name: 'frontend-api',
            description: 'The Unleash frontend API for browser SDKs (frontend tokens)',
          },
          {
            name: 'ofrep',
            description: 'OpenFeature Remote Evaluation Protocol (client and frontend tokens)',
          },
          {
            name: 'cli',
            description: 'The ringmaster command as one file, served so it matches this server',
          },
        ],
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
      },
      transformObject: (documentObject) =>
        hoistRepeatedComponents((documentObject as { openapiObject: unknown }).openapiObject, {
          description: problemResponse.description,
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          },
        }),
      transform: ({ schema, url, route }) => {
        const access = route.config?.access as RouteAccess | undefined
        if (!schema || access === undefined) return { schema, url }
        const rolesLine =
          access === 'public' ? 'Public: no token needed.' : `Roles: ${access.join(', ')}.`
        return {
          url,
          schema: {
            ...schema,
            description: [schema.description, rolesLine].filter(Boolean).join('\n\n'),
            // Every operation needs a token (the document's `security`) unless it says otherwise.
            ...(access === 'public' && { security: [] }),
          },
        }
      },
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs' })
    fastify.get(
      '/openapi.json',
      { schema: { hide: true }, config: { access: 'public' } },
      async () => fastify.swagger(),
    )
  },
  { name: 'swagger' },
)

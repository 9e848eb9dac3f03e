import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** The routes browsers call from other origins: the frontend API and OFREP. */
const browserRoutes = ['/api/frontend', '/ofrep/']

const allowedHeaders = new Set([
  'authorization',
  'content-type',
  'if-none-match',
  'x-request-id',
  'idempotency-key',
])

const isBrowserRoute = (url: string) =>
  browserRoutes.some((prefix) => url === prefix || url.startsWith(prefix))

/**
 * CORS for the browser-facing routes, any origin: their tokens are meant to be public, and no
 * cookie ever authenticates. Preflights are answered here; every other route stays same-origin.
 */
export const corsPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onRequest', (request, reply, done) => {
      if (isBrowserRoute(request.url)) {
        reply.header('access-control-allow-origin', '*')
        reply.header('access-control-expose-headers', 'ETag, X-Request-Id')
      }
      done()
    })

    const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
      const requested = String(request.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter((name) => allowedHeaders.has(name) || name.startsWith('unleash-'))
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header(
          'access-control-allow-headers',
          [...new Set([...allowedHeaders, ...requested])].join(', '),
        )
        .header('access-control-max-age', '86400')
        .send()
    }
    for (const url of ['/api/frontend', '/api/frontend/*', '/ofrep/*']) {
      fastify.options(url, { config: { access: 'public' }, schema: { hide: true } }, preflight)
    }
  },
  { name: 'cors' },
)

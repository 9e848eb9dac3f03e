import { createHash } from 'node:crypto'
import {
  type Actor,
  type CommandContext,
  ForbiddenError,
  InvalidInputError,
  type Role,
  UnauthenticatedError,
} from '@ringmaster/domain'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** Every route says who may call it: a list of roles, or 'public' for health and docs. */
export type RouteAccess = readonly Role[] | 'public'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
  }
  interface FastifyRequest {
    actor: Actor | null
    /** The actor, for routes that are not public. */
    requireActor(): Actor
    /** Who is asking, which request this is, and its Idempotency-Key if any. */
    commandContext(): CommandContext
    command: CommandContext | null
  }
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/
// Writing last_used_at on every request would turn every read into a write; once a minute is enough.
const touchIntervalMs = 60_000

/**
 * Authenticates bearer tokens and enforces each route's declared roles. A route that declares no
 * access fails at start-up, so no route can be left open by accident.
 */
export const authPlugin = fp(
  async (fastify: FastifyInstance) => {
    const lastTouched = new Map<string, number>()

    fastify.decorateRequest('actor', null)
    fastify.decorateRequest('requireActor', function (this: FastifyRequest) {
      if (!this.actor) throw new UnauthenticatedError('missing-token', 'this route needs a token')
      return this.actor
    })
    fastify.decorateRequest('command', null)
    fastify.decorateRequest('commandContext', function (this: FastifyRequest): CommandContext {
      this.command ??= {
        actor: this.requireActor(),
        requestId: String(this.id),
        idempotency: idempotencyOf(this),
      }
      return this.command
    })

    // Tells a retrying client that it got the stored answer of its first attempt.
    fastify.addHook('onSend', async (request, reply) => {
      if (request.command?.idempotency?.replayed) reply.header('idempotent-replayed', 'true')
    })

    fastify.addHook('onRoute', (route) => {
      const access = route.config?.access
      if (access === undefined && !isFrameworkRoute(route.url)) {
        throw new Error(`route ${route.method} ${route.url} does not declare config.access`)
      }
    })

    fastify.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access
      if (access === undefined || access === 'public') return
      const secret = bearerToken(request.headers.authorization)
      if (secret === undefined) {
        throw new UnauthenticatedError(
          'missing-token',
          'send an API token as "Authorization: Bearer <token>"',
        )
      }
      const actor = await fastify.tokens.authenticate(secret)
      if (!access.includes(actor.role)) {
        throw new ForbiddenError(
          'role-not-allowed',
          `role '${actor.role}' may not call this route; allowed roles: ${access.join(', ')}`,
        )
      }
      request.actor = actor
      const now = Date.now()
      if (now - (lastTouched.get(actor.tokenId) ?? 0) > touchIntervalMs) {
        lastTouched.set(actor.tokenId, now)
        await fastify.tokens.touch(actor.tokenId)
      }
    })
  },
  { name: 'auth', dependencies: ['domain-services'] },
)

/** Routes added by @fastify/swagger-ui (static assets) carry no config of ours. */
function isFrameworkRoute(url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/')
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

function idempotencyOf(request: FastifyRequest): CommandContext['idempotency'] {
  const header = request.headers['idempotency-key']
  if (header === undefined) return undefined
  const key = Array.isArray(header) ? header[0] : header
  if (key === undefined || !idempotencyKeyPattern.test(key)) {
    throw new InvalidInputError(
      'invalid-idempotency-key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    )
  }
  const fingerprint = createHash('sha256')
    .update(`${request.method} ${request.routeOptions.url}\n${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('hex')
  return { key, fingerprint }
}

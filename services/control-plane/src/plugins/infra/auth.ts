import { createHash } from 'node:crypto'
import { tokenRevocationsChannel } from '@ringmaster/db'
import {
  type Actor,
  type CommandContext,
  ForbiddenError,
  InvalidInputError,
  isSdkRole,
  type Role,
  UnauthenticatedError,
} from '@ringmaster/domain'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { SdkTokenCache } from '../../credentials/sdk-token-cache.js'
import { checkCsrf } from './console-session.js'

/** Every route says who may call it: a list of roles, or 'public' for health and docs. */
export type RouteAccess = readonly Role[] | 'public'

declare module 'fastify' {
  interface FastifyInstance {
    /** Recently checked SDK tokens; the token service tells it about revocations. */
    sdkTokens: SdkTokenCache
  }
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
 * Authenticates bearer tokens, or the console's session cookie when no Authorization header is
 * sent (never on SDK routes), and enforces each route's declared roles. A route that declares no
 * access fails at start-up, so no route can be left open by accident.
 */
export const authPlugin = fp(
  async (fastify: FastifyInstance, options: { sdkTokenFreshMs?: number | undefined }) => {
    const lastTouched = new Map<string, number>()
    const sdkTokens = new SdkTokenCache(
      (secret) => fastify.tokens.authenticate(secret),
      options.sdkTokenFreshMs,
    )
    fastify.decorate('sdkTokens', sdkTokens)
    // Revocations on this replica, once committed; other replicas hear of them below.
    fastify.afterCommit.subscribe('token-revoked', (effect) => sdkTokens.forget(effect.tokenId))
    // Revocations on any replica reach this one's cache; a reconnect may have missed some.
    const unlisten = await fastify.database.listen(
      tokenRevocationsChannel,
      (tokenId) => sdkTokens.forget(tokenId),
      () => sdkTokens.clear(),
    )
    fastify.addHook('onClose', async () => {
      await unlisten().catch(() => {})
    })

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
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (request.command?.idempotency?.replayed) reply.header('idempotent-replayed', 'true')
      done(null, payload)
    })

    fastify.addHook('onRoute', (route) => {
      const access = route.config?.access
      if (access === undefined && !isFrameworkRoute(route.url)) {
        throw new Error(`route ${route.method} ${route.url} does not declare config.access`)
      }
    })

    const authorize = (request: FastifyRequest, access: readonly Role[], actor: Actor) => {
      if (!access.includes(actor.role)) {
        throw new ForbiddenError(
          'role-not-allowed',
          `role '${actor.role}' may not call this route; allowed roles: ${access.join(', ')}`,
        )
      }
      request.actor = actor
      const now = Date.now()
      if (now - (lastTouched.get(actor.tokenId) ?? 0) <= touchIntervalMs) return undefined
      lastTouched.set(actor.tokenId, now)
      // Only a "last used" time: not worth failing a request over, and SDK reads, which must
      // go on while the database is down, do not wait for it.
      const touched = fastify.tokens.touch(actor.tokenId).catch((error) => {
        request.log.warn({ err: error }, 'could not record when the token was last used')
      })
      return isSdkRole(actor.role) ? undefined : touched
    }

    // A callback hook with a synchronous path for cached SDK tokens: SDK polls are the hot path,
    // and a promise per request is measurable there (docs/benchmarks.md).
    fastify.addHook('onRequest', (request, _reply, done) => {
      let pending: Promise<unknown> | undefined
      try {
        pending = authenticate(request)
      } catch (error) {
        return done(error as Error)
      }
      if (pending === undefined) return done()
      pending.then(() => done(), done)
    })

    /** Undefined when the request is settled at once (public route, fresh SDK token). */
    const authenticate = (request: FastifyRequest): Promise<unknown> | undefined => {
      const access = request.routeOptions.config.access
      if (access === undefined || access === 'public') return undefined
      const sdkRoute = access.some(isSdkRole)
      if (!sdkRoute && request.headers.authorization === undefined) {
        // The console: the session's token acts, and a write must carry the CSRF token.
        const signedIn = fastify.consoleSessionOf(request)
        return signedIn.then((found) => {
          if (found === null) {
            throw new UnauthenticatedError(
              'missing-token',
              'send an API token as "Authorization: Bearer <token>", or sign in to the console (POST /v1/session)',
            )
          }
          checkCsrf(request, fastify.consoleSessions.csrfTokenOf(found.secret))
          return authorize(request, access, found.session.actor)
        })
      }
      const secret = bearerToken(request.headers.authorization, sdkRoute)
      if (secret === undefined) {
        throw new UnauthenticatedError(
          'missing-token',
          sdkRoute
            ? 'send the SDK token as "Authorization: <token>" or "Authorization: Bearer <token>"'
            : 'send an API token as "Authorization: Bearer <token>"',
        )
      }
      const actor = sdkTokens.actorFor(secret)
      if (actor instanceof Promise) return actor.then((found) => authorize(request, access, found))
      return authorize(request, access, actor)
    }
  },
  { name: 'auth', dependencies: ['domain-services', 'after-commit', 'console-session'] },
)

/** Routes added by @fastify/swagger-ui (static assets) carry no config of ours. */
function isFrameworkRoute(url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/')
}

/**
 * `Bearer <token>`; on routes SDKs call, also the bare token, because Unleash SDKs send the token
 * as the whole header. Elsewhere a bare value is refused so a mistyped header gets a clear answer.
 */
function bearerToken(header: string | undefined, allowBare: boolean): string | undefined {
  if (!header) return undefined
  const match = (allowBare ? /^(?:Bearer\s+)?(\S+)\s*$/i : /^Bearer\s+(\S+)\s*$/i).exec(
    header.trim(),
  )
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

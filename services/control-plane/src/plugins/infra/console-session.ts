import { timingSafeEqual } from 'node:crypto'
import secureSession from '@fastify/secure-session'
import { type ConsoleSession, ForbiddenError, UnauthenticatedError } from '@ringmaster/domain'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  cookieKeyFromSecret,
  generateCookieKey,
} from '../../credentials/console-session-secrets.js'

/** The console's session cookie: sealed by @fastify/secure-session, HttpOnly, SameSite=Strict. */
export const consoleSessionCookie = 'ringmaster_session'
/** The header a cookie-authenticated write must carry, with the session's CSRF token. */
export const csrfHeader = 'x-csrf-token'
/** The name of the generated cookie key in server_secrets. */
export const cookieKeySecretName = 'console-cookie-key'

const stateChangingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

interface SessionCookie {
  id: string
  secret: string
}

/** A live session and the secret its cookie carries (the CSRF token is derived from it). */
export interface SignedInSession {
  session: ConsoleSession
  secret: string
}

declare module '@fastify/secure-session' {
  interface SessionData {
    id: string
    secret: string
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The live console session of a request's cookie, or null when it carries none. */
    consoleSessionOf(request: FastifyRequest): Promise<SignedInSession | null>
  }
}

export interface ConsoleSessionPluginOptions {
  /** RINGMASTER_SESSION_KEY; when unset, a key is generated once and kept in the database. */
  key?: string | undefined
  /** How long a session lasts; the sealed cookie is refused after it too. */
  ttlMs: number
}

/**
 * Console sign-in cookies. The cookie carries only a session id and secret, sealed by
 * @fastify/secure-session; the session itself is a row (ADR 0012), checked on every request, so
 * sign-out, expiry and a revoked token take effect at once on every replica.
 */
export const consoleSessionPlugin = fp(
  async (fastify: FastifyInstance, options: ConsoleSessionPluginOptions) => {
    // Every replica must seal with the same key: the configured one, or the first replica's.
    const key =
      options.key !== undefined
        ? cookieKeyFromSecret(options.key)
        : Buffer.from(
            await fastify.store.read.serverSecrets.getOrCreate(
              cookieKeySecretName,
              generateCookieKey(),
            ),
            'base64',
          )
    await fastify.register(secureSession, {
      key,
      cookieName: consoleSessionCookie,
      cookie: { path: '/', httpOnly: true, sameSite: 'strict' },
      expiry: Math.ceil(options.ttlMs / 1000),
    })

    fastify.decorate('consoleSessionOf', async (request: FastifyRequest) => {
      const cookie = sessionCookieOf(request)
      if (cookie === undefined) return null
      try {
        const session = await fastify.consoleSessions.authenticate(cookie.id, cookie.secret)
        return { session, secret: cookie.secret }
      } catch (error) {
        // The browser is told to forget a cookie whose session has ended.
        if (error instanceof UnauthenticatedError) forgetCookie(request)
        throw error
      }
    })
  },
  { name: 'console-session', dependencies: ['database', 'domain-services'] },
)

function sessionCookieOf(request: FastifyRequest): SessionCookie | undefined {
  const id = request.session?.get('id')
  const secret = request.session?.get('secret')
  return typeof id === 'string' && typeof secret === 'string' ? { id, secret } : undefined
}

/** Cookie attributes that depend on the request: Secure when it came over HTTPS. */
export function cookieOptionsFor(request: FastifyRequest, maxAgeSeconds?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.protocol === 'https',
    ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds }),
  }
}

/** Puts a new session in the response's cookie. */
export function setSessionCookie(request: FastifyRequest, started: SignedInSession): void {
  const { session, secret } = started
  const lifetime = Math.floor(
    (Date.parse(session.expiresAt) - Date.parse(session.createdAt)) / 1000,
  )
  request.session.options(cookieOptionsFor(request, Math.max(lifetime, 0)))
  request.session.set('id', session.id)
  request.session.set('secret', secret)
}

/** Tells the browser to drop the session cookie. */
export function forgetCookie(request: FastifyRequest): void {
  if (!request.session) return
  request.session.options(cookieOptionsFor(request))
  request.session.delete()
}

/**
 * A cookie-authenticated write must prove it comes from the console's own page: the
 * X-CSRF-Token header, which only a script of this origin can have read from GET /v1/session.
 */
export function checkCsrf(request: FastifyRequest, expected: string): void {
  if (!stateChangingMethods.has(request.method)) return
  const header = request.headers[csrfHeader]
  const presented = Buffer.from(typeof header === 'string' ? header : '', 'utf8')
  const wanted = Buffer.from(expected, 'utf8')
  if (presented.length === wanted.length && timingSafeEqual(presented, wanted)) return
  throw new ForbiddenError(
    'csrf-token-invalid',
    `a change made with the console's session cookie must carry the session's CSRF token in the X-CSRF-Token header (it is in the answer of GET /v1/session); ${header === undefined ? 'none was sent' : 'the one sent does not match'}`,
  )
}

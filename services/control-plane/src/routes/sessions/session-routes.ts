import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type CommandContext, UnauthenticatedError } from '@ringmaster/domain'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import {
  checkCsrf,
  forgetCookie,
  type SignedInSession,
  setSessionCookie,
} from '../../plugins/infra/console-session.js'
import { problemResponses } from '../../schemas/problem.js'
import { ConsoleSession, SignInBody } from './session-schemas.js'

export interface SessionRoutesOptions {
  /** RINGMASTER_TRACE_URL_TEMPLATE, handed to the console. */
  traceUrlTemplate?: string | undefined
}

const cookieNote =
  'The session is the HttpOnly, SameSite=Strict cookie ringmaster_session, kept server-side: signing out, expiry or revoking the token ends it at once.'

/**
 * Console sign-in with an API token. Public to the bearer check: these routes read the session
 * cookie themselves.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (
  fastify,
  options,
) => {
  const settings = { traceUrlTemplate: options.traceUrlTemplate ?? null }
  const present = ({ session, secret }: SignedInSession) => ({
    subject: session.actor.subject,
    role: session.actor.role,
    tokenName: session.actor.tokenName,
    signedInAt: session.createdAt,
    expiresAt: session.expiresAt,
    csrfToken: fastify.consoleSessions.csrfTokenOf(secret),
    console: settings,
  })
  const current = async (request: FastifyRequest): Promise<SignedInSession> => {
    const signedIn = await fastify.consoleSessionOf(request)
    if (signedIn === null) {
      throw new UnauthenticatedError(
        'unauthenticated',
        'not signed in to the console; sign in with POST /v1/session and an API token',
      )
    }
    return signedIn
  }

  fastify.post(
    '/v1/session',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'signIn',
        summary: 'Sign in to the console with an API token',
        description: `Checks the token as bearer authentication does and starts a console session; the answer sets its cookie. ${cookieNote} SDK tokens (client, frontend) cannot sign in.`,
        tags: ['sessions'],
        body: SignInBody,
        response: { 201: ConsoleSession, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const started = await fastify.consoleSessions.signIn(request.body.token, String(request.id))
      setSessionCookie(request, started)
      return reply.code(201).header('cache-control', 'no-store').send(present(started))
    },
  )

  fastify.get(
    '/v1/session',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'getSession',
        summary: 'The console session of this browser',
        description: `Answers 401 /problems/unauthenticated when there is no session cookie, and 401 /problems/session-expired or /problems/session-invalid when its session has ended. ${cookieNote}`,
        tags: ['sessions'],
        response: { 200: ConsoleSession, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      return present(await current(request))
    },
  )

  fastify.delete(
    '/v1/session',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'signOut',
        summary: 'Sign out of the console',
        description: `Ends the session on every replica and clears the cookie. Needs the X-CSRF-Token header, like every change made with the cookie. ${cookieNote}`,
        tags: ['sessions'],
        response: {
          204: Type.Null({ description: 'Signed out' }),
          ...problemResponses(401, 403),
        },
      },
    },
    async (request, reply) => {
      const signedIn = await current(request)
      checkCsrf(request, fastify.consoleSessions.csrfTokenOf(signedIn.secret))
      const context: CommandContext = {
        actor: signedIn.session.actor,
        requestId: String(request.id),
      }
      await fastify.consoleSessions.signOut(context, signedIn.session)
      forgetCookie(request)
      return reply.code(204).send(null)
    },
  )
}

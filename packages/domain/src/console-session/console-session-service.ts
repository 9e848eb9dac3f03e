import type { CommandContext } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { ForbiddenError, UnauthenticatedError } from '../errors.js'
import { isSdkRole } from '../roles.js'
import type { Store } from '../store.js'
import type { TokenService } from '../token-service.js'
import type { ConsoleSession, ConsoleSessionSecrets } from './console-session.js'

/** A new session and, this once, the secret its cookie carries. */
export interface StartedConsoleSession {
  session: ConsoleSession
  secret: string
}

/** Default time to live of a console session: a working day. */
export const defaultConsoleSessionTtlMs = 8 * 60 * 60 * 1000

/**
 * Console sign-in: a person presents an API token once and gets a session stored in the database,
 * so signing out, expiry and revoking the token take effect at once on every replica.
 */
export class ConsoleSessionService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly secrets: ConsoleSessionSecrets,
    private readonly clock: Clock = systemClock,
    private readonly ttlMs: number = defaultConsoleSessionTtlMs,
  ) {}

  /** Checks the token exactly as bearer authentication does, then starts a session for it. */
  async signIn(token: string, requestId?: string): Promise<StartedConsoleSession> {
    const verified = await this.tokens.verify(token)
    const actor = verified.actor
    if (isSdkRole(actor.role)) {
      throw new ForbiddenError(
        'role-not-allowed',
        `a '${actor.role}' token reads one ring's flags through an SDK and cannot sign in to the console; use a token of a person (admin, approver, sre or viewer) or a pipeline`,
      )
    }
    const now = this.clock.now()
    const ttlEnd = now.getTime() + this.ttlMs
    const tokenEnd = verified.expiresAt === null ? ttlEnd : Date.parse(verified.expiresAt)
    const expiresAt = new Date(Math.min(ttlEnd, tokenEnd)).toISOString()
    const { id, secret } = this.secrets.generate()
    const session: ConsoleSession = { id, actor, createdAt: now.toISOString(), expiresAt }
    const context: CommandContext = { actor, requestId }
    await executeCommand(this.store, context, async (tx) => {
      await tx.consoleSessions.deleteExpired(session.createdAt)
      await tx.consoleSessions.insert({
        id,
        tokenId: actor.tokenId,
        secretHash: this.secrets.hash(secret),
        createdAt: session.createdAt,
        expiresAt,
      })
      await audit(tx, context, 'console-session.started', `token:${actor.tokenId}`, {
        sessionId: id,
        expiresAt,
      })
    })
    return { session, secret }
  }

  /** The live session a cookie's id and secret belong to, or refuses. */
  async authenticate(id: string, secret: string): Promise<ConsoleSession> {
    const stored = await this.store.read.consoleSessions.findById(id)
    // The hash is compared even when there is no session, so timing does not tell ids apart.
    const matches = this.secrets.matches(secret, stored?.secretHash ?? '0'.repeat(64))
    if (!stored || !matches) {
      throw new UnauthenticatedError(
        'session-invalid',
        'this console session has ended (signed out, or its token was revoked); sign in again',
      )
    }
    const now = this.clock.now().getTime()
    const tokenExpired = stored.tokenExpiresAt !== null && Date.parse(stored.tokenExpiresAt) <= now
    if (stored.tokenRevokedAt !== null || tokenExpired) {
      throw new UnauthenticatedError(
        'session-invalid',
        'the token this console session was signed in with has been revoked or has expired; sign in with a live token',
      )
    }
    if (Date.parse(stored.expiresAt) <= now) {
      throw new UnauthenticatedError(
        'session-expired',
        `this console session expired at ${stored.expiresAt}; sign in again`,
      )
    }
    return {
      id: stored.id,
      actor: stored.actor,
      createdAt: stored.createdAt,
      expiresAt: stored.expiresAt,
    }
  }

  /** Ends a session on every replica at once. */
  async signOut(context: CommandContext, session: ConsoleSession): Promise<void> {
    await executeCommand(this.store, context, async (tx) => {
      if (!(await tx.consoleSessions.delete(session.id))) return
      await audit(tx, context, 'console-session.ended', `token:${session.actor.tokenId}`, {
        sessionId: session.id,
      })
    })
  }

  csrfTokenOf(secret: string): string {
    return this.secrets.csrfTokenOf(secret)
  }
}

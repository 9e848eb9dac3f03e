import type { Actor, CommandContext } from './actor.js'
import type { ApiToken, TokenSecrets } from './api-token.js'
import { executeCommand } from './command.js'
import { ConflictError, InvalidInputError, NotFoundError, UnauthenticatedError } from './errors.js'
import type { Role } from './roles.js'
import { type Clock, type Store, systemClock } from './store.js'
import { audit } from './topology-service.js'

export interface CreateTokenInput {
  name: string
  role: Role
  subject: string
  expiresAt?: string | null | undefined
}

/** A new token and, this once, its secret. */
export interface IssuedToken {
  token: ApiToken
  secret: string
}

export type BootstrapOutcome =
  | { outcome: 'existing' }
  | { outcome: 'configured'; token: ApiToken }
  | { outcome: 'generated'; token: ApiToken; secret: string }

/** Shortest secret accepted from configuration, so a bootstrap token is not guessable. */
export const minimumConfiguredSecretLength = 24

export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly secrets: TokenSecrets,
    private readonly clock: Clock = systemClock,
  ) {}

  async create(context: CommandContext, input: CreateTokenInput): Promise<IssuedToken> {
    const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : null
    if (expiresAt !== null && Number.isNaN(expiresAt)) {
      throw new InvalidInputError('invalid-expiry', 'expiresAt must be an ISO 8601 date-time')
    }
    if (expiresAt !== null && expiresAt <= this.clock.now().getTime()) {
      throw new InvalidInputError('invalid-expiry', 'expiresAt must be in the future')
    }
    // The secret is made outside the transaction so a replayed request never sees a new secret.
    const secret = this.secrets.generate()
    const issued = await executeCommand(
      this.store,
      context,
      async (tx) => {
        const token = await tx.apiTokens.insert({
          name: input.name,
          role: input.role,
          subject: input.subject,
          prefix: this.secrets.prefixOf(secret),
          secretHash: this.secrets.hash(secret),
          createdBy: context.actor.subject,
          expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        })
        await audit(tx, context, 'token.created', `token:${token.id}`, { after: token })
        return { token, secret }
      },
      {
        // Secrets are never stored in clear, so a retry cannot be shown the secret again.
        remember: (issued) => ({ id: issued.token.id }),
        replay: (remembered) => {
          const { id } = remembered as { id: string }
          throw new ConflictError(
            'token-already-issued',
            `this Idempotency-Key already issued token ${id}; its secret was shown once and is not kept. If it was lost, revoke the token and create a new one`,
            { tokenId: id },
          )
        },
      },
    )
    return issued
  }

  list(): Promise<ApiToken[]> {
    return this.store.read.apiTokens.list()
  }

  async revoke(context: CommandContext, id: string): Promise<ApiToken> {
    return executeCommand(this.store, context, async (tx) => {
      const before = await tx.apiTokens.findById(id)
      if (!before) throw new NotFoundError('token-not-found', `no token with id '${id}'`)
      if (before.revokedAt !== null) return before
      const liveAdmins =
        before.role === 'admin'
          ? await tx.apiTokens.countLiveWithRole('admin', { forUpdate: true })
          : Number.POSITIVE_INFINITY
      if (liveAdmins === 1) {
        throw new ConflictError(
          'last-admin-token',
          'this is the last live admin token; create another admin token before revoking it',
        )
      }
      const after = await tx.apiTokens.revoke(id, this.clock.now().toISOString())
      await audit(tx, context, 'token.revoked', `token:${id}`, { before, after })
      return after
    })
  }

  /** Finds the live token a presented secret belongs to, or refuses. */
  async authenticate(secret: string): Promise<Actor> {
    const candidates = await this.store.read.apiTokens.findLiveByPrefix(
      this.secrets.prefixOf(secret),
    )
    const now = this.clock.now()
    // Every candidate is compared, so the time taken does not say which one matched.
    let match: (typeof candidates)[number] | undefined
    for (const candidate of candidates) {
      if (this.secrets.matches(secret, candidate.secretHash)) match = candidate
    }
    if (!match) throw new UnauthenticatedError('invalid-token', 'the token is not valid')
    if (match.expiresAt !== null && Date.parse(match.expiresAt) <= now.getTime()) {
      throw new UnauthenticatedError('token-expired', 'the token has expired')
    }
    return { tokenId: match.id, tokenName: match.name, subject: match.subject, role: match.role }
  }

  /**
   * Makes sure an admin can get in on first start: with no live admin token, store the configured
   * secret, or generate one for the caller to print once.
   */
  async ensureAdmin(context: CommandContext, configuredSecret?: string): Promise<BootstrapOutcome> {
    if (configuredSecret !== undefined && configuredSecret.length < minimumConfiguredSecretLength) {
      throw new InvalidInputError(
        'weak-admin-token',
        `RINGMASTER_ADMIN_TOKEN must be at least ${minimumConfiguredSecretLength} characters`,
      )
    }
    const secret = configuredSecret ?? this.secrets.generate()
    return executeCommand(this.store, context, async (tx): Promise<BootstrapOutcome> => {
      if ((await tx.apiTokens.countLiveWithRole('admin')) > 0) return { outcome: 'existing' }
      const token = await tx.apiTokens.insert({
        name: 'bootstrap-admin',
        role: 'admin',
        subject: 'bootstrap-admin',
        prefix: this.secrets.prefixOf(secret),
        secretHash: this.secrets.hash(secret),
        createdBy: context.actor.subject,
        expiresAt: null,
      })
      await audit(tx, context, 'token.created', `token:${token.id}`, {
        after: token,
        bootstrap: true,
      })
      return configuredSecret === undefined
        ? { outcome: 'generated', token, secret }
        : { outcome: 'configured', token }
    })
  }

  /** Records when a token was last used; callers may skip it when it is recent. */
  touch(id: string): Promise<void> {
    return this.store.read.apiTokens.touch(id, this.clock.now().toISOString())
  }
}

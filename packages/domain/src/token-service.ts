import type { Actor, CommandContext } from './actor.js'
import type { ApiToken, TokenSecrets } from './api-token.js'
import { type Clock, systemClock } from './clock.js'
import { audit, executeCommand } from './command.js'
import { discardEffects, type EffectOutlet } from './effect.js'
import { ConflictError, InvalidInputError, NotFoundError, UnauthenticatedError } from './errors.js'
import { isSdkRole, type Role } from './roles.js'
import type { Store, StoreTransaction } from './store.js'

export interface CreateTokenInput {
  name: string
  role: Role
  subject: string
  /** Required for SDK roles (`client`, `frontend`): the ring whose flags the token reads. */
  ring?: string | null | undefined
  expiresAt?: string | null | undefined
}

/** A new token and, this once, its secret. */
export interface IssuedToken {
  token: ApiToken
  secret: string
}

/** A presented secret that matched a live token, and until when that token works. */
export interface VerifiedToken {
  actor: Actor
  expiresAt: string | null
}

export type BootstrapOutcome =
  | { outcome: 'existing' }
  | { outcome: 'configured'; token: ApiToken }
  | { outcome: 'generated'; token: ApiToken; secret: string }

/** How operators run the admin-token recovery command (named in start-up refusals). */
export const adminTokenCommand = 'node services/control-plane/dist/admin-token.js'

/** Shortest secret accepted from configuration, so a bootstrap token is not guessable. */
export const minimumConfiguredSecretLength = 24

export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly secrets: TokenSecrets,
    private readonly clock: Clock = systemClock,
    /** Hears of revocations once they commit, so caches of authenticated tokens forget them. */
    private readonly afterCommit: EffectOutlet = discardEffects,
  ) {}

  async create(context: CommandContext, input: CreateTokenInput): Promise<IssuedToken> {
    const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : null
    if (expiresAt !== null && Number.isNaN(expiresAt)) {
      throw new InvalidInputError('invalid-expiry', 'expiresAt must be an ISO 8601 date-time')
    }
    if (expiresAt !== null && expiresAt <= this.clock.now().getTime()) {
      throw new InvalidInputError('invalid-expiry', 'expiresAt must be in the future')
    }
    const ring = input.ring ?? null
    if (isSdkRole(input.role) && ring === null) {
      throw new InvalidInputError(
        'sdk-token-needs-ring',
        `a '${input.role}' token serves the flags of one ring; name it in "ring" (for example "ring-0")`,
      )
    }
    if (!isSdkRole(input.role) && ring !== null) {
      throw new InvalidInputError(
        'ring-only-for-sdk-tokens',
        `only 'client' and 'frontend' tokens are bound to a ring; a '${input.role}' token reaches every ring, so leave "ring" out`,
      )
    }
    // The secret is made outside the transaction so a replayed request never sees a new secret.
    const secret = this.secrets.generate()
    const issued = await executeCommand(
      this.store,
      context,
      async (tx) => {
        if (ring !== null && !(await tx.rings.findByName(ring))) {
          throw new InvalidInputError('unknown-ring', `no ring named '${ring}'; create it first`)
        }
        const token = await tx.apiTokens.insert({
          name: input.name,
          role: input.role,
          subject: input.subject,
          ring,
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
    return executeCommand(
      this.store,
      context,
      async (tx, effects) => {
        const before = await tx.apiTokens.findById(id)
        if (!before) throw new NotFoundError('token-not-found', `no token with id '${id}'`)
        effects.record({ kind: 'token-revoked', tokenId: id })
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
      },
      { afterCommit: this.afterCommit },
    )
  }

  /** Finds the live token a presented secret belongs to, or refuses. */
  async authenticate(secret: string): Promise<Actor> {
    return (await this.verify(secret)).actor
  }

  /** `authenticate`, also saying when the token expires (for callers that cache the answer). */
  async verify(secret: string): Promise<VerifiedToken> {
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
    return {
      actor: {
        tokenId: match.id,
        tokenName: match.name,
        subject: match.subject,
        role: match.role,
        ring: match.ring,
      },
      expiresAt: match.expiresAt,
    }
  }

  /**
   * Makes sure an admin can get in on first start: with no live admin token, store the configured
   * secret, or generate one for the caller to print once. Replicas starting together take turns,
   * so exactly one of them stores a token. A configured secret must work: when an admin token
   * exists already, the configured secret has to be a live admin token, or this refuses (the
   * caller fails its start) rather than let the operator's token silently answer 401.
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
      await tx.apiTokens.lockAdminBootstrap()
      if ((await tx.apiTokens.countLiveWithRole('admin')) > 0) {
        if (configuredSecret !== undefined) await this.assertConfiguredAdmin(tx, configuredSecret)
        return { outcome: 'existing' }
      }
      const token = await tx.apiTokens.insert({
        name: 'bootstrap-admin',
        role: 'admin',
        subject: 'bootstrap-admin',
        ring: null,
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

  /** Refuses a configured admin secret that would not let anyone in. The secret is never quoted. */
  private async assertConfiguredAdmin(tx: StoreTransaction, secret: string): Promise<void> {
    const candidates = await tx.apiTokens.findLiveByPrefix(this.secrets.prefixOf(secret))
    const match = candidates.find((candidate) => this.secrets.matches(secret, candidate.secretHash))
    const remedy = `set RINGMASTER_ADMIN_TOKEN to the admin token in use, or unset it; if that token is lost, issue a new one with \`${adminTokenCommand} issue --name <name>\` (README: "Recovering an admin token")`
    if (!match) {
      throw new ConflictError(
        'admin-token-mismatch',
        `RINGMASTER_ADMIN_TOKEN is not a live token of this database, which already has an admin token (another replica or an earlier start stored a different one, or it was revoked); it would answer 401. Refusing to start: ${remedy}`,
      )
    }
    if (match.role !== 'admin') {
      throw new ConflictError(
        'admin-token-mismatch',
        `RINGMASTER_ADMIN_TOKEN is token ${match.id} ('${match.name}'), whose role is ${match.role}, not admin. Refusing to start: ${remedy}`,
        { tokenId: match.id },
      )
    }
    if (match.expiresAt !== null && Date.parse(match.expiresAt) <= this.clock.now().getTime()) {
      throw new ConflictError(
        'admin-token-mismatch',
        `RINGMASTER_ADMIN_TOKEN is admin token ${match.id} ('${match.name}'), which expired at ${match.expiresAt}. Refusing to start: ${remedy}`,
        { tokenId: match.id },
      )
    }
  }

  /**
   * Issues a new admin token outside the API, for an operator who lost every admin secret (the
   * admin-token command, run where the database is reachable). Audited like any token creation,
   * with `recovery: true`; the secret is returned this once and stored hashed.
   */
  async issueRecoveryAdmin(
    context: CommandContext,
    input: { name: string; subject: string },
  ): Promise<IssuedToken> {
    const secret = this.secrets.generate()
    return executeCommand(this.store, context, async (tx) => {
      const token = await tx.apiTokens.insert({
        name: input.name,
        role: 'admin',
        subject: input.subject,
        ring: null,
        prefix: this.secrets.prefixOf(secret),
        secretHash: this.secrets.hash(secret),
        createdBy: context.actor.subject,
        expiresAt: null,
      })
      await audit(tx, context, 'token.created', `token:${token.id}`, {
        after: token,
        recovery: true,
      })
      return { token, secret }
    })
  }

  /** Records when a token was last used; callers may skip it when it is recent. */
  touch(id: string): Promise<void> {
    return this.store.read.apiTokens.touch(id, this.clock.now().toISOString())
  }
}

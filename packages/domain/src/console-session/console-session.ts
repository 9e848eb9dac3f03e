import type { Actor } from '../actor.js'

/** A person signed in to the web console with an API token; it acts as that token. */
export interface ConsoleSession {
  id: string
  actor: Actor
  createdAt: string
  /** Absolute: the session's time to live after sign-in, or the token's expiry if sooner. */
  expiresAt: string
}

export interface NewConsoleSession {
  id: string
  tokenId: string
  secretHash: string
  createdAt: string
  expiresAt: string
}

/** A stored session with what is needed to check a presented secret, and its token's state. */
export interface StoredConsoleSession extends ConsoleSession {
  secretHash: string
  /** When its token was revoked, or null while the token is live. */
  tokenRevokedAt: string | null
  tokenExpiresAt: string | null
}

export interface ConsoleSessionRepository {
  insert(session: NewConsoleSession): Promise<void>
  /** The session with its token (revoked or not), or null when there is no such session. */
  findById(id: string): Promise<StoredConsoleSession | null>
  /** Ends one session; true when it existed. */
  delete(id: string): Promise<boolean>
  /** Forgets sessions that ended before `before`; returns how many. */
  deleteExpired(before: string): Promise<number>
}

/**
 * Secrets no operator configured but every replica must share (the console cookie key): the
 * first replica to ask stores `candidate`, every other gets the stored value.
 */
export interface ServerSecretRepository {
  getOrCreate(name: string, candidate: string): Promise<string>
}

/**
 * Session secrets are made and checked outside the domain (node:crypto in the control plane),
 * like token secrets.
 */
export interface ConsoleSessionSecrets {
  /** A new session id (a UUID) and a high-entropy secret. */
  generate(): { id: string; secret: string }
  hash(secret: string): string
  /** Compares in constant time. */
  matches(secret: string, secretHash: string): boolean
  /** The CSRF token of a session: derived from its secret, so it is never stored. */
  csrfTokenOf(secret: string): string
}

import type { Role } from './roles.js'

/** An API token as everyone may see it: never the secret, never its hash. */
export interface ApiToken {
  id: string
  name: string
  role: Role
  subject: string
  /** The ring an SDK token serves; null for control-plane roles. */
  ring: string | null
  prefix: string
  createdAt: string
  createdBy: string
  expiresAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
}

/** A stored token together with what is needed to check a presented secret against it. */
export interface StoredApiToken extends ApiToken {
  secretHash: string
}

export interface NewApiToken {
  name: string
  role: Role
  subject: string
  ring: string | null
  prefix: string
  secretHash: string
  createdBy: string
  expiresAt: string | null
}

/**
 * Secrets are made and checked outside the domain (the control plane uses node:crypto), so that
 * this package stays free of I/O and platform APIs.
 */
export interface TokenSecrets {
  generate(): string
  hash(secret: string): string
  /** Compares in constant time. */
  matches(secret: string, secretHash: string): boolean
  /** The non-secret start of a secret, stored for lookup and shown so people can tell tokens apart. */
  prefixOf(secret: string): string
}

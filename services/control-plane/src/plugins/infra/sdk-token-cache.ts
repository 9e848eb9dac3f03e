import { createHash } from 'node:crypto'
import { type Actor, DomainError, isSdkRole } from '@ringmaster/domain'

/**
 * SDK tokens authenticate every poll of every SDK instance, so a token found valid is trusted for
 * a few seconds without reading the database again; and while the database cannot be reached, an
 * SDK token that was valid before keeps working, so flag reads go on serving the last snapshot.
 * A revocation is announced to every replica when it commits (`forget`); should that notice be
 * lost, a revoked token still stops working within `freshMs`. Control-plane tokens are never
 * cached.
 */
export class SdkTokenCache {
  private readonly entries = new Map<string, { actor: Actor; checkedAt: number }>()

  constructor(
    private readonly authenticate: (secret: string) => Promise<Actor>,
    private readonly freshMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** Drops a token, so its next use is checked against the database. */
  forget(tokenId: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.actor.tokenId === tokenId) this.entries.delete(key)
    }
  }

  /** Drops every token (after revocation notices may have been missed). */
  clear(): void {
    this.entries.clear()
  }

  /**
   * The token's actor: at once (no promise) when it was checked less than `freshMs` ago, which is
   * the path of every SDK poll; otherwise once the token store has been asked.
   */
  actorFor(secret: string): Actor | Promise<Actor> {
    const key = keyOf(secret)
    const cached = this.entries.get(key)
    if (cached && Date.now() - cached.checkedAt < this.freshMs) return cached.actor
    return this.check(secret, key, cached)
  }

  private async check(
    secret: string,
    key: string,
    cached: { actor: Actor; checkedAt: number } | undefined,
  ): Promise<Actor> {
    let actor: Actor
    try {
      actor = await this.authenticate(secret)
    } catch (error) {
      if (error instanceof DomainError) {
        this.entries.delete(key)
        throw error
      }
      // The token store cannot be read: a token that was valid stays valid until it can.
      if (cached) return cached.actor
      throw error
    }
    if (isSdkRole(actor.role)) {
      this.entries.delete(key)
      if (this.entries.size >= this.maxEntries) {
        this.entries.delete(this.entries.keys().next().value as string)
      }
      this.entries.set(key, { actor, checkedAt: Date.now() })
    }
    return actor
  }
}

/** Entries are keyed by a hash, so the secrets themselves are not kept in memory. */
function keyOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

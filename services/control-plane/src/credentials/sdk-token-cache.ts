import { createHash } from 'node:crypto'
import { type Actor, DomainError, isSdkRole } from '@ringmaster/domain'

export interface SdkTokenCacheOptions {
  /** At most this many re-checks run at once, so an outage cannot pile queries up on the pool. */
  maxRevalidations?: number
  /** Where time comes from; tests pass one they can move. */
  now?: () => number
}

interface Entry {
  actor: Actor
  checkedAt: number
  /** When a re-check last started (it may have failed): one per freshness window, not per poll. */
  attemptedAt: number
  revalidating: boolean
}

/**
 * SDK tokens authenticate every poll of every SDK instance, so a token found valid is trusted for
 * a few seconds without reading the database again. After that it is re-checked in the
 * background while the cached actor goes on answering: an SDK poll never waits on the database,
 * so flag reads keep serving through a database outage (a re-check that cannot reach the database
 * changes nothing; ADR 0007). A revocation is announced to every replica when it commits
 * (`forget`); should that notice be lost, a revoked token stops working once a re-check after
 * `freshMs` has seen it. Control-plane tokens are never cached.
 */
export class SdkTokenCache {
  private readonly entries = new Map<string, Entry>()
  private readonly pending = new Set<Promise<void>>()
  private readonly maxRevalidations: number
  private readonly now: () => number

  constructor(
    private readonly authenticate: (secret: string) => Promise<Actor>,
    private readonly freshMs = 10_000,
    private readonly maxEntries = 10_000,
    options: SdkTokenCacheOptions = {},
  ) {
    this.maxRevalidations = options.maxRevalidations ?? 4
    this.now = options.now ?? Date.now
  }

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
   * The token's actor: at once (no promise) when it was seen valid before, which is the path of
   * every SDK poll, re-checking it in the background once it is older than `freshMs`; a token
   * not seen before waits for the token store.
   */
  actorFor(secret: string): Actor | Promise<Actor> {
    const key = keyOf(secret)
    const cached = this.entries.get(key)
    if (!cached) return this.check(secret, key)
    const now = this.now()
    if (
      now - cached.checkedAt >= this.freshMs &&
      now - cached.attemptedAt >= this.freshMs &&
      !cached.revalidating &&
      this.pending.size < this.maxRevalidations
    ) {
      this.revalidate(secret, key, cached, now)
    }
    return cached.actor
  }

  /** Resolves when no re-check is running (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
  }

  private async check(secret: string, key: string): Promise<Actor> {
    const actor = await this.authenticate(secret)
    this.remember(key, actor)
    return actor
  }

  private revalidate(secret: string, key: string, entry: Entry, now: number): void {
    entry.attemptedAt = now
    entry.revalidating = true
    const running = this.authenticate(secret).then(
      (actor) => {
        // Forgotten meanwhile (revoked): the answer may predate the revocation, so it is not kept.
        if (this.entries.get(key) === entry) this.remember(key, actor)
      },
      (error: unknown) => {
        // The token is no longer valid; a database that cannot be read changes nothing.
        if (error instanceof DomainError && this.entries.get(key) === entry) {
          this.entries.delete(key)
        }
      },
    )
    const tracked = running.finally(() => {
      entry.revalidating = false
      this.pending.delete(tracked)
    })
    this.pending.add(tracked)
  }

  private remember(key: string, actor: Actor): void {
    this.entries.delete(key)
    if (!isSdkRole(actor.role)) return
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string)
    }
    const now = this.now()
    this.entries.set(key, { actor, checkedAt: now, attemptedAt: now, revalidating: false })
  }
}

/** Entries are keyed by a hash, so the secrets themselves are not kept in memory. */
function keyOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

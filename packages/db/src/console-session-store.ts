import {
  type ConsoleSessionRepository,
  isRole,
  type NewConsoleSession,
  type ServerSecretRepository,
  type StoredConsoleSession,
} from '@ringmaster/domain'
import { eq, lt } from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import { apiTokens, consoleSessions, serverSecrets } from './schema/index.js'
import { iso, isoOrNull } from './timestamps.js'

export class DrizzleConsoleSessionRepository implements ConsoleSessionRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(session: NewConsoleSession): Promise<void> {
    await this.db.insert(consoleSessions).values({
      id: session.id,
      tokenId: session.tokenId,
      secretHash: session.secretHash,
      createdAt: new Date(session.createdAt),
      expiresAt: new Date(session.expiresAt),
    })
  }

  async findById(id: string): Promise<StoredConsoleSession | null> {
    const [row] = await this.db
      .select({ session: consoleSessions, token: apiTokens })
      .from(consoleSessions)
      .innerJoin(apiTokens, eq(apiTokens.id, consoleSessions.tokenId))
      .where(eq(consoleSessions.id, id))
    if (!row) return null
    const { session, token } = row
    if (!isRole(token.role))
      throw new Error(`token ${token.id} has an unknown role in the database`)
    return {
      id: session.id,
      actor: {
        tokenId: token.id,
        tokenName: token.name,
        subject: token.subject,
        role: token.role,
        ring: token.ring,
      },
      createdAt: iso(session.createdAt),
      expiresAt: iso(session.expiresAt),
      secretHash: session.secretHash,
      tokenRevokedAt: isoOrNull(token.revokedAt),
      tokenExpiresAt: isoOrNull(token.expiresAt),
    }
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db
      .delete(consoleSessions)
      .where(eq(consoleSessions.id, id))
      .returning({ id: consoleSessions.id })
    return rows.length > 0
  }

  async deleteExpired(before: string): Promise<number> {
    const rows = await this.db
      .delete(consoleSessions)
      .where(lt(consoleSessions.expiresAt, new Date(before)))
      .returning({ id: consoleSessions.id })
    return rows.length
  }
}

export class DrizzleServerSecretRepository implements ServerSecretRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async getOrCreate(name: string, candidate: string): Promise<string> {
    // Replicas starting together both insert; the one that loses reads the winner's value.
    await this.db.insert(serverSecrets).values({ name, value: candidate }).onConflictDoNothing()
    const [row] = await this.db
      .select({ value: serverSecrets.value })
      .from(serverSecrets)
      .where(eq(serverSecrets.name, name))
    return row!.value
  }
}

import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    name: text('name').notNull(),
    role: text('role').notNull(),
    subject: text('subject').notNull(),
    // The one ring an SDK token (roles client and frontend) serves; null for every other role.
    // Not a foreign key: a token names its ring the way releases do, and outlives its deletion.
    ring: text('ring'),
    // The non-secret start of the token, for lookup; the rest is only ever stored as a SHA-256 hash.
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [index('api_tokens_prefix_idx').on(table.prefix)],
)

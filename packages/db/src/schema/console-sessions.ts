import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { apiTokens } from './auth.js'

// A person signed in to the web console with an API token. The cookie carries the id and a
// secret; only the secret's SHA-256 is stored. A session acts as its token, so it dies with it.
export const consoleSessions = pgTable(
  'console_sessions',
  {
    id: uuid('id').primaryKey(),
    tokenId: uuid('token_id')
      .notNull()
      .references(() => apiTokens.id, { onDelete: 'cascade' }),
    secretHash: text('secret_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    index('console_sessions_token_id_idx').on(table.tokenId),
    index('console_sessions_expires_at_idx').on(table.expiresAt),
  ],
)

// Secrets every replica must share and nobody configured (the console cookie key): made by the
// first replica that needs one, read by the others.
export const serverSecrets = pgTable('server_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

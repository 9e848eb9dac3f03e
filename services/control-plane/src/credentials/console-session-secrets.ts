import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { ConsoleSessionSecrets } from '@ringmaster/domain'

/** Session secrets are 256 random bits, stored as SHA-256 like token secrets (ADR 0002). */
export const consoleSessionSecrets: ConsoleSessionSecrets = {
  generate: () => ({ id: randomUUID(), secret: randomBytes(32).toString('base64url') }),
  hash: (secret) => createHash('sha256').update(secret, 'utf8').digest('hex'),
  matches: (secret, secretHash) => {
    const presented = createHash('sha256').update(secret, 'utf8').digest()
    const stored = Buffer.from(secretHash, 'hex')
    return stored.length === presented.length && timingSafeEqual(presented, stored)
  },
  // Keyed by the session's secret, which only the sealed cookie and this process see: a page
  // script can read the CSRF token, never compute another session's.
  csrfTokenOf: (secret) =>
    createHmac('sha256', secret).update('ringmaster-csrf').digest('base64url'),
}

/** The 32-byte key @fastify/secure-session seals the cookie with, from RINGMASTER_SESSION_KEY. */
export function cookieKeyFromSecret(secret: string): Buffer {
  return createHash('sha256').update(`ringmaster-console-cookie\n${secret}`, 'utf8').digest()
}

/** A new random cookie key, stored base64 in server_secrets when none is configured. */
export function generateCookieKey(): string {
  return randomBytes(32).toString('base64')
}

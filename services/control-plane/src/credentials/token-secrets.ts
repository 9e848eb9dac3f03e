import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { TokenSecrets } from '@ringmaster/domain'

const tokenPrefixLength = 12

/**
 * Tokens are 256 random bits. High-entropy secrets need no slow hash: SHA-256 is enough to make a
 * stolen table useless, and it keeps authentication cheap on every request.
 */
export const tokenSecrets: TokenSecrets = {
  generate: () => `rm_${randomBytes(32).toString('base64url')}`,
  hash: (secret) => createHash('sha256').update(secret, 'utf8').digest('hex'),
  matches: (secret, secretHash) => {
    const presented = createHash('sha256').update(secret, 'utf8').digest()
    const stored = Buffer.from(secretHash, 'hex')
    return stored.length === presented.length && timingSafeEqual(presented, stored)
  },
  prefixOf: (secret) => secret.slice(0, tokenPrefixLength),
}

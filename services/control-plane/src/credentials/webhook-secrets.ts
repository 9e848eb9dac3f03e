import { randomBytes } from 'node:crypto'
import type { WebhookSecrets } from '@ringmaster/domain'

/**
 * 256 random bits. Unlike token secrets they are stored as given: each is the HMAC key its
 * deliveries are signed with, so the sender must be able to read it.
 */
export const webhookSecrets: WebhookSecrets = {
  generate: () => `whsec_${randomBytes(32).toString('base64url')}`,
}

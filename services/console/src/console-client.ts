import { createRingmasterClient, type RingmasterClient } from '@ringmaster/sdk'

/**
 * The SDK client the console acts with: no token, the browser sends the HttpOnly session cookie
 * (same origin), and every write carries the session's CSRF token, which cookie writes need.
 */
export function createConsoleClient(csrfToken?: string): RingmasterClient {
  return createRingmasterClient({
    baseUrl: window.location.origin,
    csrfToken,
    userAgent: 'ringmaster-console',
  })
}

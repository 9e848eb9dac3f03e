import { createRingmasterClient, type RingmasterClient } from '@ringmaster/sdk'

/**
 * The SDK client the console acts with: no token, the browser sends the HttpOnly session cookie
 * (same origin), and every request carries the session's CSRF token, which cookie-authenticated
 * writes need.
 */
export function createConsoleClient(csrfToken?: string): RingmasterClient {
  return createRingmasterClient({
    baseUrl: window.location.origin,
    headers: csrfToken === undefined ? {} : { 'x-csrf-token': csrfToken },
    userAgent: 'ringmaster-console',
  })
}

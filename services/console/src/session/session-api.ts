import { type ConsoleSession, type RingmasterClient, RingmasterProblem } from '@ringmaster/sdk'

export type { ConsoleSession }

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof RingmasterProblem && error.status === 401
}

/** The session the browser's cookie holds; undefined when there is none (or it ended). */
export async function readSession(client: RingmasterClient): Promise<ConsoleSession | undefined> {
  try {
    return await client.get('/v1/session')
  } catch (error) {
    if (isUnauthenticated(error)) return undefined
    throw error
  }
}

/** Trades a pasted API token for the HttpOnly session cookie. */
export function signIn(client: RingmasterClient, token: string): Promise<ConsoleSession> {
  return client.post('/v1/session', { body: { token } })
}

export async function signOut(client: RingmasterClient): Promise<void> {
  await client.delete('/v1/session')
}

import { type RingmasterClient, RingmasterProblem } from '@ringmaster/sdk'

// TODO(console-session): typed by the SDK once /v1/session is in the OpenAPI document.
export interface ConsoleSession {
  subject: string
  role: string
  expiresAt: string
  csrfToken: string
  console: { traceUrlTemplate: string | null }
}

// biome-ignore lint/suspicious/noExplicitAny: until the route is in the spec
type Untyped = any

export async function readSession(client: RingmasterClient): Promise<ConsoleSession | undefined> {
  try {
    return (await (client.get as Untyped)('/v1/session')) as ConsoleSession
  } catch (error) {
    if (isUnauthenticated(error)) return undefined
    throw error
  }
}

export async function signIn(client: RingmasterClient, token: string): Promise<ConsoleSession> {
  return (await (client.post as Untyped)('/v1/session', { body: { token } })) as ConsoleSession
}

export async function signOut(client: RingmasterClient): Promise<void> {
  await (client.delete as Untyped)('/v1/session')
}

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof RingmasterProblem && error.status === 401
}

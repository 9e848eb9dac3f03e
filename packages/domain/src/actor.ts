import type { Role } from './roles.js'

/** Who is making a change: the token that authenticated the call and the subject it stands for. */
export interface Actor {
  tokenId: string
  tokenName: string
  subject: string
  role: Role
  /** The ring an SDK token (`client`, `frontend`) is bound to; null for every other role. */
  ring: string | null
}

/** The control plane itself (bootstrap, migrations, timers). */
export const systemActor: Actor = {
  tokenId: 'system',
  tokenName: 'system',
  subject: 'system',
  role: 'admin',
  ring: null,
}

/** A client's promise that a retried request is the same request (the `Idempotency-Key` header). */
export interface IdempotencyRequest {
  key: string
  /** A digest of the request; the same key with another fingerprint is refused. */
  fingerprint: string
  /** Set by the command when it answered from the stored result instead of doing the work. */
  replayed?: boolean
}

/** What every command receives besides its input. */
export interface CommandContext {
  actor: Actor
  requestId?: string | undefined
  idempotency?: IdempotencyRequest | undefined
}

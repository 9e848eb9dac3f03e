import type { CommandContext } from './actor.js'
import { ConflictError } from './errors.js'
import type { Store, StoreTransaction } from './store.js'

/**
 * Runs one state change in one transaction. With an idempotency key, a retry of the same request
 * gets the first result back without doing the work again, and the key cannot be reused for a
 * different request. Keys are scoped to the token that sent them.
 */
export interface ReplayPolicy<T> {
  /** What to keep for a retry; defaults to the whole result. Never keep a secret here. */
  remember?: (result: T) => unknown
  /** Turns what was kept back into the answer for a retry; may throw to refuse the retry. */
  replay?: (remembered: unknown) => T
}

export async function executeCommand<T>(
  store: Store,
  context: CommandContext,
  work: (tx: StoreTransaction) => Promise<T>,
  replayPolicy: ReplayPolicy<T> = {},
): Promise<T> {
  return store.transaction(async (tx) => {
    const idempotency = context.idempotency
    if (!idempotency) return work(tx)
    const scope = context.actor.tokenId
    const claim = await tx.idempotency.claim(scope, idempotency.key, idempotency.fingerprint)
    if (claim.outcome === 'mismatch') {
      throw new ConflictError(
        'idempotency-key-reused',
        `Idempotency-Key '${idempotency.key}' was already used for a different request; use a new key for a new request`,
      )
    }
    if (claim.outcome === 'replay') {
      idempotency.replayed = true
      return replayPolicy.replay ? replayPolicy.replay(claim.result) : (claim.result as T)
    }
    const result = await work(tx)
    const remembered = replayPolicy.remember ? replayPolicy.remember(result) : result
    await tx.idempotency.complete(scope, idempotency.key, remembered ?? null)
    return result
  })
}

/** Appends the audit event of a change to the transaction that makes it. */
export async function audit(
  tx: StoreTransaction,
  context: CommandContext,
  action: string,
  subject: string,
  data: Record<string, unknown>,
): Promise<void> {
  await tx.auditLog.append({
    actor: context.actor.subject,
    action,
    subject,
    data,
    requestId: context.requestId ?? null,
  })
}

import type { CommandContext } from './actor.js'
import type { AuditAction } from './audit-actions.js'
import { EffectCollector, type EffectOutlet, type Effects } from './effect.js'
import { ConflictError } from './errors.js'
import type { Store, StoreTransaction } from './store.js'
import { enqueueAuditNotification } from './webhook/webhook-notifications.js'

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

export interface CommandOptions<T> extends ReplayPolicy<T> {
  /**
   * Hears the effects the work recorded, after the transaction commits and never after a
   * rollback. Without one, recording an effect fails the command: an effect nobody would hear
   * is a wiring mistake, not something to drop silently.
   */
  afterCommit?: EffectOutlet | undefined
}

export async function executeCommand<T>(
  store: Store,
  context: CommandContext,
  work: (tx: StoreTransaction, effects: Effects) => Promise<T>,
  options: CommandOptions<T> = {},
): Promise<T> {
  let effects: EffectCollector | undefined
  const result = await store.transaction(async (tx) => {
    // A fresh collector per attempt: the store may run the work again after a deadlock.
    const attempt = options.afterCommit ? new EffectCollector() : unheard
    effects = attempt
    const idempotency = context.idempotency
    if (!idempotency) return work(tx, attempt)
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
      return options.replay ? options.replay(claim.result) : (claim.result as T)
    }
    const result = await work(tx, attempt)
    const remembered = options.remember ? options.remember(result) : result
    await tx.idempotency.complete(scope, idempotency.key, remembered ?? null)
    return result
  })
  const committed = effects?.drain() ?? []
  if (options.afterCommit && committed.length > 0) await options.afterCommit.dispatch(committed)
  return result
}

class UnheardEffects extends EffectCollector {
  override record(): void {
    throw new Error('this command records effects but was run without an afterCommit outlet')
  }
}

const unheard = new UnheardEffects()

/**
 * Appends the audit event of a change to the transaction that makes it, and queues it for the
 * webhooks that want it, in the same transaction.
 */
export async function audit(
  tx: StoreTransaction,
  context: CommandContext,
  action: AuditAction,
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
  await enqueueAuditNotification(tx, { actor: context.actor.subject, action, subject, data })
}

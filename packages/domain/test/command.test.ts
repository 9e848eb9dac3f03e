import t from 'tap'
import type { Actor, CommandContext } from '../src/actor.js'
import { executeCommand } from '../src/command.js'
import type { Effect } from '../src/effect.js'
import { ConflictError } from '../src/errors.js'
import type { IdempotencyClaim, Store, StoreTransaction } from '../src/store.js'

interface StoredKey {
  fingerprint: string
  result: unknown
}

/**
 * Just enough of a Store for executeCommand: idempotency keys kept in a map that a transaction
 * replaces only when its work succeeds. Every claim and completion is recorded.
 */
class IdempotencyOnlyStore implements Store {
  keys = new Map<string, StoredKey>()
  claims: { scope: string; key: string; fingerprint: string }[] = []
  completions: { scope: string; key: string; result: unknown }[] = []

  get read(): StoreTransaction {
    return this.repositories(this.keys)
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const draft = structuredClone(this.keys)
    const result = await work(this.repositories(draft))
    this.keys = draft
    return result
  }

  private repositories(keys: Map<string, StoredKey>): StoreTransaction {
    const id = (scope: string, key: string) => `${scope} ${key}`
    const idempotency = {
      claim: async (scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim> => {
        this.claims.push({ scope, key, fingerprint })
        const existing = keys.get(id(scope, key))
        if (!existing) {
          keys.set(id(scope, key), { fingerprint, result: null })
          return { outcome: 'claimed' }
        }
        if (existing.fingerprint !== fingerprint) return { outcome: 'mismatch' }
        return { outcome: 'replay', result: structuredClone(existing.result) }
      },
      complete: async (scope: string, key: string, result: unknown) => {
        this.completions.push({ scope, key, result })
        keys.get(id(scope, key))!.result = structuredClone(result)
      },
    }
    // executeCommand only touches idempotency; the other repositories are never reached.
    return { idempotency } as unknown as StoreTransaction
  }
}

const actorOf = (tokenId: string): Actor => ({
  tokenId,
  tokenName: `${tokenId}-name`,
  subject: `${tokenId}-subject`,
  role: 'pipeline',
  ring: null,
})

const withKey = (tokenId: string, key: string, fingerprint: string): CommandContext => ({
  actor: actorOf(tokenId),
  idempotency: { key, fingerprint },
})

t.test('without a key the work runs every time and no key is claimed', async (t) => {
  const store = new IdempotencyOnlyStore()
  let runs = 0
  const work = async () => ({ run: ++runs })
  t.strictSame(await executeCommand(store, { actor: actorOf('tok-a') }, work), { run: 1 })
  t.strictSame(await executeCommand(store, { actor: actorOf('tok-a') }, work), { run: 2 })
  t.equal(runs, 2)
  t.strictSame(store.claims, [])
  t.strictSame(store.completions, [])
})

t.test('a retry with the same key and fingerprint gets the first result back', async (t) => {
  const store = new IdempotencyOnlyStore()
  let runs = 0
  const work = async () => ({ run: ++runs })

  const first = withKey('tok-a', 'key-1', 'fp-1')
  t.strictSame(await executeCommand(store, first, work), { run: 1 })
  t.notOk(first.idempotency?.replayed, 'the first call did the work')
  t.strictSame(store.completions, [{ scope: 'tok-a', key: 'key-1', result: { run: 1 } }])

  const retry = withKey('tok-a', 'key-1', 'fp-1')
  t.strictSame(await executeCommand(store, retry, work), { run: 1 })
  t.equal(retry.idempotency?.replayed, true)
  t.equal(runs, 1, 'the work ran once')
  t.equal(store.completions.length, 1, 'the replay stored nothing new')
})

t.test('the same key with another fingerprint is refused', async (t) => {
  const store = new IdempotencyOnlyStore()
  let runs = 0
  const work = async () => ++runs
  await executeCommand(store, withKey('tok-a', 'key-2', 'fp-1'), work)

  const other = withKey('tok-a', 'key-2', 'fp-2')
  const error = await executeCommand(store, other, work).catch((error: unknown) => error)
  t.type(error, ConflictError)
  t.match(error, {
    code: 'idempotency-key-reused',
    message: /'key-2' was already used for a different request/,
  })
  t.notOk(other.idempotency?.replayed)
  t.equal(runs, 1)
})

t.test('keys are scoped to the token that sent them', async (t) => {
  const store = new IdempotencyOnlyStore()
  let runs = 0
  const work = async () => ++runs
  t.equal(await executeCommand(store, withKey('tok-a', 'shared', 'fp-a'), work), 1)
  const fromB = withKey('tok-b', 'shared', 'fp-b')
  t.equal(await executeCommand(store, fromB, work), 2, 'another token does the work')
  t.notOk(fromB.idempotency?.replayed)
  t.strictSame(
    store.claims.map(({ scope, key }) => [scope, key]),
    [
      ['tok-a', 'shared'],
      ['tok-b', 'shared'],
    ],
  )
})

t.test('a command that throws does not consume its key', async (t) => {
  const store = new IdempotencyOnlyStore()
  let fail = true
  let runs = 0
  const work = async () => {
    runs++
    if (fail) throw new Error('the ring is busy')
    return 'done'
  }
  await t.rejects(executeCommand(store, withKey('tok-a', 'key-3', 'fp'), work), /the ring is busy/)
  t.strictSame(store.completions, [])
  t.equal(store.keys.size, 0, 'the claim went away with the transaction')

  fail = false
  const retry = withKey('tok-a', 'key-3', 'fp')
  t.equal(await executeCommand(store, retry, work), 'done')
  t.notOk(retry.idempotency?.replayed, 'the retry did the work')
  t.equal(runs, 2)
})

t.test('a replay policy chooses what is kept and how a retry is answered', async (t) => {
  const store = new IdempotencyOnlyStore()
  const seen: unknown[] = []
  const policy = {
    remember: (result: { id: string; secret: string }) => ({ id: result.id }),
    replay: (remembered: unknown) => {
      seen.push(remembered)
      return { id: (remembered as { id: string }).id, secret: 'not kept' }
    },
  }
  const work = async () => ({ id: 'tok-1', secret: 's3cr3t' })
  t.strictSame(await executeCommand(store, withKey('tok-a', 'k', 'fp'), work, policy), {
    id: 'tok-1',
    secret: 's3cr3t',
  })
  t.strictSame(store.completions[0]?.result, { id: 'tok-1' }, 'the secret is not kept')
  t.strictSame(await executeCommand(store, withKey('tok-a', 'k', 'fp'), work, policy), {
    id: 'tok-1',
    secret: 'not kept',
  })
  t.strictSame(seen, [{ id: 'tok-1' }])
})

t.test('a replay policy may refuse the retry', async (t) => {
  const store = new IdempotencyOnlyStore()
  const policy = {
    replay: () => {
      throw new ConflictError('already-done', 'done once already')
    },
  }
  await executeCommand(store, withKey('tok-a', 'k', 'fp'), async () => 'first', policy)
  const retry = withKey('tok-a', 'k', 'fp')
  const error = await executeCommand(store, retry, async () => 'second', policy).catch(
    (error: unknown) => error,
  )
  t.type(error, ConflictError)
  t.match(error, { code: 'already-done' })
  t.equal(retry.idempotency?.replayed, true)
})

t.test('a command with no result is remembered as null', async (t) => {
  const store = new IdempotencyOnlyStore()
  await executeCommand(store, withKey('tok-a', 'k', 'fp'), async () => undefined)
  t.strictSame(store.completions, [{ scope: 'tok-a', key: 'k', result: null }])
  const retry = withKey('tok-a', 'k', 'fp')
  t.equal(await executeCommand(store, retry, async () => undefined), null)
  t.equal(retry.idempotency?.replayed, true)
})

/** An outlet that keeps what it hears, one array per dispatch. */
function listeningOutlet() {
  const dispatches: Effect[][] = []
  return {
    dispatches,
    dispatch: (effects: readonly Effect[]) => void dispatches.push([...effects]),
  }
}

t.test('recorded effects reach the outlet once the transaction commits, in order', async (t) => {
  const store = new IdempotencyOnlyStore()
  const outlet = listeningOutlet()
  let committedWhenDispatched: boolean | null = null
  const result = await executeCommand(
    store,
    withKey('tok-a', 'k', 'fp'),
    async (_tx, effects) => {
      effects.record({ kind: 'releases-changed', releaseIds: [7] })
      effects.record({ kind: 'flags-changed', rings: ['canary'] })
      return 'done'
    },
    {
      afterCommit: {
        dispatch: (effects) => {
          committedWhenDispatched = store.keys.size === 1
          outlet.dispatch(effects)
        },
      },
    },
  )
  t.equal(result, 'done')
  t.equal(committedWhenDispatched, true, 'the transaction had committed when the outlet heard')
  t.strictSame(outlet.dispatches, [
    [
      { kind: 'releases-changed', releaseIds: [7] },
      { kind: 'flags-changed', rings: ['canary'] },
    ],
  ])
})

t.test('a command that rolls back dispatches nothing', async (t) => {
  const store = new IdempotencyOnlyStore()
  const outlet = listeningOutlet()
  await t.rejects(
    executeCommand(
      store,
      { actor: actorOf('tok-a') },
      async (_tx, effects) => {
        effects.record({ kind: 'token-revoked', tokenId: 'tok-9' })
        throw new Error('the last admin token')
      },
      { afterCommit: outlet },
    ),
    /the last admin token/,
  )
  t.strictSame(outlet.dispatches, [])
})

t.test('a commit that fails after the work dispatches nothing', async (t) => {
  class FailingCommitStore extends IdempotencyOnlyStore {
    override async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
      await super.transaction(work)
      throw new Error('connection lost during COMMIT')
    }
  }
  const outlet = listeningOutlet()
  await t.rejects(
    executeCommand(
      new FailingCommitStore(),
      { actor: actorOf('tok-a') },
      async (_tx, effects) => effects.record({ kind: 'releases-changed', releaseIds: [1] }),
      { afterCommit: outlet },
    ),
    /COMMIT/,
  )
  t.strictSame(outlet.dispatches, [])
})

t.test(
  'an attempt the store ran again (a deadlock) does not dispatch its effects twice',
  async (t) => {
    class RetryingStore extends IdempotencyOnlyStore {
      override async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
        await work(this.read).catch(() => {})
        return super.transaction(work)
      }
    }
    const outlet = listeningOutlet()
    let attempt = 0
    await executeCommand(
      new RetryingStore(),
      { actor: actorOf('tok-a') },
      async (_tx, effects) => {
        attempt++
        effects.record({ kind: 'releases-changed', releaseIds: [attempt] })
      },
      { afterCommit: outlet },
    )
    t.equal(attempt, 2)
    t.strictSame(outlet.dispatches, [[{ kind: 'releases-changed', releaseIds: [2] }]])
  },
)

t.test('a replayed command records and dispatches nothing', async (t) => {
  const store = new IdempotencyOnlyStore()
  const outlet = listeningOutlet()
  const work = async (_tx: StoreTransaction, effects: { record(effect: Effect): void }) => {
    effects.record({ kind: 'flags-changed', rings: ['all'] })
    return 'flag set'
  }
  await executeCommand(store, withKey('tok-a', 'k', 'fp'), work, { afterCommit: outlet })
  await executeCommand(store, withKey('tok-a', 'k', 'fp'), work, { afterCommit: outlet })
  t.equal(outlet.dispatches.length, 1, 'only the first run dispatched')
})

t.test('recording an effect with no outlet to hear it fails the command', async (t) => {
  const store = new IdempotencyOnlyStore()
  await t.rejects(
    executeCommand(store, withKey('tok-a', 'k', 'fp'), async (_tx, effects) => {
      effects.record({ kind: 'token-revoked', tokenId: 'tok-1' })
    }),
    /without an afterCommit outlet/,
  )
  t.equal(store.keys.size, 0, 'the transaction rolled back')
})

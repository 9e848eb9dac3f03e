import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Store, StoreTransaction, Webhook } from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'
import { webhookDisabledError } from '../src/webhook-store.js'

// The webhook repository of the Store contract, on the DrizzleStore: PGlite and PostgreSQL.

const run = randomUUID().slice(0, 8)
let sequence = 0
const unique = (prefix: string) => `${prefix}-${run}-${++sequence}`

type OpenStore = (t: Test) => Promise<Store>

const openDrizzle: OpenStore = async (t) => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return new DrizzleStore(connection.db)
}

const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString()

t.test(`DrizzleStore on ${testDatabaseKind}`, async (t) => {
  const store = await openDrizzle(t)

  /** A service with one webhook per entry of `events` (each entry its event filter). */
  const makeHooks = async (store: Store, ...events: string[][]) =>
    store.transaction(async (tx) => {
      const service = await tx.services.insert({
        name: unique('svc'),
        description: '',
        owner: null,
      })
      const hooks: Webhook[] = []
      for (const [index, filter] of events.entries()) {
        hooks.push(
          await tx.webhooks.insert({
            service: service.name,
            url: `https://executor.example/hooks/${index}`,
            secret: `whsec_${unique('secret')}`,
            events: filter,
            createdBy: 'webhook-store-contract',
          }),
        )
      }
      return { service: service.name, hooks }
    })

  const enqueue = (store: Store, service: string, event: string, payload = {}) =>
    store.transaction((tx) => tx.webhookOutbox.enqueue(service, event, payload))

  const lease = (store: Store, now = secondsFromNow(0), until = secondsFromNow(60), limit = 50) =>
    store.transaction((tx) => tx.webhooks.leaseDue(now, until, limit))

  t.test('insert, findById and list show a prefix of the secret, never the secret', async (t) => {
    const { service, hooks } = await makeHooks(store, [], ['deployment.requested'])
    const [first, second] = hooks as [Webhook, Webhook]
    t.match(first, {
      service,
      url: 'https://executor.example/hooks/0',
      events: [],
      createdBy: 'webhook-store-contract',
      disabledAt: null,
    })
    t.equal(first.secretPrefix.length, 10)
    t.ok(first.secretPrefix.startsWith('whsec_'))
    t.notOk('secret' in first, 'no secret on a webhook')
    t.notOk(Number.isNaN(Date.parse(first.createdAt)))
    t.strictSame(await store.read.webhooks.findById(first.id), first)
    t.strictSame(
      await store.transaction((tx) => tx.webhooks.findById(second.id, { forUpdate: true })),
      second,
      'a locking read returns the same webhook',
    )
    t.equal(await store.read.webhooks.findById(second.id + 1_000_000), null)

    t.strictSame(await store.read.webhooks.list({ service }), [first, second], 'oldest first')
    const other = await makeHooks(store, [])
    const everyone = await store.read.webhooks.list({})
    t.ok(everyone.some((hook) => hook.id === other.hooks[0]!.id))
    t.ok(everyone.some((hook) => hook.id === first.id))
    t.strictSame(await store.read.webhooks.list({ service: unique('nobody') }), [])
  })

  t.test('deliveries: listed newest first with what the sender did so far', async (t) => {
    const { service, hooks } = await makeHooks(store, [])
    const hook = hooks[0]!
    await enqueue(store, service, 'deployment.requested', { deployment: { id: 1 } })
    await enqueue(store, service, 'deployment.requested', { deployment: { id: 2 } })
    const [newest, oldest] = await store.read.webhooks.listDeliveries(hook.id, 10)
    t.match(oldest, {
      webhookId: hook.id,
      event: 'deployment.requested',
      payload: { deployment: { id: 1 } },
      state: 'pending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      deliveredAt: null,
    })
    t.type(oldest!.nextAttemptAt, 'string')
    t.equal(newest!.payload.deployment && (newest!.payload.deployment as { id: number }).id, 2)
    t.ok(newest!.id > oldest!.id)
    t.equal((await store.read.webhooks.listDeliveries(hook.id, 1)).length, 1, 'limit')
    t.strictSame(await store.read.webhooks.findDelivery(oldest!.id), oldest)
    t.strictSame(
      await store.transaction((tx) => tx.webhooks.findDelivery(oldest!.id, { forUpdate: true })),
      oldest,
    )
    t.equal(await store.read.webhooks.findDelivery(oldest!.id + 1_000_000), null)
  })

  t.test('leaseDue: due deliveries of enabled webhooks, each to one sender', async (t) => {
    // Its own store: leaseDue looks at every delivery, and other tests leave theirs behind.
    const store = await openDrizzle(t)
    const { service, hooks } = await makeHooks(store, [], [])
    const [a, b] = hooks as [Webhook, Webhook]
    await enqueue(store, service, 'deployment.requested', { n: 1 })
    await enqueue(store, service, 'deployment.requested', { n: 2 })
    const other = await makeHooks(store, [])
    await enqueue(store, other.service, 'deployment.requested', { n: 3 })

    t.strictSame(await lease(store, secondsFromNow(-60)), [], 'nothing is due before it was queued')

    const first = await lease(store, secondsFromNow(0), secondsFromNow(60), 3)
    t.equal(first.length, 3, 'up to the limit')
    t.strictSame(
      first.map((d) => [d.webhookId, d.payload.n]),
      [
        [a.id, 1],
        [b.id, 1],
        [a.id, 2],
      ],
      'oldest due first',
    )
    const leased = first[0]!
    t.equal(leased.url, 'https://executor.example/hooks/0', 'with the url')
    t.ok(leased.secret.startsWith(a.secretPrefix), 'and the secret to sign with')
    t.match(leased, { state: 'pending', attempts: 0 })

    const second = await lease(store)
    t.strictSame(second.map((d) => d.payload.n).sort(), [2, 3], 'the rest, not the leased ones')
    t.strictSame(await lease(store), [], 'nothing left for a third sender')
    t.equal(
      (await lease(store, secondsFromNow(61), secondsFromNow(120))).length,
      5,
      'expired leases go to whoever asks',
    )
  })

  t.test('leaseDue: two senders at once get disjoint deliveries', async (t) => {
    const store = await openDrizzle(t)
    const { service } = await makeHooks(store, [], [])
    for (let i = 0; i < 15; i += 1) await enqueue(store, service, 'deployment.requested', { i })
    const now = secondsFromNow(0)
    const [a, b] = await Promise.all([
      lease(store, now, secondsFromNow(60), 20),
      lease(store, now, secondsFromNow(60), 20),
    ])
    const ids = (deliveries: typeof a) => deliveries.map((d) => d.id)
    t.strictSame(
      ids(a).filter((id) => ids(b).includes(id)),
      [],
      'no delivery leased twice',
    )
    t.equal(a.length + b.length, 30, 'between them, every delivery')
  })

  t.test(
    'leaseDue: rows another sender is leasing are skipped, not waited for',
    {
      skip:
        testDatabaseKind === 'pglite' && 'needs PostgreSQL: PGlite runs one transaction at a time',
    },
    async (t) => {
      const store = await openDrizzle(t)
      const { service } = await makeHooks(store, [])
      for (let i = 0; i < 6; i += 1) await enqueue(store, service, 'deployment.requested', { i })
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      let reportLeased: (ids: number[]) => void = () => {}
      const firstLeased = new Promise<number[]>((resolve) => {
        reportLeased = resolve
      })
      const first = store.transaction(async (tx: StoreTransaction) => {
        const leased = await tx.webhooks.leaseDue(secondsFromNow(0), secondsFromNow(60), 3)
        reportLeased(leased.map((d) => d.id))
        await held
        return leased
      })
      const firstIds = await firstLeased
      const secondLease = lease(store, secondsFromNow(0), secondsFromNow(60), 10)
      // Had it waited for the rows the first holds, it would not settle before release().
      const gaveUp = new AbortController()
      const answered = await Promise.race([
        secondLease.then(() => true),
        delay(10_000, false, { signal: gaveUp.signal }),
      ])
      gaveUp.abort()
      t.ok(answered, 'the second sender did not wait for the first')
      if (!answered) release()
      const second = await secondLease
      t.equal(second.length, 3)
      t.strictSame(
        second.map((d) => d.id).filter((id) => firstIds.includes(id)),
        [],
        'and got none of the rows the first holds',
      )
      release()
      t.equal((await first).length, 3)
    },
  )

  t.test('markDelivered and markAttemptFailed record each attempt', async (t) => {
    const store = await openDrizzle(t)
    const { service, hooks } = await makeHooks(store, [])
    const hook = hooks[0]!
    await enqueue(store, service, 'deployment.requested', { n: 1 })
    await enqueue(store, service, 'deployment.requested', { n: 2 })
    const [one, two] = await lease(store)
    const at = secondsFromNow(1)

    await store.transaction((tx) => tx.webhooks.markDelivered(one!.id, 204, at))
    t.match(await store.read.webhooks.findDelivery(one!.id), {
      state: 'delivered',
      attempts: 1,
      lastStatus: 204,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: new Date(at).toISOString(),
    })

    const retryAt = secondsFromNow(30)
    await store.transaction((tx) =>
      tx.webhooks.markAttemptFailed(two!.id, 503, 'the receiver answered 503', retryAt),
    )
    t.match(await store.read.webhooks.findDelivery(two!.id), {
      state: 'pending',
      attempts: 1,
      lastStatus: 503,
      lastError: 'the receiver answered 503',
      nextAttemptAt: retryAt,
    })
    t.strictSame(await lease(store, secondsFromNow(10)), [], 'the lease ended, but not due yet')
    const again = await lease(store, secondsFromNow(31), secondsFromNow(90))
    t.strictSame(
      again.map((d) => [d.id, d.attempts]),
      [[two!.id, 1]],
      'due at nextAttemptAt',
    )

    await store.transaction((tx) =>
      tx.webhooks.markAttemptFailed(two!.id, null, 'connect ECONNREFUSED', null),
    )
    const failed = await store.read.webhooks.findDelivery(two!.id)
    t.match(failed, {
      state: 'failed',
      attempts: 2,
      lastStatus: null,
      lastError: 'connect ECONNREFUSED',
      nextAttemptAt: null,
    })
    t.strictSame(await lease(store, secondsFromNow(3600)), [], 'a failed delivery is not sent')

    await store.transaction((tx) =>
      tx.webhooks.markAttemptFailed(two!.id, 500, 'late report', secondsFromNow(5)),
    )
    t.strictSame(
      await store.read.webhooks.findDelivery(two!.id),
      failed,
      'a late failure does not bring a failed delivery back',
    )

    const requeueAt = secondsFromNow(2)
    const requeued = await store.transaction((tx) => tx.webhooks.requeue(two!.id, requeueAt))
    t.match(requeued, {
      state: 'pending',
      attempts: 0,
      nextAttemptAt: requeueAt,
      lastError: 'connect ECONNREFUSED',
    })
    t.strictSame(await store.read.webhooks.findDelivery(two!.id), requeued)
    t.strictSame(
      (await lease(store, secondsFromNow(3))).map((d) => d.id),
      [two!.id],
      'a requeued delivery is due again',
    )
    t.equal((await store.read.webhooks.listDeliveries(hook.id, 10)).length, 2)
  })

  t.test('disable stops new deliveries and fails the pending ones', async (t) => {
    const store = await openDrizzle(t)
    const { service, hooks } = await makeHooks(store, [], [])
    const [kept, dropped] = hooks as [Webhook, Webhook]
    await enqueue(store, service, 'deployment.requested', { n: 1 })
    const at = secondsFromNow(0)
    const disabled = await store.transaction((tx) => tx.webhooks.disable(dropped.id, at))
    t.strictSame(disabled, { ...dropped, disabledAt: new Date(at).toISOString() })
    t.strictSame(await store.read.webhooks.findById(dropped.id), disabled)
    t.match(await store.read.webhooks.listDeliveries(dropped.id, 10), [
      { state: 'failed', attempts: 0, lastError: webhookDisabledError, nextAttemptAt: null },
    ])

    await enqueue(store, service, 'deployment.requested', { n: 2 })
    t.equal((await store.read.webhooks.listDeliveries(dropped.id, 10)).length, 1, 'nothing new')
    t.equal((await store.read.webhooks.listDeliveries(kept.id, 10)).length, 2)
    t.strictSame(
      [...new Set((await lease(store)).map((d) => d.webhookId))],
      [kept.id],
      'only the enabled webhook is sent to',
    )
  })

  t.test('a rolled-back insert leaves nothing behind', async (t) => {
    const { service } = await makeHooks(store)
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.webhooks.insert({
          service,
          url: 'https://executor.example/hook',
          secret: 'whsec_x',
          events: [],
          createdBy: 'webhook-store-contract',
        })
        await delay(1)
        throw new Error('the change failed')
      }),
      /the change failed/,
    )
    t.strictSame(await store.read.webhooks.list({ service }), [])
  })
})

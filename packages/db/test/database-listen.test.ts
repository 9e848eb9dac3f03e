import { setTimeout as delay } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import type { Test } from 'tap'
import t from 'tap'
import { type DatabaseConnection, openDatabase } from '../src/database.js'
import { flagChangesChannel } from '../src/flag-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// LISTEN/NOTIFY on this pass's driver: what flag changes use to reach every replica.

async function open(t: Test): Promise<DatabaseConnection> {
  const database = await createTestDatabase()
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return connection
}

/** Collects the payloads of `channel` and waits for one to arrive. */
async function listener(t: Test, connection: DatabaseConnection, channel: string) {
  const payloads: string[] = []
  let listens = 0
  const stop = await connection.listen(
    channel,
    (payload) => payloads.push(payload),
    () => {
      listens += 1
    },
  )
  t.teardown(stop)
  return {
    payloads,
    listens: () => listens,
    stop,
    async arrival(payload: string, ms = 5_000) {
      const until = Date.now() + ms
      while (!payloads.includes(payload) && Date.now() < until) await delay(10)
      return payloads.includes(payload)
    },
  }
}

const notify = (db: DatabaseConnection['db'], channel: string, payload: string) =>
  db.execute(sql`select pg_notify(${channel}, ${payload})`)

t.test(`${testDatabaseKind}: a NOTIFY arrives once its transaction commits`, async (t) => {
  const connection = await open(t)
  const heard = await listener(t, connection, flagChangesChannel)
  t.equal(heard.listens(), 1, 'onListen ran once listening started')

  let heardBeforeCommit: string[] = []
  await connection.db.transaction(async (tx) => {
    await notify(tx as unknown as DatabaseConnection['db'], flagChangesChannel, 'ring-committed')
    await delay(50)
    heardBeforeCommit = [...heard.payloads]
  })
  t.strictSame(heardBeforeCommit, [], 'nothing is delivered before the commit')
  t.ok(await heard.arrival('ring-committed'), 'delivered after the commit')
})

t.test(`${testDatabaseKind}: a NOTIFY in a rolled-back transaction never arrives`, async (t) => {
  const connection = await open(t)
  const heard = await listener(t, connection, flagChangesChannel)
  await t.rejects(
    connection.db.transaction(async (tx) => {
      await notify(
        tx as unknown as DatabaseConnection['db'],
        flagChangesChannel,
        'ring-rolled-back',
      )
      throw new Error('the change failed')
    }),
    /the change failed/,
  )
  // Notifications arrive in commit order: once a later one is here, the earlier one would be too.
  await notify(connection.db, flagChangesChannel, 'ring-marker')
  t.ok(await heard.arrival('ring-marker'))
  t.strictSame(heard.payloads, ['ring-marker'])
})

t.test(`${testDatabaseKind}: other channels are not heard, and stop stops`, async (t) => {
  const connection = await open(t)
  const heard = await listener(t, connection, flagChangesChannel)
  await notify(connection.db, 'some_other_channel', 'ring-other')
  await notify(connection.db, flagChangesChannel, 'ring-first')
  t.ok(await heard.arrival('ring-first'))
  t.strictSame(heard.payloads, ['ring-first'], 'only its own channel')

  await heard.stop()
  await heard.stop()
  const again = await listener(t, connection, flagChangesChannel)
  await notify(connection.db, flagChangesChannel, 'ring-second')
  t.ok(await again.arrival('ring-second'), 'a listener still listening hears it')
  await delay(50)
  t.strictSame(heard.payloads, ['ring-first'], 'the stopped listener does not')
})

t.test(
  'postgres: after its connection drops, the listener listens again',
  {
    skip:
      testDatabaseKind === 'pglite' &&
      'needs PostgreSQL: PGlite runs in-process and has no connection to lose',
  },
  async (t) => {
    const connection = await open(t)
    const heard = await listener(t, connection, flagChangesChannel)
    const terminated = await connection.db.execute(
      sql`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and query ilike 'listen%'`,
    )
    t.equal((terminated as unknown as unknown[]).length, 1, 'the listening connection was cut')
    const until = Date.now() + 10_000
    while (heard.listens() < 2 && Date.now() < until) await delay(20)
    t.equal(heard.listens(), 2, 'onListen ran again: time to read what may have been missed')
    await notify(connection.db, flagChangesChannel, 'ring-after-reconnect')
    t.ok(await heard.arrival('ring-after-reconnect'), 'and notifications arrive again')
  },
)

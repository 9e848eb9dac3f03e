import { setTimeout as delay } from 'node:timers/promises'
import { AuditService, type NewAuditEvent } from '@ringmaster/domain'
import t, { type Test } from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

const appended = (subject: string): NewAuditEvent => ({
  actor: 'audit-order-test',
  action: 'test.appended',
  subject,
  data: { subject },
  requestId: null,
})

/** A gate a transaction waits at until the test opens it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

async function openStore(t: Test) {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  const store = new DrizzleStore(connection.db)
  return { connection, store, audit: new AuditService(store) }
}

const needsPostgres =
  testDatabaseKind === 'pglite' &&
  'needs PostgreSQL: PGlite is one connection, so a second transaction cannot start while one is open'

/*
 * Ids come from a sequence, so a transaction that drew its id early but commits late would be
 * skipped by a poller that already read past it. Events are written at the end of the
 * transaction, under a lock held only until its commit (ADR 0006): a transaction that appended
 * first but is still busy holds nobody up, and gets the higher id when it does commit.
 */
t.test(
  `a long transaction holds no other audited write up, and pollers still miss nothing (${testDatabaseKind})`,
  { skip: needsPostgres },
  async (t) => {
    const { store, audit } = await openStore(t)
    const start = (await audit.listAfter(0, 500)).nextAfter

    const mayCommitA = gate()
    const appendedA = gate()
    const commits: string[] = []
    const txA = store
      .transaction(async (tx) => {
        await tx.auditLog.append(appended('a'))
        appendedA.open()
        await mayCommitA.opened
      })
      .then(() => commits.push('a'))
    await appendedA.opened

    const txB = store
      .transaction((tx) => tx.auditLog.append(appended('b')))
      .then(() => commits.push('b'))
    // Before ADR 0006 B waited for A's commit here, and this race would answer 'still waiting'.
    const bOutcome = await Promise.race([
      txB.then(() => 'committed'),
      delay(10_000).then(() => 'still waiting'),
    ])
    t.equal(bOutcome, 'committed', 'B commits while A, which appended first, is still open')

    const firstPoll = await audit.listAfter(start, 100)
    t.strictSame(
      firstPoll.events.map((event) => event.subject),
      ['b'],
      'a poller sees B; A is not committed yet',
    )

    mayCommitA.open()
    await txA
    const secondPoll = await audit.listAfter(firstPoll.nextAfter, 100)
    t.strictSame(
      secondPoll.events.map((event) => event.subject),
      ['a'],
      'continuing from its cursor, the poller sees A: it took an id after B',
    )
    t.strictSame(commits, ['b', 'a'], 'commit order is id order')
    const [eventB] = firstPoll.events
    const [eventA] = secondPoll.events
    t.ok(eventA!.id > eventB!.id, 'A, committed last, has the higher id')
    t.ok(eventA!.at >= eventB!.at, 'and an `at` no earlier than B')
  },
)

t.test(
  `\`at\` follows id order when the later-started transaction commits first (${testDatabaseKind})`,
  { skip: needsPostgres },
  async (t) => {
    const { store, audit } = await openStore(t)
    const start = (await audit.listAfter(0, 500)).nextAfter

    const startedA = gate()
    const mayFinishA = gate()
    const txA = store.transaction(async (tx) => {
      // A read fixes A's transaction start; before ADR 0006 that start became its event's `at`.
      await tx.rings.list()
      startedA.open()
      await mayFinishA.opened
      await tx.auditLog.append(appended('a'))
    })
    await startedA.opened
    // Make sure B's transaction starts on a later clock tick than A's.
    await delay(20)
    await store.transaction((tx) => tx.auditLog.append(appended('b')))
    mayFinishA.open()
    await txA

    const { events } = await audit.listAfter(start, 100)
    t.strictSame(
      events.map((event) => event.subject),
      ['b', 'a'],
      'B committed first, so it has the lower id',
    )
    const [eventB, eventA] = events
    t.ok(
      eventA!.at >= eventB!.at,
      `at does not decrease in id order (b ${eventB!.at}, then a ${eventA!.at})`,
    )
  },
)

t.test(
  `an event's \`at\` is when it commits, not when its transaction started (${testDatabaseKind})`,
  async (t) => {
    const { store, audit } = await openStore(t)
    const start = (await audit.listAfter(0, 500)).nextAfter
    const name = `audit-order-${process.pid}-${Date.now()}`
    const service = await store.transaction(async (tx) => {
      // created_at defaults to now(), the transaction's start.
      const inserted = await tx.services.insert({ name, description: '', owner: null })
      await tx.auditLog.append(appended(name))
      // Work that takes a while after the append, as a big import does.
      await delay(50)
      return inserted
    })
    const { events } = await audit.listAfter(start, 100)
    t.strictSame(
      events.map((event) => event.subject),
      [name],
    )
    t.ok(
      events[0]!.at > service.createdAt,
      `stamped at the end (${events[0]!.at}), after the transaction's start (${service.createdAt})`,
    )
  },
)

t.test(`events of one transaction keep their order and ids (${testDatabaseKind})`, async (t) => {
  const { store, audit } = await openStore(t)
  const start = (await audit.listAfter(0, 500)).nextAfter
  const subjects = Array.from({ length: 1_203 }, (_, index) => `bulk:${index}`)
  await store.transaction(async (tx) => {
    for (const subject of subjects) await tx.auditLog.append(appended(subject))
  })
  const seen: { id: number; at: string; subject: string; data: unknown }[] = []
  let after = start
  for (;;) {
    const page = await audit.listAfter(after, 500)
    if (page.events.length === 0) break
    seen.push(...page.events)
    after = page.nextAfter
  }
  t.strictSame(
    seen.map((event) => event.subject),
    subjects,
    'every event, in the order appended, across insert chunks',
  )
  t.strictSame(
    seen.map((event) => event.data),
    subjects.map((subject) => ({ subject })),
  )
  t.ok(
    seen.every((event, index) => index === 0 || event.id === seen[index - 1]!.id + 1),
    'consecutive ids',
  )
  t.ok(
    seen.every((event, index) => index === 0 || event.at >= seen[index - 1]!.at),
    'at does not decrease',
  )
})

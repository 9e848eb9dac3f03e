import { setTimeout as delay } from 'node:timers/promises'
import { type AuditEvent, AuditService, type NewAuditEvent } from '@ringmaster/domain'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

const appended = (subject: string): NewAuditEvent => ({
  actor: 'audit-order-test',
  action: 'test.appended',
  subject,
  data: {},
  requestId: null,
})

/*
 * Ids come from a sequence, so without the store's append lock transaction B below would take
 * a higher id than A yet commit first; a poller reading up to B's id would then never see A.
 * On PGlite transactions run one at a time anyway; on PostgreSQL the lock is what holds B back.
 */
t.test(`a poller never skips an event that committed late (${testDatabaseKind})`, async (t) => {
  const database = await createTestDatabase()
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  const store = new DrizzleStore(connection.db)
  const audit = new AuditService(store)
  const start = (await audit.listAfter(0, 500)).nextAfter
  const commits: string[] = []

  let releaseA = () => {}
  const aMayCommit = new Promise<void>((resolve) => {
    releaseA = resolve
  })
  let reportA: (event: AuditEvent) => void = () => {}
  const aAppended = new Promise<AuditEvent>((resolve) => {
    reportA = resolve
  })
  const txA = store
    .transaction(async (tx) => {
      reportA(await tx.auditLog.append(appended('a')))
      await aMayCommit
    })
    .then(() => commits.push('a'))
  const eventA = await aAppended

  let bSettled = false
  const txB = store
    .transaction((tx) => tx.auditLog.append(appended('b')))
    .then((event) => {
      commits.push('b')
      return event
    })
    .finally(() => {
      bSettled = true
    })
  await Promise.race([txB, delay(300)])
  const firstPoll = audit.listAfter(start, 100)
  await Promise.race([firstPoll, delay(100)])
  t.notOk(bSettled, 'B cannot commit while A, which took its id first, is still open')

  releaseA()
  const [, eventB, first] = await Promise.all([txA, txB, firstPoll])
  const second = await audit.listAfter(first.nextAfter, 100)

  t.ok(eventA.id < eventB.id, 'A took the lower id')
  t.strictSame(commits, ['a', 'b'], 'commit order is id order')
  t.strictSame(
    [...first.events, ...second.events].map((event) => [event.id, event.subject]),
    [
      [eventA.id, 'a'],
      [eventB.id, 'b'],
    ],
    'the poller saw both, in id order',
  )
})

import { randomUUID } from 'node:crypto'
import type { Store } from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// The console session and server secret repositories of the Store contract, on the
// DrizzleStore: PGlite and PostgreSQL.

const openStore = async (t: Test): Promise<Store> => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return new DrizzleStore(connection.db)
}

const makeToken = (store: Store, expiresAt: string | null = null) =>
  store.read.apiTokens.insert({
    name: 'jane-console',
    role: 'approver',
    subject: `jane-${randomUUID().slice(0, 8)}`,
    ring: null,
    prefix: `rm_${randomUUID().slice(0, 9)}`,
    secretHash: 'ab'.repeat(32),
    createdBy: 'console-session-contract',
    expiresAt,
  })

t.test(`console sessions on ${testDatabaseKind}`, async (t) => {
  const store = await openStore(t)
  const token = await makeToken(store, '2030-01-01T00:00:00.000Z')
  const id = randomUUID()
  await store.transaction((tx) =>
    tx.consoleSessions.insert({
      id,
      tokenId: token.id,
      secretHash: 'cd'.repeat(32),
      createdAt: '2026-12-01T09:00:00.000Z',
      expiresAt: '2026-12-01T17:00:00.000Z',
    }),
  )

  t.same(await store.read.consoleSessions.findById(id), {
    id,
    actor: {
      tokenId: token.id,
      tokenName: 'jane-console',
      subject: token.subject,
      role: 'approver',
      ring: null,
    },
    createdAt: '2026-12-01T09:00:00.000Z',
    expiresAt: '2026-12-01T17:00:00.000Z',
    secretHash: 'cd'.repeat(32),
    tokenRevokedAt: null,
    tokenExpiresAt: '2030-01-01T00:00:00.000Z',
  })
  t.equal(await store.read.consoleSessions.findById(randomUUID()), null, 'an unknown id')

  await store.read.apiTokens.revoke(token.id, '2026-12-01T10:00:00.000Z')
  t.equal(
    (await store.read.consoleSessions.findById(id))?.tokenRevokedAt,
    '2026-12-01T10:00:00.000Z',
    'a revoked token shows through its sessions',
  )

  t.equal(await store.read.consoleSessions.delete(id), true)
  t.equal(await store.read.consoleSessions.delete(id), false, 'deleting twice finds nothing')
  t.equal(await store.read.consoleSessions.findById(id), null)
})

t.test(`expired sessions are forgotten on ${testDatabaseKind}`, async (t) => {
  const store = await openStore(t)
  const token = await makeToken(store)
  const ids = { ended: randomUUID(), live: randomUUID() }
  for (const [id, expiresAt] of [
    [ids.ended, '2026-12-01T08:59:59.000Z'],
    [ids.live, '2026-12-01T09:00:01.000Z'],
  ] as const) {
    await store.read.consoleSessions.insert({
      id,
      tokenId: token.id,
      secretHash: 'ef'.repeat(32),
      createdAt: '2026-12-01T01:00:00.000Z',
      expiresAt,
    })
  }
  t.equal(await store.read.consoleSessions.deleteExpired('2026-12-01T09:00:00.000Z'), 1)
  t.equal(await store.read.consoleSessions.findById(ids.ended), null)
  t.not(await store.read.consoleSessions.findById(ids.live), null)
})

t.test(`a server secret is made once and shared on ${testDatabaseKind}`, async (t) => {
  const store = await openStore(t)
  const name = `console-cookie-key-${randomUUID().slice(0, 8)}`
  const [first, second] = await Promise.all([
    store.read.serverSecrets.getOrCreate(name, 'first-candidate'),
    store.read.serverSecrets.getOrCreate(name, 'second-candidate'),
  ])
  t.equal(first, second, 'both callers got the same value')
  t.ok(['first-candidate', 'second-candidate'].includes(first!))
  t.equal(await store.read.serverSecrets.getOrCreate(name, 'later-candidate'), first)
})

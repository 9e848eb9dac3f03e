import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AuditService, type CommandContext, TopologyService } from '@ringmaster/domain'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { migrateDatabase, migrationStatus, migrationsFolder, rowsOf } from '../src/migrations.js'

const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
  entries: { when: number; tag: string }[]
}
const newest = journal.entries.at(-1)!

const context: CommandContext = {
  actor: {
    tokenId: 'tok-restart',
    tokenName: 'restart',
    subject: 'ivy',
    role: 'admin',
    ring: null,
  },
  requestId: 'req-restart',
}

t.test('PGlite keeps data and migrations in its data directory across a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-restart-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

  const first = await openDatabase({ kind: 'pglite', dataDir })
  let firstOpen = true
  t.teardown(async () => {
    if (firstOpen) await first.close()
  })
  await migrateDatabase(first)
  const store = new DrizzleStore(first.db)
  const topology = new TopologyService(store)
  const service = await topology.createService(context, { name: 'checkout', owner: 'payments' })
  await topology.createRing(context, { name: 'ring-0', order: 0, policy: { bakeMinutes: 20 } })
  const a = await topology.createScaleUnit(context, {
    name: 'su-a',
    region: 'westeurope',
    ring: 'ring-0',
  })
  await topology.createScaleUnit(context, {
    name: 'su-b',
    region: 'northeurope',
    ring: 'ring-0',
    pairedWith: a.name,
    labels: { canary: 'true' },
  })
  const ring = await topology.getRing('ring-0')
  const units = await topology.listScaleUnits({})
  const events = (await new AuditService(store).listAfter(0, 100)).events
  t.equal(events.length, 4)
  await first.close()
  firstOpen = false

  const second = await openDatabase({ kind: 'pglite', dataDir })
  t.teardown(() => second.close())
  t.strictSame(await migrationStatus(second), {
    migrated: true,
    expected: newest.tag,
    appliedAt: newest.when,
  })
  const reopened = new DrizzleStore(second.db)
  const again = new TopologyService(reopened)
  t.strictSame(await again.getService('checkout'), service)
  t.strictSame(await again.getRing('ring-0'), ring)
  t.equal(ring.policy.bakeMinutes, 20)
  t.strictSame(await again.listScaleUnits({}), units)
  t.equal((await again.getScaleUnit('su-a')).pairedWith, 'su-b')
  t.strictSame((await new AuditService(reopened).listAfter(0, 100)).events, events)

  const applied = rowsOf<{ count: number }>(
    await second.db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`),
  )
  await migrateDatabase(second)
  t.strictSame(
    rowsOf<{ count: number }>(
      await second.db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`),
    ),
    applied,
    'migrating the reopened database again is a no-op',
  )
})

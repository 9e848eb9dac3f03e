import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from './helpers/cli-process.js'
import { startServer } from './helpers/server-process.js'

t.test('topology apply creates, is idempotent, updates, and prunes with --prune', async (t) => {
  const server = await startServer(t)
  const env = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
  const dir = mkdtempSync(join(tmpdir(), 'ringmaster-topology-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'topology.yaml')
  const write = (teamRegion: string, extra: string) =>
    writeFileSync(
      file,
      `rings:
  - name: ring-0
    order: 0
    description: the team
    policy: { preApproval: { role: approver, minApprovals: 1, ttlHours: 24 }, bakeMinutes: 60 }
  - { name: ring-1, order: 1 }
scaleUnits:
  - { name: team-wus2, region: ${teamRegion}, ring: ring-0, labels: { audience: team } }
  - { name: prod-weu, region: westeurope, ring: ring-1, pairedWith: prod-neu }
  - { name: prod-neu, region: northeurope, ring: ring-1, trafficWeight: 3 }
${extra}`,
    )
  write('westus2', '  - { name: spare-eus, region: eastus, ring: ring-1 }\n')

  const first = await runCli(t, ['topology', 'apply', '-f', file, '-o', 'json'], env)
  t.equal(first.code, 0, first.stderr)
  const created = JSON.parse(first.stdout)
  t.equal(created.changed, true)
  t.same(
    created.changes
      .filter((change: { action: string }) => change.action === 'create')
      .map((change: { name: string }) => change.name),
    ['ring-0', 'ring-1', 'team-wus2', 'prod-weu', 'prod-neu', 'spare-eus'],
  )
  const { scaleUnits } = await server.call('GET', '/v1/scale-units')
  const byName = Object.fromEntries(scaleUnits.map((unit: { name: string }) => [unit.name, unit]))
  t.match(byName['prod-weu'], { ring: 'ring-1', pairedWith: 'prod-neu' })
  t.match(byName['prod-neu'], { pairedWith: 'prod-weu', trafficWeight: 3 })
  t.same(byName['team-wus2'].labels, { audience: 'team' })
  const ring0 = await server.call('GET', '/v1/rings/ring-0')
  t.match(ring0.policy, { bakeMinutes: 60, preApproval: { role: 'approver', minApprovals: 1 } })
  const eventsAfterFirst = (await server.call('GET', '/v1/events?after=0&limit=500')).events.length

  const second = await runCli(t, ['topology', 'apply', '-f', file], env)
  t.equal(second.code, 0, second.stderr)
  t.equal(second.stdout, 'topology is up to date: no changes\n')
  const secondJson = await runCli(t, ['topology', 'apply', '-f', file, '-o', 'json'], env)
  t.same(JSON.parse(secondJson.stdout), { changed: false, dryRun: false, changes: [] })
  t.equal(
    (await server.call('GET', '/v1/events?after=0&limit=500')).events.length,
    eventsAfterFirst,
    'nothing audited',
  )

  // spare-eus is gone from the file and team-wus2 moved: without --prune it stays.
  write('eastus2', '')
  const update = await runCli(t, ['topology', 'apply', '-f', file], env)
  t.equal(update.code, 0, update.stderr)
  t.equal(update.stdout, 'updated scale unit team-wus2 (region)\n')
  const dryRun = await runCli(t, ['topology', 'apply', '-f', file, '--prune', '--dry-run'], env)
  t.match(dryRun.stdout, /would change \(dry run\):\n {2}deleted scale unit spare-eus\n/)
  t.ok(await server.call('GET', '/v1/scale-units/spare-eus'), 'a dry run deletes nothing')
  const pruned = await runCli(t, ['topology', 'apply', '-f', file, '--prune'], env)
  t.equal(pruned.code, 0, pruned.stderr)
  t.equal(pruned.stdout, 'deleted scale unit spare-eus\n')
  await t.rejects(server.call('GET', '/v1/scale-units/spare-eus'), /404/)
  const last = await runCli(t, ['topology', 'apply', '-f', file, '--prune'], env)
  t.equal(last.stdout, 'topology is up to date: no changes\n')
})

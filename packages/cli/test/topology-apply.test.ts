import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultRingPolicy } from '@ringmaster/sdk'
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

t.test(
  'topology apply swaps ring orders, and a field left out of the file goes back to its default',
  async (t) => {
    const server = await startServer(t)
    const env = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-topology-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'topology.yaml')
    writeFileSync(
      file,
      `rings:
  - name: canary
    order: 0
    description: the team
    policy: { preApproval: { role: approver, minApprovals: 1, ttlHours: 24 }, approvalTimeoutMinutes: 240, manualPromotion: true, bakeMinutes: 30, health: { maxErrorRate: 0.02 } }
  - { name: early, order: 1 }
  - { name: broad, order: 2 }
scaleUnits:
  - { name: su-one, region: westus2, ring: canary, labels: { tier: gold }, trafficWeight: 5, pairedWith: su-two }
  - { name: su-two, region: eastus, ring: early }
`,
    )
    const first = await runCli(t, ['topology', 'apply', '-f', file], env)
    t.equal(first.code, 0, first.stderr)
    t.match(await server.call('GET', '/v1/scale-units/su-two'), { pairedWith: 'su-one' })
    t.equal((await server.call('GET', '/v1/rings/canary')).policy.approvalTimeoutMinutes, 240)

    // canary and early swap; canary loses its description and most of its policy, su-one its
    // labels, weight and pair. An apply that stopped half-way left canary at a temporary order.
    writeFileSync(
      file,
      `rings:
  - { name: early, order: 0 }
  - name: canary
    order: 1
    policy: { bakeMinutes: 30 }
  - { name: broad, order: 2 }
scaleUnits:
  - { name: su-one, region: westus2, ring: canary }
  - { name: su-two, region: eastus, ring: early }
`,
    )
    await server.call('PATCH', '/v1/rings/canary', { order: 1000 })

    const dryRun = await runCli(t, ['topology', 'apply', '-f', file, '--dry-run'], env)
    t.equal(dryRun.code, 0, dryRun.stderr)
    t.match(dryRun.stdout, /^would change \(dry run\):\n {2}updated ring early \(order\)\n/)
    t.equal((await server.call('GET', '/v1/rings/early')).order, 1, 'a dry run moves nothing')

    const applied = await runCli(t, ['topology', 'apply', '-f', file, '-o', 'json'], env)
    t.equal(applied.code, 0, applied.stderr)
    t.same(JSON.parse(applied.stdout).changes, [
      { action: 'update', kind: 'ring', name: 'early', fields: ['order'] },
      {
        action: 'update',
        kind: 'ring',
        name: 'canary',
        fields: ['order', 'description', 'policy'],
      },
      { action: 'update', kind: 'scale unit', name: 'su-one', fields: ['labels', 'trafficWeight'] },
      { action: 'update', kind: 'scale unit', name: 'su-one', fields: ['pairedWith'] },
    ])
    const { rings } = await server.call('GET', '/v1/rings')
    t.same(
      rings.map((ring: { name: string; order: number }) => [ring.name, ring.order]),
      [
        ['early', 0],
        ['canary', 1],
        ['broad', 2],
      ],
    )
    const canary = rings[1]
    t.equal(canary.description, '')
    // broad was made with no policy: its policy is the default, which canary's must now be, bar the bake.
    t.same(canary.policy, { ...rings[2].policy, bakeMinutes: 30 })
    t.equal(canary.policy.approvalTimeoutMinutes, null, 'the timeout left out: none again')
    // The CLI's default is the one the OpenAPI document publishes (through the SDK): it is what
    // the server gave broad, so an apply and a create agree.
    t.same(rings[2].policy, defaultRingPolicy)
    t.match(await server.call('GET', '/v1/scale-units/su-one'), {
      labels: {},
      trafficWeight: 1,
      pairedWith: null,
    })
    t.equal((await server.call('GET', '/v1/scale-units/su-two')).pairedWith, null)

    const again = await runCli(t, ['topology', 'apply', '-f', file], env)
    t.equal(again.stdout, 'topology is up to date: no changes\n')

    // A swap whose other side is a ring the file does not list is refused before anything moves.
    writeFileSync(
      file,
      `rings:
  - { name: early, order: 2 }
  - { name: canary, order: 1, policy: { bakeMinutes: 30 } }
`,
    )
    const refused = await runCli(t, ['topology', 'apply', '-f', file], env)
    t.equal(refused.code, 1)
    t.match(refused.stderr, /ring early is to get order 2, which ring broad has/)
    t.equal((await server.call('GET', '/v1/rings/early')).order, 0)

    writeFileSync(file, 'rings:\n  - { name: early, order: 0, descripton: typo }\n')
    const typo = await runCli(t, ['topology', 'apply', '-f', file], env)
    t.equal(typo.code, 2)
    t.match(typo.stderr, /unknown field descripton/)
  },
)

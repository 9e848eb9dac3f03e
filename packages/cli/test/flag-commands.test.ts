import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from './helpers/cli-process.js'
import { startServer } from './helpers/server-process.js'

const flagsYaml = (rollout: number, tags: string) => `flags:
  - key: new-checkout
    description: the new checkout flow
    type: release
    owner: team-checkout
    tags: ${tags}
    rings:
      ring-0: { enabled: true }
      ring-1:
        enabled: true
        strategies:
          - name: flexibleRollout
            parameters: { rollout: ${rollout}, stickiness: default, groupId: new-checkout }
            constraints:
              - { contextName: country, operator: IN, values: [de, fr] }
  - key: dark-mode
    project: web
    variants:
      - { name: dark, weight: 500 }
      - { name: light, weight: 500 }
    rings: { ring-0: { enabled: false } }
`

t.test(
  'flags import creates, updates and then changes nothing; list, show, enable, disable',
  async (t) => {
    const server = await startServer(t)
    await server.call('POST', '/v1/rings', { name: 'ring-0', order: 0 })
    await server.call('POST', '/v1/rings', { name: 'ring-1', order: 1 })
    await server.call('POST', '/v1/rings', { name: 'ring-2', order: 2 })
    const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-flags-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'flags.yaml')
    writeFileSync(file, flagsYaml(25, '[checkout]'))

    const dryRun = await runCli(t, ['flags', 'import', '-f', file, '--dry-run'], admin)
    t.equal(dryRun.code, 0, dryRun.stderr)
    t.equal(
      dryRun.stdout,
      'would change (dry run):\n  created flag new-checkout\n  created flag dark-mode\n',
    )
    t.same((await server.call('GET', '/v1/flags')).flags, [], 'a dry run writes nothing')

    const created = await runCli(t, ['flags', 'import', '-f', file, '-o', 'json'], admin)
    t.equal(created.code, 0, created.stderr)
    t.same(JSON.parse(created.stdout), {
      changed: true,
      dryRun: false,
      changes: [
        { action: 'create', key: 'new-checkout' },
        { action: 'create', key: 'dark-mode' },
      ],
    })
    const flag = await server.call('GET', '/v1/flags/new-checkout')
    t.match(flag, {
      description: 'the new checkout flow',
      owner: 'team-checkout',
      tags: ['checkout'],
      rings: [
        { ring: 'ring-0', enabled: true, strategies: [] },
        {
          ring: 'ring-1',
          enabled: true,
          strategies: [
            {
              name: 'flexibleRollout',
              parameters: { rollout: '25', stickiness: 'default', groupId: 'new-checkout' },
              constraints: [{ contextName: 'country', operator: 'IN', values: ['de', 'fr'] }],
            },
          ],
        },
      ],
    })
    t.match(await server.call('GET', '/v1/flags/dark-mode'), {
      project: 'web',
      variants: [{ name: 'dark' }, { name: 'light' }],
      rings: [{ ring: 'ring-0', enabled: false }],
    })

    const again = await runCli(t, ['flags', 'import', '-f', file], admin)
    t.equal(again.code, 0, again.stderr)
    t.equal(again.stdout, 'flags are up to date: no changes\n')

    const enabled = await runCli(t, ['flags', 'enable', 'dark-mode', '--ring', 'ring-1'], admin)
    t.equal(enabled.code, 0, enabled.stderr)
    t.equal(enabled.stdout, 'enabled dark-mode in ring-1\n')
    const disabled = await runCli(
      t,
      ['flags', 'disable', 'new-checkout', '--ring', 'ring-0', '-o', 'json'],
      admin,
    )
    t.equal(disabled.code, 0, disabled.stderr)
    t.match(JSON.parse(disabled.stdout).rings, [{ ring: 'ring-0', enabled: false }])
    t.match((await server.call('GET', '/v1/flags/dark-mode')).rings, [
      { ring: 'ring-0', enabled: false },
      { ring: 'ring-1', enabled: true },
    ])

    const shown = await runCli(t, ['flags', 'show', 'new-checkout'], admin)
    t.equal(shown.code, 0, shown.stderr)
    t.equal(
      shown.stdout,
      `new-checkout (release, project default) — the new checkout flow
  owner team-checkout
  tags checkout
  RING    STATE  STRATEGIES
  ring-0  off    (when on: everyone)
  ring-1  on     rollout 25% where country IN de,fr
  ring-2  off    not configured
`,
    )
    const list = await runCli(t, ['flags', 'list'], admin)
    t.equal(
      list.stdout,
      `dark-mode     release  web      ring-0 off, ring-1 on
new-checkout  release  default  ring-0 off, ring-1 on
`,
    )
    const found = await runCli(
      t,
      ['flags', 'list', '--query', 'CHECKOUT flow', '-o', 'json'],
      admin,
    )
    t.same(
      JSON.parse(found.stdout).flags.map((one: { key: string }) => one.key),
      ['new-checkout'],
    )
    const web = await runCli(t, ['flags', 'list', '--project', 'web'], admin)
    t.match(web.stdout, /^dark-mode /)
    t.notMatch(web.stdout, 'new-checkout')

    // The file changes the rollout and the tags; new-checkout's ring-0 was turned off by hand and
    // the file says on, so that is put back. dark-mode's ring-1 is not in the file and stays on.
    writeFileSync(file, flagsYaml(50, '[checkout, web]'))
    const updated = await runCli(t, ['flags', 'import', '-f', file], admin)
    t.equal(updated.code, 0, updated.stderr)
    t.equal(
      updated.stdout,
      'updated flag new-checkout (tags, rings.ring-0.enabled, rings.ring-1.strategies)\n',
    )
    const after = await server.call('GET', '/v1/flags/new-checkout')
    t.same(after.tags, ['checkout', 'web'])
    t.equal(after.owner, 'team-checkout', 'fields the file gives are kept')
    t.match(after.rings, [
      { ring: 'ring-0', enabled: true },
      { ring: 'ring-1', strategies: [{ parameters: { rollout: '50' } }] },
    ])
    t.match((await server.call('GET', '/v1/flags/dark-mode')).rings, [
      { ring: 'ring-0', enabled: false },
      { ring: 'ring-1', enabled: true },
    ])
    const settled = await runCli(t, ['flags', 'import', '-f', file, '-o', 'json'], admin)
    t.same(JSON.parse(settled.stdout), { changed: false, dryRun: false, changes: [] })

    // The same flags as JSON are the same declaration.
    const json = join(dir, 'flags.json')
    writeFileSync(
      json,
      JSON.stringify({
        flags: [
          { key: 'new-checkout', owner: 'team-payments', rings: { 'ring-2': { enabled: true } } },
        ],
      }),
    )
    const fromJson = await runCli(t, ['flags', 'import', '-f', json], admin)
    t.equal(fromJson.code, 0, fromJson.stderr)
    t.equal(fromJson.stdout, 'updated flag new-checkout (owner, rings.ring-2)\n')
    const last = await server.call('GET', '/v1/flags/new-checkout')
    t.equal(last.owner, 'team-payments')
    t.same(last.tags, ['checkout', 'web'], 'what the JSON file leaves out is kept')
    t.same(
      last.rings.map((ring: { ring: string; enabled: boolean }) => [ring.ring, ring.enabled]),
      [
        ['ring-0', true],
        ['ring-1', true],
        ['ring-2', true],
      ],
    )
  },
)

t.test('flags commands report mistakes: usage before any request, API errors after', async (t) => {
  const server = await startServer(t)
  await server.call('POST', '/v1/rings', { name: 'ring-0', order: 0 })
  const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
  const dir = mkdtempSync(join(tmpdir(), 'ringmaster-flags-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const noRing = await runCli(t, ['flags', 'enable', 'new-checkout'], admin)
  t.equal(noRing.code, 2)
  t.match(noRing.stderr, '--ring is required')
  const badKey = await runCli(t, ['flags', 'show', 'new checkout'], admin)
  t.equal(badKey.code, 2)
  const badType = await runCli(t, ['flags', 'list', '--type', 'banana'], admin)
  t.equal(badType.code, 2)
  t.match(badType.stderr, '--type must be one of release, experiment')
  const twice = join(dir, 'twice.yaml')
  writeFileSync(twice, 'flags:\n  - { key: a }\n  - { key: a }\n')
  const duplicate = await runCli(t, ['flags', 'import', '-f', twice], admin)
  t.equal(duplicate.code, 2)
  t.match(duplicate.stderr, 'flag a appears twice')

  const missing = await runCli(t, ['flags', 'show', 'nope'], admin)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /\(404 /)
  const invalid = join(dir, 'invalid.yaml')
  writeFileSync(invalid, 'flags:\n  - { key: bad-type, type: banana }\n')
  const rejected = await runCli(t, ['flags', 'import', '-f', invalid], admin)
  t.equal(rejected.code, 1)
  t.match(rejected.stderr, /\(400 /)
  t.same((await server.call('GET', '/v1/flags')).flags, [])
})

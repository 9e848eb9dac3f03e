import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually, runCli } from './helpers/cli-process.js'
import { auditEvents, pendingDeployment, setUpRelease } from './helpers/release-setup.js'

t.test(
  'agent --once deploys; promote cuts the bake short; halt and resume; rollback is undone by the agent',
  async (t) => {
    // A long bake, and no automatic rollback: the release waits in ring-0 until someone acts.
    const setup = await setUpRelease(t, { bakeMinutes: 60, autoRollback: false })
    const { server, dir, service } = setup
    const runs = join(dir, 'runs')
    writeFileSync(runs, '')
    const agentOnce = () =>
      runCli(
        t,
        [
          'agent',
          '--once',
          '--scale-unit',
          'team-wus2',
          '--exec',
          `echo {kind} {service} {version} {scaleUnit} >> ${runs}; echo done`,
          '-o',
          'json',
        ],
        setup.pipeline,
      )

    const idle = await agentOnce()
    t.equal(idle.code, 0, idle.stderr)
    t.same(JSON.parse(idle.stdout), { scaleUnit: 'team-wus2', deployments: [] }, 'no work, no runs')

    const created = await runCli(
      t,
      ['release', 'create', '--service', service, '--version', '1.0.0', '-o', 'json'],
      setup.pipeline,
    )
    t.equal(created.code, 0, created.stderr)
    const id = JSON.parse(created.stdout).id as number
    const approved = await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)

    const work = await pendingDeployment(server, 'team-wus2')
    const once = await agentOnce()
    t.equal(once.code, 0, once.stderr)
    t.same(JSON.parse(once.stdout), {
      scaleUnit: 'team-wus2',
      deployments: [{ deploymentId: work.id, releaseId: id, succeeded: true, healthy: true }],
    })
    t.equal(readFileSync(runs, 'utf8'), 'deploy checkout 1.0.0 team-wus2\n')
    const deployed = await server.call('GET', `/v1/deployments/${work.id}`)
    t.match(deployed, { state: 'succeeded', message: 'exit 0\ndone', attempt: 1 })
    const started = await auditEvents(server, 'deployment.started')
    t.equal(started.length, 1, 'the agent marked it started once')

    const baking = await eventually('ring-0 to bake', async () => {
      const release = await server.call('GET', `/v1/releases/${id}`)
      return release.stages[0].state === 'baking' && release
    })
    t.match(baking.blockedBy, [{ kind: 'bake' }])

    const promoted = await runCli(
      t,
      ['promote', String(id), '--reason', 'the canary is fine', '-o', 'json'],
      setup.lead,
    )
    t.equal(promoted.code, 0, promoted.stderr)
    t.equal(JSON.parse(promoted.stdout).stages[0].state, 'succeeded')
    const [promotion] = await auditEvents(server, 'release.promoted')
    t.match(promotion, {
      actor: 'jane',
      data: { ring: 'ring-0', from: 'baking', reason: 'the canary is fine' },
    })
    t.ok(promotion?.data.bakeCutShortAt, 'the audit says the bake was cut short')
    await eventually('ring-1 to deploy', async () => {
      const release = await server.call('GET', `/v1/releases/${id}`)
      // prod-weu and prod-neu are a region pair: one wave each, so one deployment at a time.
      return release.stages[1].deployments.length === 1
    })

    const halted = await runCli(t, ['halt', String(id), '--reason', 'alerts'], setup.lead)
    t.equal(halted.code, 0, halted.stderr)
    t.equal((await server.call('GET', `/v1/releases/${id}`)).state, 'halted')
    const resumed = await runCli(
      t,
      ['resume', String(id), '--reason', 'false alarm', '-o', 'json'],
      setup.admin,
    )
    t.equal(resumed.code, 0, resumed.stderr)
    t.match(JSON.parse(resumed.stdout), { state: 'in_progress', halt: null })
    t.equal((await server.call('GET', `/v1/releases/${id}`)).state, 'in_progress')
    t.match(await auditEvents(server, 'release.resumed'), [{ data: { reason: 'false alarm' } }])

    const rolledBack = await runCli(
      t,
      ['rollback', String(id), '--reason', 'error budget burnt'],
      setup.admin,
    )
    t.equal(rolledBack.code, 0, rolledBack.stderr)
    t.match(rolledBack.stdout, new RegExp(`rolling back release ${id}\\n.* rolled_back`))
    const rollbacks = await auditEvents(server, 'release.rolled_back')
    t.match(rollbacks, [{ data: { reason: 'error budget burnt' } }])
    t.equal(
      (rollbacks[0]?.data.rollbackDeployments as number[] | undefined)?.length,
      1,
      'only ring-0 ran it, so one deployment undoes it',
    )
    const after = await server.call('GET', `/v1/releases/${id}`)
    t.equal(after.state, 'rolled_back')
    t.match(
      after.stages[1].deployments,
      [
        {
          state: 'rolled_back',
          message: 'withdrawn before it started: release rolled back (error budget burnt)',
        },
      ],
      'ring-1 work that had not started is withdrawn',
    )
    const undo = await pendingDeployment(server, 'team-wus2')
    t.match(undo, { kind: 'rollback', version: null, releaseId: id })

    // The agent runs the undo: the first release has nothing to go back to, so {version} is empty.
    const undone = await agentOnce()
    t.equal(undone.code, 0, undone.stderr)
    t.equal(
      readFileSync(runs, 'utf8'),
      'deploy checkout 1.0.0 team-wus2\nrollback checkout  team-wus2\n',
    )
    t.equal((await server.call('GET', `/v1/deployments/${work.id}`)).state, 'rolled_back')
    t.match(await auditEvents(server, 'deployment.rolled_back'), [
      { data: { deploymentId: work.id, by: undo.id } },
    ])
  },
)

t.test('cancel withdraws a release that waits for approval; a second cancel fails', async (t) => {
  const setup = await setUpRelease(t)
  const { server, service } = setup
  const created = await runCli(
    t,
    ['release', 'create', '--service', service, '--version', '2.0.0', '-o', 'json'],
    setup.pipeline,
  )
  t.equal(created.code, 0, created.stderr)
  const id = JSON.parse(created.stdout).id as number

  const noReason = await runCli(t, ['cancel', String(id)], setup.pipeline)
  t.equal(noReason.code, 2)
  t.match(noReason.stderr, /--reason is required/)
  t.notOk(
    (await server.call('GET', `/v1/releases/${id}`)).finishedAt,
    'a usage error changes nothing',
  )

  const cancelled = await runCli(
    t,
    ['cancel', String(id), '--reason', 'wrong build', '-o', 'json'],
    setup.pipeline,
  )
  t.equal(cancelled.code, 0, cancelled.stderr)
  t.equal(JSON.parse(cancelled.stdout).state, 'cancelled')
  const release = await server.call('GET', `/v1/releases/${id}`)
  t.equal(release.state, 'cancelled')
  t.ok(release.finishedAt)
  t.same(release.blockedBy, [])
  t.match(await auditEvents(server, 'release.cancelled'), [
    { actor: 'checkout-ci', subject: `release:${id}`, data: { reason: 'wrong build' } },
  ])

  const again = await runCli(t, ['cancel', String(id), '--reason', 'twice'], setup.pipeline)
  t.equal(again.code, 1)
  t.match(again.stderr, /^error: .*\(409 /)
  t.equal((await auditEvents(server, 'release.cancelled')).length, 1, 'nothing more audited')
})

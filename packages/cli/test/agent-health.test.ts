import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { auditEvents, setUpRelease } from './helpers/release-setup.js'

t.test('an unhealthy --health-cmd halts the release at the health gate: exit 3', async (t) => {
  // A bake, so the report lands while ring-0's health gate is open; halt rather than roll back.
  const setup = await setUpRelease(t, { bakeMinutes: 60, autoRollback: false })
  const { server, dir, service } = setup
  const checks = join(dir, 'checks')
  writeFileSync(join(dir, 'health.sh'), `echo "$@" >> ${checks}\necho "5xx rate 40%"\nexit 1\n`)
  const agent = startCli(
    t,
    [
      'agent',
      '--scale-unit',
      'team-wus2',
      '--exec',
      'echo deployed',
      '--health-cmd',
      `sh ${join(dir, 'health.sh')} {service} {version} {scaleUnit}`,
      '--interval',
      '250ms',
    ],
    setup.pipeline,
  )
  const create = startCli(
    t,
    [
      'release',
      'create',
      '--service',
      service,
      '--version',
      '1.0.0',
      '--wait',
      '--interval',
      '250ms',
      '-o',
      'json',
    ],
    setup.pipeline,
  )
  const id = await eventually('the release', async () => {
    const { releases } = await server.call('GET', `/v1/releases?service=${service}`)
    return releases[0]?.id as number | undefined
  })
  const approved = await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)
  t.equal(approved.code, 0, approved.stderr)

  const result = await create.done
  t.equal(result.code, 3, result.stderr)
  const release = JSON.parse(result.stdout)
  t.equal(release.state, 'halted')
  t.match(release.halt, { cause: 'health_failed' })
  t.match(release.stages[0].deployments, [{ scaleUnit: 'team-wus2', state: 'succeeded' }])
  t.equal((await server.call('GET', `/v1/releases/${id}`)).state, 'halted')
  t.match(await auditEvents(server, 'release.halted'), [{ data: { cause: 'health_failed' } }])
  t.equal(
    readFileSync(checks, 'utf8').split('\n')[0],
    'checkout 1.0.0 team-wus2',
    'the check ran for what was deployed',
  )

  agent.process.kill('SIGTERM')
  const ended = await agent.done
  t.equal(ended.code, 0)
  t.match(ended.stdout, /\[team-wus2 health checkout\] 5xx rate 40%/)
  t.match(ended.stdout, /\[team-wus2 health checkout\] unhealthy \(exit 1\)/)
  t.match(ended.stdout, new RegExp(`health gate of release ${id} in ring-0 failed`))
})

t.test(
  'a healthy --health-cmd lets the release through and checks again every interval',
  async (t) => {
    const setup = await setUpRelease(t)
    const { server, dir, service } = setup
    const checks = join(dir, 'checks')
    writeFileSync(checks, '')
    const agent = startCli(
      t,
      [
        'agent',
        '--scale-unit',
        'team-wus2',
        '--exec',
        'echo deployed',
        '--health-cmd',
        `echo {service} {version} {scaleUnit} >> ${checks}`,
        '--health-interval',
        '500ms',
        '--interval',
        '250ms',
      ],
      setup.pipeline,
    )
    const create = startCli(
      t,
      [
        'release',
        'create',
        '--service',
        service,
        '--version',
        '1.2.0',
        '--wait',
        '--until',
        'ring-0',
        '--interval',
        '250ms',
      ],
      setup.pipeline,
    )
    const id = await eventually('the release', async () => {
      const { releases } = await server.call('GET', `/v1/releases?service=${service}`)
      return releases[0]?.id as number | undefined
    })
    t.equal((await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)).code, 0)
    const result = await create.done
    t.equal(result.code, 0, result.stderr)
    t.equal((await server.call('GET', `/v1/releases/${id}`)).stages[0].state, 'succeeded')

    // After the deployment's own check, the periodic ones for what runs there now.
    const lines = await eventually('three health checks', async () => {
      const text = readFileSync(checks, 'utf8').trim()
      const found = text ? text.split('\n') : []
      return found.length >= 3 && found
    })
    t.ok(
      lines.every((line) => line === 'checkout 1.2.0 team-wus2'),
      lines.join(', '),
    )
    agent.process.kill('SIGTERM')
    const ended = await agent.done
    t.equal(ended.code, 0)
    t.match(ended.stdout, /\[team-wus2 health checkout\] healthy \(exit 0\)/)
    t.notMatch(ended.stdout, /\] unhealthy/)
    t.match(ended.stdout, /ran 1 deployment\(s\), 0 failed, 0 unhealthy/)
  },
)

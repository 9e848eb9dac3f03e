import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

t.test('timeout exits 4, a halt exits 3, a rejection exits 1', async (t) => {
  const setup = await setUpRelease(t)
  const { server, service } = setup

  const timedOut = await runCli(
    t,
    [
      'release',
      'create',
      '--service',
      service,
      '--version',
      '2.0.0',
      '--wait',
      '--timeout',
      '2s',
      '--interval',
      '250ms',
      '-o',
      'json',
    ],
    setup.pipeline,
  )
  t.equal(timedOut.code, 4, 'timed out')
  t.match(timedOut.stderr, /timed out after 2 s waiting for release \d+/)
  const waiting = JSON.parse(timedOut.stdout)
  t.equal(waiting.state, 'in_progress')
  t.match(waiting.blockedBy, [{ kind: 'approval' }])

  const status = startCli(
    t,
    ['release', 'status', String(waiting.id), '--wait', '--interval', '250ms'],
    setup.pipeline,
  )
  const halted = await runCli(t, ['halt', String(waiting.id), '--reason', 'db alarms'], setup.lead)
  t.equal(halted.code, 0, halted.stderr)
  const watched = await status.done
  t.equal(watched.code, 3, 'halted')
  t.match(watched.stdout, /halted \(halted by jane: db alarms\)/)

  await server.call('POST', '/v1/services', { name: 'payments' })
  const create = startCli(
    t,
    [
      'release',
      'create',
      '--service',
      'payments',
      '--version',
      '3.0.0',
      '--wait',
      '--interval',
      '250ms',
    ],
    setup.pipeline,
  )
  const id = await eventually('the payments release', async () => {
    const { releases } = await server.call('GET', '/v1/releases?service=payments')
    return releases[0]?.id as number | undefined
  })
  const rejected = await runCli(
    t,
    ['reject', String(id), '--ring', 'ring-0', '--comment', 'not this one'],
    setup.lead,
  )
  t.equal(rejected.code, 0, rejected.stderr)
  const failed = await create.done
  t.equal(failed.code, 1, 'failed')
  t.match(failed.stdout, /payments 3\.0\.0 failed/)
})

t.test(
  'a failed deployment halts the release: exit 3, and the agent reports the output',
  async (t) => {
    const setup = await setUpRelease(t)
    const agent = startCli(
      t,
      [
        'agent',
        '--scale-unit',
        'team-wus2',
        '--exec',
        'echo "cannot reach {scaleUnit}"; exit 7',
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
        setup.service,
        '--version',
        '1.0.1',
        '--wait',
        '--interval',
        '250ms',
        '-o',
        'json',
      ],
      setup.pipeline,
    )
    const id = await eventually('the release', async () => {
      const { releases } = await setup.server.call('GET', `/v1/releases?service=${setup.service}`)
      return releases[0]?.id as number | undefined
    })
    const approved = await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    const result = await create.done
    t.equal(result.code, 3, result.stderr)
    const release = JSON.parse(result.stdout)
    t.equal(release.state, 'halted')
    t.equal(release.halt.cause, 'deployment_failed')
    const [deployment] = release.stages[0].deployments
    t.equal(deployment.state, 'failed')
    t.equal(deployment.message, 'exit 7\ncannot reach team-wus2')
    agent.process.kill('SIGTERM')
    const ended = await agent.done
    t.equal(ended.code, 0)
    t.match(ended.stdout, /failed \(exit 7\)/)
  },
)

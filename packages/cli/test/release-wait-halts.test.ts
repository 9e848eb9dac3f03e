import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

interface Halt {
  id: number
  createdAt: string
  incidentId: number | null
}

t.test('--wait under a stopped line exits 3 saying which halts hold the release', async (t) => {
  const setup = await setUpRelease(t)
  const { server, service } = setup
  const stopped = await runCli(
    t,
    ['line', 'stop', '--reason', 'db alarms', '-o', 'json'],
    setup.lead,
  )
  t.equal(stopped.code, 0, stopped.stderr)
  const global: Halt = JSON.parse(stopped.stdout)

  // The timeout is far off: exit 4 here would mean the halt was not recognised.
  const created = await runCli(
    t,
    [
      'release',
      'create',
      '--service',
      service,
      '--version',
      '1.0.0',
      '--wait',
      '--timeout',
      '5m',
      '--interval',
      '250ms',
      '-o',
      'json',
    ],
    setup.pipeline,
  )
  t.equal(created.code, 3, created.stderr)
  t.match(
    created.stderr,
    `held: halt ${global.id} (everywhere) by jane since ${global.createdAt}: db alarms (lift it: ringmaster line resume ${global.id})`,
  )
  t.match(
    created.stderr,
    /is held by a halt: exit 3 \(--ride-out-halts waits for the lift instead\)/,
  )
  const release = JSON.parse(created.stdout)
  t.equal(release.state, 'queued', 'held before it entered ring-0')
  t.match(release.blockedBy, [
    { kind: 'halt', halt: { id: global.id, scope: 'global', by: 'jane' } },
  ])

  // An incident stops the line for the service too: status --wait names both halts.
  const declared = await runCli(
    t,
    [
      'incident',
      'declare',
      '--service',
      service,
      '--title',
      'checkout 500s',
      '--severity',
      'sev2',
      '--halt',
      '-o',
      'json',
    ],
    setup.lead,
  )
  t.equal(declared.code, 0, declared.stderr)
  const incident = JSON.parse(declared.stdout)
  const { halts } = await server.call('GET', '/v1/halts?active=true')
  const incidentHalt = halts.find((halt: Halt) => halt.id === incident.haltId) as Halt
  t.equal(incidentHalt.incidentId, incident.id)
  const status = await runCli(
    t,
    ['release', 'status', String(release.id), '--wait', '--timeout', '5m', '--interval', '250ms'],
    setup.pipeline,
  )
  t.equal(status.code, 3, status.stderr)
  t.match(status.stderr, `held: halt ${global.id} (everywhere) by jane`)
  t.match(
    status.stderr,
    `held: halt ${incidentHalt.id} (service ${service}, incident ${incident.id}) by jane since ${incidentHalt.createdAt}: incident ${incident.id}: checkout 500s`,
  )
  t.match(status.stderr, /is held by 2 halts: exit 3/)

  // --until a ring does not change it: the ring cannot succeed while the line is stopped.
  const until = await runCli(
    t,
    ['release', 'status', String(release.id), '--wait', '--until', 'ring-0', '--interval', '250ms'],
    setup.pipeline,
  )
  t.equal(until.code, 3, until.stderr)

  // Without --wait it is a look, not a verdict.
  const look = await runCli(t, ['release', 'status', String(release.id)], setup.pipeline)
  t.equal(look.code, 0, look.stderr)
  t.match(look.stdout, `blocked by halt: halted by jane (everywhere): db alarms`)
  const misuse = await runCli(
    t,
    ['release', 'status', String(release.id), '--ride-out-halts'],
    setup.pipeline,
  )
  t.equal(misuse.code, 2)
  t.match(misuse.stderr, /--ride-out-halts needs --wait/)
})

t.test(
  '--ride-out-halts says once per halt that it waits, and follows the release on',
  async (t) => {
    const setup = await setUpRelease(t)
    const { server, service } = setup
    const stopped = await runCli(
      t,
      ['line', 'stop', '--reason', 'db alarms', '-o', 'json'],
      setup.lead,
    )
    t.equal(stopped.code, 0, stopped.stderr)
    const global: Halt = JSON.parse(stopped.stdout)
    const ridden = startCli(
      t,
      [
        'release',
        'create',
        '--service',
        service,
        '--version',
        '1.0.0',
        '--wait',
        '--until',
        'ring-0',
        '--ride-out-halts',
        '--timeout',
        '5m',
        '--interval',
        '100ms',
      ],
      setup.pipeline,
    )
    const id = await eventually('the release', async () => {
      const { releases } = await server.call('GET', `/v1/releases?service=${service}`)
      return releases[0]?.id as number | undefined
    })
    await eventually('the ride-out notice', async () => ridden.stderr().includes('riding out'))
    // A person halts the release too while the line is stopped: a second notice, not an exit.
    const halted = await runCli(t, ['halt', String(id), '--reason', 'customer report'], setup.lead)
    t.equal(halted.code, 0, halted.stderr)
    await eventually('the second notice', async () =>
      ridden.stderr().includes(`riding out release ${id} halted by jane`),
    )
    t.equal(ridden.process.exitCode, null, 'still waiting')

    const sre = await server.call('POST', '/v1/tokens', {
      name: 'sre',
      role: 'sre',
      subject: 'sam',
    })
    const sreEnv = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: sre.secret }
    const resumed = await runCli(t, ['resume', String(id), '--reason', 'false alarm'], sreEnv)
    t.equal(resumed.code, 0, resumed.stderr)
    const lifted = await runCli(t, ['line', 'resume', String(global.id)], sreEnv)
    t.equal(lifted.code, 0, lifted.stderr)
    const approved = await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    const agent = await runCli(
      t,
      ['agent', '--scale-unit', 'team-wus2', '--exec', 'true', '--once', '--skip-health'],
      setup.pipeline,
    )
    t.equal(agent.code, 0, agent.stderr)
    const result = await ridden.done
    t.equal(result.code, 0, result.stderr)
    t.match(result.stdout, /ring-0 of release \d+ succeeded/)
    // It looked every 100 ms from the stop to the lift and said each halt once.
    t.equal(
      result.stderr.split(`riding out halt ${global.id} (everywhere) by jane`).length - 1,
      1,
      'the line halt, said once',
    )
    t.equal(
      result.stderr.split(`riding out release ${id} halted by jane`).length - 1,
      1,
      "the release's own halt, said once",
    )
  },
)

import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

const agentArgs = (scaleUnit: string) => [
  'agent',
  '--scale-unit',
  scaleUnit,
  '--exec',
  'echo deployed {version}',
  '--interval',
  '250ms',
]

t.test(
  'release create --wait --until ring-0 returns once ring-0 succeeded; release status --wait follows to the end',
  async (t) => {
    const setup = await setUpRelease(t)
    const { server, service } = setup
    // Only ring-0 has an agent: the release cannot get past ring-1 until the others start.
    startCli(t, agentArgs('team-wus2'), setup.pipeline)

    const unknownRing = await runCli(
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
        'ring-9',
      ],
      setup.pipeline,
    )
    t.equal(unknownRing.code, 2)
    t.match(unknownRing.stderr, /--until: there is no ring 'ring-9' \(rings: ring-0, ring-1\)/)
    const outsideRange = await runCli(
      t,
      [
        'release',
        'create',
        '--service',
        service,
        '--version',
        '1.0.0',
        '--rings',
        'ring-0..ring-0',
        '--wait',
        '--until',
        'ring-1',
      ],
      setup.pipeline,
    )
    t.equal(outsideRange.code, 2)
    t.match(outsideRange.stderr, /--until: ring 'ring-1' is outside --rings ring-0\.\.ring-0/)
    t.same(
      (await server.call('GET', `/v1/releases?service=${service}`)).releases,
      [],
      'a wrong --until creates nothing',
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
        '--until',
        'ring-0',
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

    const ring0 = await create.done
    t.equal(ring0.code, 0, ring0.stderr)
    t.match(ring0.stderr, new RegExp(`ring-0 of release ${id} succeeded`))
    const atRing0 = JSON.parse(ring0.stdout)
    t.equal(atRing0.id, id)
    t.equal(atRing0.state, 'in_progress', 'the release goes on')
    t.equal(atRing0.stages[0].state, 'succeeded')
    t.match(atRing0.stages[0].deployments, [{ scaleUnit: 'team-wus2', state: 'succeeded' }])
    t.not(atRing0.stages[1].state, 'succeeded')
    const onServer = await server.call('GET', `/v1/releases/${id}`)
    t.equal(onServer.state, 'in_progress')
    t.equal(onServer.finishedAt, null)

    const notThrough = await runCli(
      t,
      ['release', 'status', String(id), '--wait', '--until', 'ring-7'],
      setup.pipeline,
    )
    t.equal(notThrough.code, 2)
    t.match(
      notThrough.stderr,
      /release \d+ does not go through ring 'ring-7' \(its rings: ring-0, ring-1\)/,
    )

    const ring1TimedOut = await runCli(
      t,
      [
        'release',
        'status',
        String(id),
        '--wait',
        '--until',
        'ring-1',
        '--timeout',
        '1s',
        '--interval',
        '250ms',
      ],
      setup.pipeline,
    )
    t.equal(ring1TimedOut.code, 4, 'no agent on ring-1 yet')
    t.match(
      ring1TimedOut.stderr,
      new RegExp(`timed out after 1 s waiting for ring-1 of release ${id}`),
    )

    startCli(t, agentArgs('prod-weu'), setup.pipeline)
    startCli(t, agentArgs('prod-neu'), setup.pipeline)
    const toTheEnd = await runCli(
      t,
      ['release', 'status', String(id), '--wait', '--interval', '250ms', '-o', 'json'],
      setup.pipeline,
    )
    t.equal(toTheEnd.code, 0, toTheEnd.stderr)
    const final = JSON.parse(toTheEnd.stdout)
    t.equal(final.state, 'succeeded')
    t.same(
      final.stages
        .flatMap((stage: { deployments: { scaleUnit: string; state: string }[] }) =>
          stage.deployments.map((deployment) => `${deployment.scaleUnit}=${deployment.state}`),
        )
        .sort(),
      ['prod-neu=succeeded', 'prod-weu=succeeded', 'team-wus2=succeeded'],
    )

    // On a finished release whose ring succeeded, --until answers at once.
    const after = await runCli(
      t,
      ['release', 'status', String(id), '--wait', '--until', 'ring-1'],
      setup.pipeline,
    )
    t.equal(after.code, 0, after.stderr)
  },
)

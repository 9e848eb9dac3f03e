import t from 'tap'
import { runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

t.test(
  'release create --hotfix --rings starts past ring 0 and deploys only its range',
  async (t) => {
    const setup = await setUpRelease(t)
    const { server, service } = setup
    const create = (...args: string[]) =>
      runCli(
        t,
        ['release', 'create', '--service', service, '--version', '1.0.1', ...args],
        setup.pipeline,
      )

    const standard = await create('--rings', 'ring-1..ring-1')
    t.equal(standard.code, 1, 'a standard release may not skip ring 0')
    t.match(
      standard.stderr,
      /a standard release starts at the first ring 'ring-0'; use kind hotfix/,
    )
    const noReason = await create('--rings', 'ring-1..', '--hotfix')
    t.equal(noReason.code, 2)
    t.match(noReason.stderr, /--hotfix needs --reason/)
    const badRange = await create('--rings', 'ring-1', '--hotfix', '--reason', 'CVE-2026-1234')
    t.equal(badRange.code, 2)
    t.match(badRange.stderr, /--rings must look like ring-0\.\.ring-2/)
    const { releases: none } = await server.call('GET', `/v1/releases?service=${service}`)
    t.same(none, [], 'no mistake created a release')

    const agents = ['prod-weu', 'prod-neu'].map((unit) =>
      startCli(
        t,
        ['agent', '--scale-unit', unit, '--exec', 'echo patched {version}', '--interval', '300ms'],
        setup.pipeline,
      ),
    )
    const hotfix = await create(
      '--rings',
      'ring-1..ring-1',
      '--hotfix',
      '--reason',
      'CVE-2026-1234 in the session cookie',
      '--wait',
      '--timeout',
      '5m',
      '--interval',
      '300ms',
      '-o',
      'json',
    )
    t.equal(hotfix.code, 0, hotfix.stderr)
    const release = JSON.parse(hotfix.stdout)
    t.match(release, {
      kind: 'hotfix',
      reason: 'CVE-2026-1234 in the session cookie',
      ringFrom: 'ring-1',
      ringTo: 'ring-1',
      state: 'succeeded',
    })
    t.same(
      release.stages.map((stage: { ring: string; state: string }) => [stage.ring, stage.state]),
      [['ring-1', 'succeeded']],
      'ring 1 only, with no approval asked',
    )
    t.same(release.stages[0].deployments.map((d: { scaleUnit: string }) => d.scaleUnit).sort(), [
      'prod-neu',
      'prod-weu',
    ])
    const team = await server.call('GET', '/v1/scale-units/team-wus2/desired')
    t.same(team.deployments, [], 'ring 0 got nothing to deploy')
    for (const agent of agents) agent.process.kill('SIGTERM')
    await Promise.all(agents.map((agent) => agent.done))
  },
)

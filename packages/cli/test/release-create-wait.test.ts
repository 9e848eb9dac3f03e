import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

t.test(
  'release create --wait follows a release through two rings while agents deploy and a lead approves',
  async (t) => {
    const setup = await setUpRelease(t)
    const { server, dir, service, scaleUnits } = setup
    writeFileSync(
      join(dir, 'deploy.sh'),
      'echo "deploying $1 $2 to $3"\nprintf "%s %s\\n" "$1" "$2" > "$(dirname "$0")/deployed-$3"\n',
    )
    const agents = scaleUnits.map((unit) =>
      startCli(
        t,
        [
          'agent',
          '--scale-unit',
          unit,
          '--exec',
          `sh ${join(dir, 'deploy.sh')} {service} {version} {scaleUnit}`,
          '--interval',
          '300ms',
        ],
        setup.pipeline,
      ),
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
        '--commit',
        '4f2a9c1',
        '--wait',
        '--timeout',
        '10m',
        '--interval',
        '300ms',
        '-o',
        'json',
      ],
      setup.pipeline,
    )
    const release = await eventually('the release to wait for an approval', async () => {
      const { releases } = await server.call('GET', `/v1/releases?service=${service}`)
      if (!releases[0]) return undefined
      const found = await server.call('GET', `/v1/releases/${releases[0].id}`)
      return found.blockedBy.some((block: { kind: string }) => block.kind === 'approval') && found
    })
    const approval = await runCli(
      t,
      ['approve', String(release.id), '--ring', 'ring-0', '--comment', 'ship it'],
      setup.lead,
    )
    t.equal(approval.code, 0, approval.stderr)
    t.match(approval.stdout, /approved ring-0 of release/)

    const result = await create.done
    t.equal(result.code, 0, result.stderr)
    const final = JSON.parse(result.stdout)
    t.equal(final.id, release.id)
    t.equal(final.state, 'succeeded')
    t.same(
      final.stages.map((stage: { ring: string; state: string }) => [stage.ring, stage.state]),
      [
        ['ring-0', 'succeeded'],
        ['ring-1', 'succeeded'],
      ],
    )
    t.match(result.stderr, /created release \d+ checkout 1\.0\.0/)
    for (const unit of scaleUnits) {
      t.equal(
        readFileSync(join(dir, `deployed-${unit}`), 'utf8'),
        'checkout 1.0.0\n',
        `deployed on ${unit}`,
      )
    }
    const approvals = final.stages[0].approvals
    t.match(approvals, [{ subject: 'jane', decision: 'approve', comment: 'ship it' }])

    for (const agent of agents) agent.process.kill('SIGTERM')
    const ended = await Promise.all(agents.map((agent) => agent.done))
    for (const [index, agent] of ended.entries()) {
      t.equal(agent.code, 0, `agent ${scaleUnits[index]} stops cleanly`)
      t.match(
        agent.stdout,
        new RegExp(
          `\\[${scaleUnits[index]} #\\d+\\] deploying checkout 1\\.0\\.0 to ${scaleUnits[index]}`,
        ),
      )
    }
    const deployment = final.stages[1].deployments[0]
    t.match(
      deployment.message,
      /^exit 0\ndeploying checkout 1\.0\.0/,
      'the output tail is the report',
    )

    // A retried pipeline step with the same arguments gets the same release back.
    const again = await runCli(
      t,
      [
        'release',
        'create',
        '--service',
        service,
        '--version',
        '1.0.0',
        '--commit',
        '4f2a9c1',
        '-o',
        'json',
      ],
      setup.pipeline,
    )
    t.equal(again.code, 0, again.stderr)
    t.equal(JSON.parse(again.stdout).id, release.id)
    const { releases } = await server.call('GET', `/v1/releases?service=${service}`)
    t.equal(releases.length, 1, 'no second release')

    const status = await runCli(t, ['release', 'status', String(release.id)], setup.pipeline)
    t.equal(status.code, 0)
    t.match(status.stdout, /release \d+ checkout 1\.0\.0 succeeded/)
    t.match(status.stdout, /ring-1\s+succeeded\s+.*prod-weu=succeeded/)
    const list = await runCli(t, ['release', 'list', '-o', 'json'], setup.pipeline)
    t.equal(JSON.parse(list.stdout).releases[0].id, release.id)
    t.notOk(existsSync(join(dir, 'deployed-nowhere')))
  },
)

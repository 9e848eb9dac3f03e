import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import {
  eventually,
  hasScript,
  runCli,
  startCli,
  startCliInTerminal,
} from './helpers/cli-process.js'
import { auditEvents, setUpRelease } from './helpers/release-setup.js'
import { startServer } from './helpers/server-process.js'

/** A loopback port nothing listens on now, so a restarted server can come back at the same URL. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

t.test(
  'release status --wait and release watch keep following through a control plane restart',
  { skip: !(await hasScript()) && 'needs script(1) from util-linux for a pseudo-terminal' },
  async (t) => {
    const env = { PORT: String(await freePort()) }
    const setup = await setUpRelease(t, {}, { env })
    const { service, scaleUnits } = setup
    const created = await runCli(
      t,
      ['release', 'create', '--service', service, '--version', '7.0.0', '-o', 'json'],
      setup.pipeline,
    )
    t.equal(created.code, 0, created.stderr)
    const id = String(JSON.parse(created.stdout).id)
    const follow = ['--interval', '250ms', '--timeout', '10m']
    const wait = startCli(t, ['release', 'status', id, '--wait', ...follow], setup.pipeline)
    const watch = startCli(t, ['release', 'watch', id, ...follow], setup.pipeline)
    const board = startCliInTerminal(t, ['release', 'watch', id, ...follow], setup.pipeline)
    const followers = [wait, watch, board]
    await eventually('all three to show the release waiting for its approval', async () =>
      followers.every((cli) => /waiting: needs 1 more approval/.test(cli.stdout())),
    )

    t.equal(await setup.server.stop('SIGTERM'), 0, 'the control plane shut down cleanly')
    // A look while the server was closing got its 503 problem; one after it, no answer at all.
    const lost = new RegExp(
      `error: (could not reach http://127\\.0\\.0\\.1:${env.PORT}: .*|the control plane is shutting down; try again in a moment \\(503 /problems/shutting-down\\)); still following release ${id}, looking every 0\\.25 s until the timeout`,
    )
    await eventually('all three to say the control plane is away', async () =>
      [wait.stderr(), watch.stderr(), board.stdout()].every((text) => lost.test(text)),
    )
    // Away for a while: several reads fail, and none of them is told again.
    await sleep(3000)
    for (const cli of followers) t.equal(cli.process.exitCode, null, 'still following')

    const server = await startServer(t, { storage: setup.server.storage, env })
    t.equal(server.url, setup.server.url, 'back at the same address')
    const approved = await runCli(t, ['approve', id, '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    const agents = scaleUnits.map((unit) =>
      startCli(
        t,
        ['agent', '--scale-unit', unit, '--exec', 'echo deployed {version}', '--interval', '300ms'],
        setup.pipeline,
      ),
    )

    const [waited, watched, drawn] = await Promise.all([wait.done, watch.done, board.done])
    const succeeded = new RegExp(`release ${id} checkout 7\\.0\\.0 succeeded`)
    for (const [what, result, told] of [
      ['release status --wait', waited, waited.stderr],
      ['release watch', watched, watched.stderr],
    ] as const) {
      t.equal(result.code, 0, `${what} exits 0: ${result.stderr}`)
      t.match(result.stdout, succeeded, what)
      t.equal(told.match(new RegExp(lost, 'g'))?.length, 1, `${what} said once it was away`)
      t.equal(
        told.match(/reached the control plane again after \d+ s/g)?.length,
        1,
        `${what} said once it was back`,
      )
      t.notMatch(told, /trying again/, `${what} left retrying to its own interval`)
      t.notMatch(told, setup.pipeline.RINGMASTER_TOKEN!, 'the token is never printed')
    }

    t.equal(drawn.code, 0, 'the terminal watch exits 0')
    const screen = drawn.stdout.replaceAll('\r\n', '\n')
    const drawings = screen.split('\u001b[J')
    const away = drawings.find((drawing) => lost.test(drawing))
    t.ok(away, 'the lost control plane is part of a drawing, not a line beside the board')
    t.match(away, /RING\s+STAGE\s+PROGRESS\s+SCALE UNITS[\s\S]*\n\nerror: /, 'under it')
    t.match(drawings.at(-1), succeeded)
    t.notMatch(drawings.at(-1), lost, 'gone once the control plane is back')
    t.notMatch(screen, /trying again|reached the control plane again/)

    for (const agent of agents) agent.process.kill('SIGTERM')
    await Promise.all(agents.map((agent) => agent.done))
    // The restarted server goes before the storage both share is removed.
    await server.stop()
  },
)

t.test('a wait that never reaches the control plane times out with exit 4', async (t) => {
  const result = await runCli(
    t,
    ['release', 'status', '7', '--wait', '--timeout', '3s', '--interval', '250ms', '-o', 'json'],
    { RINGMASTER_URL: 'http://127.0.0.1:1', RINGMASTER_TOKEN: 'unused' },
  )
  t.equal(result.code, 4, result.stderr)
  t.equal(result.stdout, '', 'no release to print')
  t.match(
    result.stderr,
    /error: timed out after 3 s: the control plane could not be reached to read release 7/,
  )
  t.match(result.stderr, /could not reach http:\/\/127\.0\.0\.1:1: .*; still following release 7/)
  t.notMatch(result.stderr, /trying again/, 'a follower looks again at its own interval')
})

t.test(
  'an agent whose report finds the control plane gone keeps the result and never runs it twice',
  async (t) => {
    const env = { PORT: String(await freePort()) }
    const setup = await setUpRelease(t, {}, { env })
    const { dir, service } = setup
    const runs = join(dir, 'runs')
    const started = join(dir, 'started')
    const go = join(dir, 'go')
    // Records each run, then waits for the test to let it finish.
    writeFileSync(
      join(dir, 'deploy.sh'),
      `echo "$1" >> ${runs}\necho "$RINGMASTER_DEPLOYMENT_ID" > ${started}\nwhile [ ! -e ${go} ]; do sleep 0.1; done\necho "deployed $1"\n`,
    )
    const created = await runCli(
      t,
      ['release', 'create', '--service', service, '--version', '7.1.0', '-o', 'json'],
      setup.pipeline,
    )
    t.equal(created.code, 0, created.stderr)
    const id = String(JSON.parse(created.stdout).id)
    const approved = await runCli(t, ['approve', id, '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    const agent = startCli(
      t,
      [
        'agent',
        '--scale-unit',
        'team-wus2',
        '--exec',
        `sh ${join(dir, 'deploy.sh')} {version}`,
        '--interval',
        '250ms',
      ],
      setup.pipeline,
    )
    await eventually('the deployment to run', async () => existsSync(started))
    const deploymentId = Number(readFileSync(started, 'utf8'))

    t.equal(await setup.server.stop('SIGTERM'), 0, 'the control plane shut down cleanly')
    writeFileSync(go, '')
    await eventually('the agent to keep the result it could not report', async () =>
      agent
        .stderr()
        .includes(
          `the result of deployment ${deploymentId} is kept and sent again, the deployment is not run again`,
        ),
    )
    // Rounds go by while the control plane is away: asked for work, none of it run.
    await eventually('the agent to ask for work in vain', async () =>
      agent.stderr().includes('asking again every 0.25 s'),
    )
    await sleep(2000)

    const server = await startServer(t, { storage: setup.server.storage, env })
    const deployment = await eventually('the report to arrive', async () => {
      const found = await server.call('GET', `/v1/deployments/${deploymentId}`)
      return found.state === 'succeeded' && found
    })
    t.match(deployment.message, /^exit 0\ndeployed 7\.1\.0/, 'the kept output tail is the report')
    t.equal(readFileSync(runs, 'utf8'), '7.1.0\n', 'the deploy command ran once')
    const succeeded = (await auditEvents(server, 'deployment.succeeded')).filter(
      (event) => event.data.deploymentId === deploymentId,
    )
    t.equal(succeeded.length, 1, 'reported once')
    await eventually('the agent to say it is back', async () =>
      /reached the control plane again after \d+ s/.test(agent.stderr()),
    )
    const stderr = agent.stderr()
    t.equal(stderr.match(/asking again every 0\.25 s/g)?.length, 1, 'said once it was away')
    t.equal(stderr.match(/is kept and sent again/g)?.length, 1, 'said once it kept the result')

    agent.process.kill('SIGTERM')
    const ended = await agent.done
    t.equal(ended.code, 0, 'the agent stops cleanly')
    t.match(ended.stdout, /ran 1 deployment\(s\), 0 failed, 0 unhealthy/)
    await server.stop()
  },
)

t.test('an agent stopped before it could report says what it ran and exits 1', async (t) => {
  const setup = await setUpRelease(t)
  const { dir, service } = setup
  const started = join(dir, 'started')
  const go = join(dir, 'go')
  writeFileSync(
    join(dir, 'deploy.sh'),
    `echo "$RINGMASTER_DEPLOYMENT_ID" > ${started}\nwhile [ ! -e ${go} ]; do sleep 0.1; done\n`,
  )
  const created = await runCli(
    t,
    ['release', 'create', '--service', service, '--version', '7.2.0', '-o', 'json'],
    setup.pipeline,
  )
  const id = String(JSON.parse(created.stdout).id)
  t.equal((await runCli(t, ['approve', id, '--ring', 'ring-0'], setup.lead)).code, 0)
  const agent = startCli(
    t,
    ['agent', '--scale-unit', 'team-wus2', '--exec', `sh ${join(dir, 'deploy.sh')}`],
    setup.pipeline,
  )
  await eventually('the deployment to run', async () => existsSync(started))
  const deploymentId = Number(readFileSync(started, 'utf8'))
  await setup.server.stop('SIGTERM')
  writeFileSync(go, '')
  await eventually('the agent to keep the result', async () =>
    agent.stderr().includes(`the result of deployment ${deploymentId} is kept`),
  )
  agent.process.kill('SIGTERM')
  const ended = await agent.done
  t.equal(ended.code, 1, 'a result was lost')
  t.match(
    ended.stderr,
    `stopped with the result of deployment ${deploymentId} not reported; it stays in progress, and the next agent for team-wus2 runs it again`,
  )
})

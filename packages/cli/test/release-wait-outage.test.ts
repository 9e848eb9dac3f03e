import { createServer } from 'node:net'
import t from 'tap'
import { eventually, runCli, startCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'
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
    await eventually('both to show the release waiting for its approval', async () =>
      [wait, watch].every((cli) => /waiting: needs 1 more approval/.test(cli.stdout())),
    )

    t.equal(await setup.server.stop('SIGTERM'), 0, 'the control plane shut down cleanly')
    // Down for longer than one call's retries last, so both fall back to looking again later.
    await eventually('both to give up on one call and keep following', async () =>
      [wait, watch].every((cli) =>
        new RegExp(`could not reach http://127\\.0\\.0\\.1:.*; still following release ${id}`).test(
          cli.stderr(),
        ),
      ),
    )
    t.equal(wait.process.exitCode, null, 'release status --wait is still waiting')
    t.equal(watch.process.exitCode, null, 'release watch is still watching')

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

    const [waited, watched] = await Promise.all([wait.done, watch.done])
    for (const [what, result] of [
      ['release status --wait', waited],
      ['release watch', watched],
    ] as const) {
      t.equal(result.code, 0, `${what} exits 0: ${result.stderr}`)
      t.match(result.stdout, new RegExp(`release ${id} checkout 7\\.0\\.0 succeeded`), what)
      t.match(result.stderr, /trying again in \d+\.\d s \(6 of 6\)/, `${what} said it retried`)
      t.match(result.stderr, /reached the control plane again/, `${what} said it was back`)
      const outage = result.stderr.slice(
        result.stderr.indexOf('still following release'),
        result.stderr.indexOf('reached the control plane again'),
      )
      t.notMatch(outage, /trying again/, `${what} did not repeat itself while it was away`)
      t.notMatch(result.stderr, setup.pipeline.RINGMASTER_TOKEN!, 'the token is never printed')
    }
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
  t.match(result.stderr, /trying again in \d+\.\d s \(1 of 6\)/)
  t.notMatch(result.stderr, /\(6 of 6\)/, 'the timeout cut the retries short')
})

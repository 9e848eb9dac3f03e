import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import {
  eventually,
  hasScript,
  runCli,
  startCli,
  startCliInTerminal,
} from './helpers/cli-process.js'
import { type ReleaseSetup, setUpRelease } from './helpers/release-setup.js'

async function createRelease(t: Test, setup: ReleaseSetup, version: string): Promise<number> {
  const created = await runCli(
    t,
    ['release', 'create', '--service', setup.service, '--version', version, '-o', 'json'],
    setup.pipeline,
  )
  if (created.code !== 0) throw new Error(`release create failed: ${created.stderr}`)
  return JSON.parse(created.stdout).id
}

/** Plays the executor of one scale unit: starts its pending deployment and reports the result. */
async function deploy(setup: ReleaseSetup, scaleUnit: string, result: 'succeeded' | 'failed') {
  const desired = await eventually(`a deployment on ${scaleUnit}`, async () => {
    const body = await setup.server.call('GET', `/v1/scale-units/${scaleUnit}/desired`)
    return body.deployments[0] as { id: number } | undefined
  })
  await setup.server.call('POST', `/v1/deployments/${desired.id}/start`)
  return {
    id: desired.id,
    complete: () =>
      setup.server.call('POST', `/v1/deployments/${desired.id}/complete`, {
        result,
        message: `${result} on ${scaleUnit}`,
      }),
  }
}

t.test(
  'release watch prints a line per change as a release goes through two rings, driven by events',
  async (t) => {
    const setup = await setUpRelease(t)
    const id = await createRelease(t, setup, '1.0.0')
    // An hour between safety reads: every line below comes from an event waking the watch.
    const watch = startCli(t, ['release', 'watch', String(id), '--interval', '1h'], setup.pipeline)
    const printed = (line: string) =>
      eventually(
        `the watch to print '${line}'`,
        async () => watch.stdout().split('\n').includes(line),
        30_000,
      ).catch((error) => {
        throw new Error(`${error.message}\n--- it printed:\n${watch.stdout()}${watch.stderr()}`)
      })

    await printed(
      'ring-0 awaiting_approval 0/1 deployed (approval pre 0/1 from approver) [team-wus2 waiting]',
    )
    await printed(
      'waiting: needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)',
    )
    const approved = await runCli(t, ['approve', String(id), '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    await printed('ring-0 deploying 0/1 deployed [team-wus2 pending]')

    const first = await deploy(setup, 'team-wus2', 'succeeded')
    await printed('ring-0 deploying 0/1 deployed [team-wus2 in_progress]')
    await first.complete()
    await printed('ring-0 succeeded 1/1 deployed [team-wus2 succeeded]')

    // ring-1's two scale units are a region pair, so they deploy in two waves.
    const second = await deploy(setup, 'prod-neu', 'succeeded')
    await second.complete()
    await printed('ring-1 deploying 1/2 deployed (wave 2/2) [prod-neu succeeded, prod-weu pending]')
    const third = await deploy(setup, 'prod-weu', 'succeeded')
    await third.complete()

    const result = await watch.done
    t.equal(result.code, 0, result.stderr)
    t.notOk(result.stdout.includes('\u001b'), 'no escape codes when stdout is not a terminal')
    const lines = result.stdout.trimEnd().split('\n')
    t.ok(lines.includes(`release ${id} checkout 1.0.0 in_progress`))
    const order = [
      'ring-0 awaiting_approval 0/1 deployed (approval pre 0/1 from approver) [team-wus2 waiting]',
      'ring-1 pending 0/2 deployed [prod-neu waiting, prod-weu waiting]',
      'ring-0 deploying 0/1 deployed [team-wus2 pending]',
      'ring-0 deploying 0/1 deployed [team-wus2 in_progress]',
      'ring-0 succeeded 1/1 deployed [team-wus2 succeeded]',
      'ring-1 deploying 1/2 deployed (wave 2/2) [prod-neu succeeded, prod-weu pending]',
      'ring-1 succeeded 2/2 deployed (wave 2/2) [prod-neu succeeded, prod-weu succeeded]',
    ]
    let from = -1
    for (const line of order) {
      const at = lines.indexOf(line, from + 1)
      t.ok(at > from, `'${line}' comes next`)
      from = Math.max(at, from)
    }
    t.match(lines.at(-1), new RegExp(`^release ${id} checkout 1\\.0\\.0 succeeded`))
    t.equal(new Set(lines).size, lines.length, 'a line only when something changed')

    const release = await setup.server.call('GET', `/v1/releases/${id}`)
    t.equal(release.state, 'succeeded')
    t.same(
      release.stages.map((stage: { ring: string; state: string }) => [stage.ring, stage.state]),
      [
        ['ring-0', 'succeeded'],
        ['ring-1', 'succeeded'],
      ],
    )
  },
)

t.test('release watch exits 3 when the release halts, 4 when it times out', async (t) => {
  const setup = await setUpRelease(t)
  const id = await createRelease(t, setup, '2.0.0')

  const timedOut = await runCli(
    t,
    ['release', 'watch', String(id), '--timeout', '1s', '-o', 'json'],
    setup.pipeline,
  )
  t.equal(timedOut.code, 4, 'timed out')
  t.match(timedOut.stderr, /timed out after 1 s watching release \d+/)
  t.equal(JSON.parse(timedOut.stdout).state, 'in_progress')

  const watch = startCli(t, ['release', 'watch', String(id), '-o', 'json'], setup.pipeline)
  await eventually('the watch to show the release', async () =>
    watch.stderr().includes('waiting: needs 1 more approval'),
  )
  const halted = await runCli(t, ['halt', String(id), '--reason', 'db alarms'], setup.lead)
  t.equal(halted.code, 0, halted.stderr)
  const result = await watch.done
  t.equal(result.code, 3, 'halted')
  const release = JSON.parse(result.stdout)
  t.equal(release.id, id)
  t.equal(release.state, 'halted')
  t.match(release.halt, { by: 'jane', reason: 'db alarms', cause: 'manual' })
  t.match(result.stderr, /release \d+ checkout 2\.0\.0 halted \(halted by jane: db alarms\)/)
  t.equal((await setup.server.call('GET', `/v1/releases/${id}`)).state, 'halted')

  const unknown = await runCli(t, ['release', 'watch', '99999'], setup.pipeline)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /404/)
  const usage = await runCli(t, ['release', 'watch', String(id), '--timeout', 'soon'], {})
  t.equal(usage.code, 2, 'a bad duration is a usage error, before any request')
})

t.test(
  'release watch exits 3 naming the halt when the line stops, unless it rides halts out',
  async (t) => {
    const setup = await setUpRelease(t)
    const id = await createRelease(t, setup, '3.0.0')
    const stopped = await runCli(
      t,
      [
        'line',
        'stop',
        '--scope',
        'service',
        '--target',
        setup.service,
        '--reason',
        'db alarms',
        '-o',
        'json',
      ],
      setup.lead,
    )
    t.equal(stopped.code, 0, stopped.stderr)
    const halt = JSON.parse(stopped.stdout) as { id: number; createdAt: string }

    // The timeout is far off: exit 4 here would mean the stop of the line was not recognised.
    const held = await runCli(
      t,
      ['release', 'watch', String(id), '--timeout', '5m', '--interval', '250ms', '-o', 'json'],
      setup.pipeline,
    )
    t.equal(held.code, 3, held.stderr)
    t.match(
      held.stderr,
      `held: halt ${halt.id} (service ${setup.service}) by jane since ${halt.createdAt}: db alarms (lift it: ringmaster line resume ${halt.id})`,
    )
    const release = JSON.parse(held.stdout)
    t.equal(release.id, id)
    t.not(release.state, 'halted', 'the line holds it; the release itself was not halted')

    // Riding out, the watch says so once and goes on until its (short) timeout.
    const ridden = await runCli(
      t,
      [
        'release',
        'watch',
        String(id),
        '--ride-out-halts',
        '--timeout',
        '2s',
        '--interval',
        '100ms',
      ],
      setup.pipeline,
    )
    t.equal(ridden.code, 4, ridden.stderr)
    t.equal(
      ridden.stderr.split(`riding out halt ${halt.id} (service ${setup.service})`).length - 1,
      1,
      'the halt, said once',
    )
  },
)

t.test(
  'on a terminal release watch redraws the board in place',
  { skip: !(await hasScript()) && 'needs script(1) from util-linux for a pseudo-terminal' },
  async (t) => {
    const setup = await setUpRelease(t)
    const id = await createRelease(t, setup, '3.0.0')
    const terminal = startCliInTerminal(t, ['release', 'watch', String(id)], setup.pipeline)
    await eventually(
      'the board',
      async () => terminal.stdout().includes('approval pre 0/1'),
      30_000,
    ).catch((error) => {
      throw new Error(
        `${error.message}; the terminal showed:\n${JSON.stringify(terminal.stdout())}`,
      )
    })
    const halted = await runCli(t, ['halt', String(id), '--reason', 'pager'], setup.lead)
    t.equal(halted.code, 0, halted.stderr)
    const { code } = await Promise.race([
      terminal.done,
      sleep(30_000).then(() => {
        throw new Error(
          `the watch did not end; the terminal showed:\n${JSON.stringify(terminal.stdout())}`,
        )
      }),
    ])
    t.equal(code, 3, 'halted, through script -e')

    const text = terminal.stdout().replaceAll('\r\n', '\n')
    const firstDrawing = text.slice(0, text.indexOf('\u001b['))
    t.match(firstDrawing, new RegExp(`^release ${id} checkout 3\\.0\\.0 in_progress`))
    t.match(firstDrawing, /RING\s+STAGE\s+PROGRESS\s+SCALE UNITS/)
    t.match(firstDrawing, /ring-0\s+awaiting_approval\s+0\/1 deployed\s+team-wus2 waiting/)
    t.match(firstDrawing, /ring-1\s+pending\s+0\/2 deployed\s+prod-neu waiting {2}prod-weu waiting/)
    const rows = firstDrawing.trimEnd().split('\n').length
    const redraw = `\u001b[${rows}F\u001b[J`
    t.ok(text.includes(redraw), `climbs the ${rows} rows it drew and clears them`)
    const lastDrawing = text.slice(text.lastIndexOf('\u001b[J') + 3)
    t.match(
      lastDrawing,
      new RegExp(`^release ${id} checkout 3\\.0\\.0 halted \\(halted by jane: pager\\)`),
    )
    t.notMatch(lastDrawing, /waiting: needs/, 'the halted board replaced the waiting one')
  },
)

import t from 'tap'
import { runCli } from './helpers/cli-process.js'
import { startServer } from './helpers/server-process.js'

t.test('usage mistakes exit 2 and say what is wrong', async (t) => {
  const noCommand = await runCli(t, ['relase', 'create'])
  t.equal(noCommand.code, 2)
  t.match(noCommand.stderr, /unknown command 'relase create'/)

  const missing = await runCli(t, ['release', 'create', '--service', 'checkout'], {
    RINGMASTER_URL: 'http://127.0.0.1:1',
    RINGMASTER_TOKEN: 't',
  })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--version is required/)

  const unknownOption = await runCli(t, ['approve', '1', '--ring', 'ring-0', '--colour', 'red'])
  t.equal(unknownOption.code, 2)
  t.match(unknownOption.stderr, /Unknown option '--colour'/)

  const noUrl = await runCli(t, ['release', 'list'])
  t.equal(noUrl.code, 2)
  t.match(noUrl.stderr, /set RINGMASTER_URL or pass --url/)

  const badOutput = await runCli(t, ['release', 'list', '--output', 'yaml'])
  t.equal(badOutput.code, 2)

  const badTimeout = await runCli(t, ['release', 'status', '1', '--wait', '--timeout', 'soon'], {
    RINGMASTER_URL: 'http://127.0.0.1:1',
    RINGMASTER_TOKEN: 't',
  })
  t.equal(badTimeout.code, 2)
  t.match(badTimeout.stderr, /--timeout must be a duration/)

  // Each of these would otherwise reach the unreachable URL and exit 1.
  const offline = { RINGMASTER_URL: 'http://127.0.0.1:1', RINGMASTER_TOKEN: 't' }
  for (const [args, message] of [
    [['release', 'status', '1', '--until', 'ring-0'], /--until needs --wait/],
    [
      ['release', 'create', '--service', 's', '--version', '1', '--wait', '--until', 'Ring 0'],
      /--until must be a ring name like ring-0, not 'Ring 0'/,
    ],
    [['release', 'list', '--state', 'stuck'], /--state must be one of queued, in_progress/],
    [
      ['agent', '--scale-unit', 'su', '--exec', 'true', '--health-interval', '5s'],
      /--health-interval needs --health-cmd/,
    ],
    [
      ['agent', '--scale-unit', 'su', '--exec', 'true', '--health-cmd', 'true', '--skip-health'],
      /--skip-health and --health-cmd cannot be used together/,
    ],
    [['line', 'stop', '--reason', 'r', '--target', 'checkout'], /--target is for --scope/],
  ] as const) {
    const result = await runCli(t, [...args], offline)
    t.equal(result.code, 2, args.join(' '))
    t.match(result.stderr, message)
    t.notMatch(result.stderr, /could not reach/)
  }

  const help = await runCli(t, ['agent', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: ringmaster agent --scale-unit SU/)
  t.match(
    help.stdout,
    /WITHOUT --health-cmd the agent\s+reports healthy after every successful deployment without checking/,
  )
  const statusHelp = await runCli(t, ['release', 'status', '--help'])
  t.match(
    statusHelp.stdout,
    /--until RING\s+with --wait: stop waiting, exit 0, as soon as RING's stage has succeeded/,
  )
  const top = await runCli(t, ['--help'])
  t.equal(top.code, 0)
  t.match(top.stdout, /Exit codes: 0 success, 1 failed, 2 usage, 3 halted or blocked, 4 timed out/)
})

t.test(
  'problems print their detail and field errors, never the token; flags override the environment',
  async (t) => {
    const server = await startServer(t)
    const unreachable = { RINGMASTER_URL: 'http://127.0.0.1:1', RINGMASTER_TOKEN: 'wrong' }

    const invalid = await runCli(
      t,
      [
        'release',
        'create',
        '--service',
        'Not_A_Name',
        '--version',
        '1',
        '--url',
        server.url,
        '--token',
        server.adminToken,
      ],
      unreachable,
    )
    t.equal(invalid.code, 1)
    t.match(invalid.stderr, /^error: .*\(400 /, invalid.stderr)
    t.match(invalid.stderr, /\n {2}body\/service: must match pattern/)
    t.notMatch(invalid.stderr, server.adminToken)

    const notFound = await runCli(t, [
      'release',
      'status',
      '999',
      '--url',
      server.url,
      '--token',
      server.adminToken,
      '-o',
      'json',
    ])
    t.equal(notFound.code, 1)
    t.equal(notFound.stdout, '')
    t.match(notFound.stderr, /404/)

    const down = await runCli(t, ['release', 'list'], unreachable)
    t.equal(down.code, 1)
    t.match(down.stderr, /could not reach http:\/\/127\.0\.0\.1:1/)
    // Tried again, as a restarting control plane needs, before it gives up.
    for (const attempt of [1, 6]) {
      t.match(down.stderr, new RegExp(`; trying again in \\d+\\.\\d s \\(${attempt} of 6\\)`))
    }
    t.notMatch(down.stderr, /\(7 of 6\)/)
    t.notMatch(down.stderr, 'wrong')

    const lineStop = await runCli(t, [
      'line',
      'stop',
      '--reason',
      'db alarms',
      '-o',
      'json',
      '--url',
      server.url,
      '--token',
      server.adminToken,
    ])
    t.equal(lineStop.code, 0, lineStop.stderr)
    const halt = JSON.parse(lineStop.stdout)
    t.match(halt, { scope: 'global', reason: 'db alarms', liftedAt: null })
    const env = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
    const status = await runCli(t, ['line', 'status'], env)
    t.match(status.stdout, new RegExp(`halt ${halt.id} global: db alarms`))
    const lifted = await runCli(t, ['line', 'resume', String(halt.id), '-o', 'json'], env)
    t.equal(lifted.code, 0, lifted.stderr)
    t.ok(JSON.parse(lifted.stdout).liftedAt)
    const after = await runCli(t, ['line', 'status'], env)
    t.match(after.stdout, /the line is running: no halts/)
  },
)

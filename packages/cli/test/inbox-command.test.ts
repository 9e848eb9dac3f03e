import t from 'tap'
import { eventually, runCli } from './helpers/cli-process.js'
import { setUpRelease } from './helpers/release-setup.js'

t.test(
  'ringmaster inbox and release list --awaiting-approval, against the real server',
  async (t) => {
    const setup = await setUpRelease(t)
    const created = await runCli(
      t,
      [
        'release',
        'create',
        '--service',
        setup.service,
        '--version',
        '1.2.3',
        '--commit',
        'abcdef12',
        '-o',
        'json',
      ],
      setup.pipeline,
    )
    t.equal(created.code, 0, created.stderr)
    const releaseId = JSON.parse(created.stdout).id as number
    await eventually('the release to await approval in ring-0', async () => {
      const release = await setup.server.call('GET', `/v1/releases/${releaseId}`)
      return release.stages[0].state === 'awaiting_approval'
    })

    const lead = await runCli(t, ['inbox'], setup.lead)
    t.equal(lead.code, 0, lead.stderr)
    t.match(lead.stdout, 'inbox of jane (approver)')
    t.match(lead.stdout, '1 waiting for your approval:')
    t.match(
      lead.stdout,
      `release ${releaseId} ${setup.service} 1.2.3 (abcdef12) into ring-0: 0 of 1 approvals, requested by checkout-ci`,
    )
    t.match(lead.stdout, `ringmaster approve ${releaseId} --ring ring-0`)
    t.match(lead.stdout, 'none of your releases is blocked')

    const json = await runCli(t, ['inbox', '--json'], setup.lead)
    t.equal(json.code, 0, json.stderr)
    t.match(JSON.parse(json.stdout), {
      subject: 'jane',
      role: 'approver',
      approvals: [
        {
          releaseId,
          ring: 'ring-0',
          ringOrder: 0,
          approvals: 0,
          quorum: 1,
          requester: 'checkout-ci',
        },
      ],
      blockedReleases: [],
    })

    const pipeline = await runCli(t, ['inbox'], setup.pipeline)
    t.equal(pipeline.code, 0, pipeline.stderr)
    t.match(pipeline.stdout, 'no approvals wait for you')
    t.match(pipeline.stdout, '1 of your releases blocked:')
    t.match(
      pipeline.stdout,
      `release ${releaseId} ${setup.service} 1.2.3 in_progress, awaiting approval in ring-0`,
    )
    t.match(pipeline.stdout, 'blocked by approval: needs 1 more approval from role approver')

    const listed = await runCli(t, ['release', 'list', '--awaiting-approval'], setup.lead)
    t.equal(listed.code, 0, listed.stderr)
    t.match(
      listed.stdout,
      `release ${releaseId} ${setup.service} 1.2.3 in_progress, awaiting approval in ring-0`,
    )
    const deploying = await runCli(t, ['release', 'list', '--state', 'deploying'], setup.lead)
    t.equal(deploying.stdout.trim(), 'no releases')
    const both = await runCli(
      t,
      ['release', 'list', '--awaiting-approval', '--state', 'queued'],
      setup.lead,
    )
    t.equal(both.code, 2, 'a usage error')

    const approved = await runCli(t, ['approve', String(releaseId), '--ring', 'ring-0'], setup.lead)
    t.equal(approved.code, 0, approved.stderr)
    const after = await runCli(t, ['inbox'], setup.lead)
    t.match(after.stdout, 'no approvals wait for you')
  },
)

import { ReleaseEngine } from '@ringmaster/domain'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  getRelease,
  ManualClock,
  recordedSpans,
} from '../helpers/release-fixtures.js'
import { createWebhook, listDeliveries } from '../helpers/webhook-fixtures.js'

const approverGate = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const
// ManualClock starts at 09:00; a stage that starts waiting then expires four hours later.
const fourHoursLater = '2026-11-23T13:00:00.000Z'

async function eventsOf(api: TestApp, action: string) {
  const events = await expectStatus(
    api.request({ method: 'GET', url: '/v1/events?limit=500' }),
    200,
  )
  return events.body.events.filter((event: { action: string }) => event.action === action)
}

t.test('a ring policy takes an approval timeout in minutes, none by default', async (t) => {
  const api = await build(t)
  const timed = uniqueName('timed')
  const created = await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/rings',
      body: { name: timed, order: 0, policy: { approvalTimeoutMinutes: 240 } },
    }),
    201,
  )
  t.equal(created.body.policy.approvalTimeoutMinutes, 240)
  const plain = await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/rings',
      body: { name: uniqueName('plain'), order: 1 },
    }),
    201,
  )
  t.equal(plain.body.policy.approvalTimeoutMinutes, null, 'no timeout unless asked: it waits')

  const kept = await expectStatus(
    api.request({
      method: 'PATCH',
      url: `/v1/rings/${timed}`,
      body: { policy: { bakeMinutes: 5 } },
    }),
    200,
  )
  t.equal(kept.body.policy.approvalTimeoutMinutes, 240, 'another field changes, the timeout stays')
  const cleared = await expectStatus(
    api.request({
      method: 'PATCH',
      url: `/v1/rings/${timed}`,
      body: { policy: { approvalTimeoutMinutes: null } },
    }),
    200,
  )
  t.equal(cleared.body.policy.approvalTimeoutMinutes, null, 'null takes the timeout away')

  const invalid: [string, unknown][] = [
    ['no time at all', 0],
    ['a negative time', -30],
    ['part of a minute', 1.5],
    ['text instead of minutes', '4h'],
    ['more than 30 days', 43201],
  ]
  for (const [label, value] of invalid) {
    const response = await api.request({
      method: 'POST',
      url: '/v1/rings',
      body: { name: uniqueName('bad'), order: 2, policy: { approvalTimeoutMinutes: value } },
    })
    t.equal(response.status, 400, label)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', label)
    t.equal(response.body.type, '/problems/validation-failed', label)
    t.same(
      response.body.errors.map((error: { path: string }) => error.path),
      ['body/policy/approvalTimeoutMinutes'],
      label,
    )
  }
  const patched = await api.request({
    method: 'PATCH',
    url: `/v1/rings/${timed}`,
    body: { policy: { approvalTimeoutMinutes: 0 } },
  })
  t.equal(patched.status, 400)
  t.equal(patched.body.type, '/problems/validation-failed')
  const listed = await expectStatus(api.request({ method: 'GET', url: '/v1/rings' }), 200)
  t.strictSame(
    listed.body.rings.map((ring: { name: string }) => ring.name).sort(),
    [timed, plain.body.name].sort(),
    'no refused request made a ring',
  )
})

t.test(
  'an approval wait expires: the inbox says when, a tick rejects it, a late approval is refused',
  async (t) => {
    const clock = new ManualClock()
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      { policy: { preApproval: approverGate, approvalTimeoutMinutes: 240 }, scaleUnits: 1 },
      { scaleUnits: 1 },
    ])
    const [ring0] = topology.rings as [string]
    const hook = await createWebhook(api, {
      service: topology.service,
      url: 'https://chat.example/expired',
      events: ['stage.approval_expired'],
    })
    const pipeline = await api.tokenFor('pipeline', 'ci-bot')
    const jane = await api.tokenFor('approver', 'jane')
    const id = (await createRelease(api, pipeline, { service: topology.service, version: '2.0.0' }))
      .body.id as number
    await api.settle()

    let release = await getRelease(api, id)
    t.equal(release.stages[0].state, 'awaiting_approval')
    t.equal(release.stages[0].approvalExpiresAt, fourHoursLater, 'fixed as the wait starts')
    t.equal(release.stages[1].approvalExpiresAt, null, 'a stage that waits for nothing')
    t.match(release.blockedBy, [
      { kind: 'approval', message: new RegExp(`; expires at ${fourHoursLater}$`) },
    ])
    const inbox = await expectStatus(
      api.request({ method: 'GET', url: '/v1/inbox', token: jane }),
      200,
    )
    t.match(inbox.body.approvals, [{ releaseId: id, ring: ring0, expiresAt: fourHoursLater }])
    const [waiting] = await eventsOf(api, 'stage.awaiting_approval')
    t.match(waiting, { data: { ring: ring0, expiresAt: fourHoursLater } })

    clock.advanceMinutes(239)
    await api.tick()
    t.equal((await getRelease(api, id)).stages[0].state, 'awaiting_approval', 'a minute early')

    clock.advanceMinutes(1)
    const approve = () =>
      api.request({
        method: 'POST',
        url: `/v1/releases/${id}/stages/${ring0}/approvals`,
        token: jane,
        body: { decision: 'approve' },
      })
    // Expired, and no tick yet: nothing is offered, nothing is taken.
    const beforeTick = await expectStatus(
      api.request({ method: 'GET', url: '/v1/inbox', token: jane }),
      200,
    )
    t.strictSame(beforeTick.body.approvals, [], 'the inbox no longer offers an expired wait')
    const early = await approve()
    t.equal(early.status, 409)
    t.equal(early.body.type, '/problems/approval-expired')

    await api.tick()
    release = await getRelease(api, id)
    t.equal(release.state, 'failed', 'the release ends as after a rejection')
    t.equal(release.outcome, `rejected by system at ${ring0}: approval expired after 4h`)
    t.equal(release.finishedAt, fourHoursLater)
    t.match(release.stages[0], {
      state: 'failed',
      finishedAt: fourHoursLater,
      approvalExpiresAt: fourHoursLater,
      approvals: [],
    })
    t.equal(release.stages[1].state, 'pending', 'the next ring is never entered')
    t.strictSame(release.blockedBy, [])

    const [expired, ...moreExpired] = await eventsOf(api, 'stage.approval_expired')
    t.match(expired, {
      actor: 'system',
      subject: `release:${id}:${ring0}`,
      data: {
        ring: ring0,
        gate: 'pre',
        expiresAt: fourHoursLater,
        approvalTimeoutMinutes: 240,
        approvedBy: [],
        required: 1,
      },
    })
    t.strictSame(moreExpired, [])
    const failed = await eventsOf(api, 'release.failed')
    t.match(failed, [
      {
        actor: 'system',
        subject: `release:${id}`,
        data: { cause: 'approval_expired', by: 'system' },
      },
    ])
    t.ok(failed[0].id > expired.id, 'the expiry is audited before the release ends')
    t.strictSame(await eventsOf(api, 'approval.rejected'), [], 'nobody rejected it')
    const gateSpan = (await recordedSpans(api)).find(
      (span) => span.name === `pre-approval ${ring0}`,
    )
    t.match(gateSpan, {
      endedAt: fourHoursLater,
      status: 'error',
      errorType: 'rejected',
      statusMessage: `rejected by system at ${ring0}: approval expired after 4h`,
      facts: { decision: 'rejected' },
    })
    t.match(await listDeliveries(api, hook.id), [
      {
        event: 'stage.approval_expired',
        payload: { releaseId: id, ring: ring0, actor: 'system' },
      },
    ])

    const late = await approve()
    t.equal(late.status, 409)
    t.equal(late.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(late.body, {
      type: '/problems/approval-expired',
      status: 409,
      detail: new RegExp(`pre-approval of ${ring0} expired at ${fourHoursLater} \\(after 4h\\)`),
      expiresAt: fourHoursLater,
    })
    t.strictSame((await getRelease(api, id)).stages[0].approvals, [], 'no late approval stored')

    clock.advanceMinutes(60)
    await api.tick()
    t.equal((await eventsOf(api, 'stage.approval_expired')).length, 1, 'expired once, not again')
  },
)

t.test('two engines at expiry: one rejection, one audit event', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate, approvalTimeoutMinutes: 30 }, scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const id = (await createRelease(api, pipeline, { service: topology.service, version: '1.0.0' }))
    .body.id as number
  await api.settle()
  clock.advanceMinutes(30)
  // Two replicas' engines on one store (on PostgreSQL, each on its own connection from the pool).
  const engines = [new ReleaseEngine(api.app.store, clock), new ReleaseEngine(api.app.store, clock)]
  const taken = await Promise.all(engines.map((engine) => engine.advance(id)))
  t.strictSame(
    taken.map((steps) => steps.map((step) => step.kind)).sort(),
    [[], ['reject-on-expired-approval']],
    'one engine rejects, the other finds it ended',
  )
  t.equal((await eventsOf(api, 'stage.approval_expired')).length, 1)
  t.equal((await eventsOf(api, 'release.failed')).length, 1)
  t.equal((await getRelease(api, id)).state, 'failed')
})

t.test('approved in time: the release moves on and nothing expires', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate, approvalTimeoutMinutes: 60 }, scaleUnits: 1 },
  ])
  const [ring0] = topology.rings as [string]
  const pipeline = await api.tokenFor('pipeline')
  const jane = await api.tokenFor('approver', 'jane')
  const id = (await createRelease(api, pipeline, { service: topology.service, version: '1.0.0' }))
    .body.id as number
  await api.settle()
  clock.advanceMinutes(59)
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/stages/${ring0}/approvals`,
      token: jane,
      body: { decision: 'approve' },
    }),
    201,
  )
  await api.settle()
  clock.advanceMinutes(120)
  await api.tick()
  const release = await getRelease(api, id)
  t.equal(release.state, 'in_progress')
  t.match(release.stages[0], { state: 'deploying', approvalExpiresAt: null })
  t.strictSame(await eventsOf(api, 'stage.approval_expired'), [])
})

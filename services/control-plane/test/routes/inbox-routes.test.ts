import t from 'tap'
import { build } from '../helpers/build.js'
import { createRelease, createTopology, expectStatus } from '../helpers/release-fixtures.js'

const quorumOfTwo = { role: 'approver', minApprovals: 2, ttlHours: 24 } as const

t.test('the inbox: approvals the caller may give, their own releases that are stuck', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { policy: { preApproval: quorumOfTwo }, scaleUnits: 1 },
    { scaleUnits: 1 },
  ])
  const [ring0] = topology.rings
  const pipeline = await api.tokenFor('pipeline', 'ci-bot')
  const alice = await api.tokenFor('admin', 'alice')
  const jane = await api.tokenFor('approver', 'jane')
  const bob = await api.tokenFor('approver', 'bob')
  // The same person as alice, spelled otherwise: she never approves her own release either.
  const aliceAsApprover = await api.tokenFor('approver', 'ALICE')
  const viewer = await api.tokenFor('viewer', 'vera')

  const byPipeline = (
    await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.0.0',
      commit: 'abcdef1',
      rings: { to: topology.rings[0] },
    })
  ).body
  await api.settle()
  // Another service, so the second release does not wait for the first to leave ring 0.
  const otherService = `${topology.service}-2`
  await expectStatus(
    api.request({ method: 'POST', url: '/v1/services', body: { name: otherService } }),
    201,
  )
  const byAlice = (
    await createRelease(api, alice, {
      service: otherService,
      version: '1.0.1',
      rings: { to: ring0 },
    })
  ).body
  await api.settle()

  const inboxOf = async (token: string) =>
    (await expectStatus(api.request({ method: 'GET', url: '/v1/inbox', token }), 200)).body

  const janes = await inboxOf(jane)
  t.equal(janes.subject, 'jane')
  t.equal(janes.role, 'approver')
  t.same(
    janes.approvals.map((item: { releaseId: number }) => item.releaseId).sort(),
    [byPipeline.id, byAlice.id].sort(),
    'a lead sees every release waiting for their role',
  )
  const first = janes.approvals.find(
    (item: { releaseId: number }) => item.releaseId === byPipeline.id,
  )
  t.match(first, {
    service: topology.service,
    version: '1.0.0',
    commit: 'abcdef1',
    requester: 'ci-bot',
    ring: ring0,
    ringOrder: 0,
    gate: 'pre',
    role: 'approver',
    awaitingSince: String,
    expiresAt: null,
    approvals: 0,
    quorum: 2,
    approvedBy: [],
  })
  t.same(janes.blockedReleases, [], 'jane asked for no release')

  const alices = await inboxOf(alice)
  t.same(
    alices.approvals.map((item: { releaseId: number }) => item.releaseId),
    [byPipeline.id],
    'an admin approves any ring, but never their own release',
  )
  t.same(
    (await inboxOf(aliceAsApprover)).approvals.map((item: { releaseId: number }) => item.releaseId),
    [byPipeline.id],
    'the requester is compared as a subject (ALICE is alice)',
  )
  t.equal(alices.blockedReleases.length, 1)
  t.match(alices.blockedReleases[0], {
    release: {
      id: byAlice.id,
      requester: 'alice',
      currentStage: { ring: ring0, state: 'awaiting_approval' },
    },
    blockedBy: [{ kind: 'approval', message: /needs 2 more approvals from role approver/ }],
  })

  const viewers = await inboxOf(viewer)
  t.same(viewers.approvals, [], 'a viewer never approves')
  t.same(viewers.blockedReleases, [])

  // jane approves: she is done with it, bob sees one of two given.
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${byPipeline.id}/stages/${ring0}/approvals`,
      token: jane,
      body: { decision: 'approve' },
    }),
    201,
  )
  await api.settle()
  t.same(
    (await inboxOf(jane)).approvals.map((item: { releaseId: number }) => item.releaseId),
    [byAlice.id],
    'not offered again to who already approved',
  )
  const bobs = await inboxOf(bob)
  t.match(
    bobs.approvals.find((item: { releaseId: number }) => item.releaseId === byPipeline.id),
    { approvals: 1, quorum: 2, approvedBy: ['jane'] },
  )

  // The pipeline is told what holds its release; a stopped line says so too.
  const pipelines = await inboxOf(pipeline)
  t.same(pipelines.approvals, [], 'a pipeline never approves')
  t.match(pipelines.blockedReleases, [
    {
      release: { id: byPipeline.id },
      blockedBy: [{ kind: 'approval', message: /needs 1 more approval/ }],
    },
  ])
  const halt = await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/halts',
      token: jane,
      body: { scope: 'global', reason: 'db alarms' },
    }),
    201,
  )
  const halted = await inboxOf(pipeline)
  t.match(halted.blockedReleases[0].blockedBy, [
    { kind: 'approval' },
    { kind: 'halt', halt: { id: halt.body.id, scope: 'global', reason: 'db alarms' } },
  ])

  // A second approval completes the quorum: it leaves every inbox.
  await expectStatus(
    api.request({ method: 'DELETE', url: `/v1/halts/${halt.body.id}`, token: alice }),
    200,
  )
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${byPipeline.id}/stages/${ring0}/approvals`,
      token: bob,
      body: { decision: 'approve' },
    }),
    201,
  )
  await api.settle()
  t.notOk(
    (await inboxOf(alice)).approvals.some(
      (item: { releaseId: number }) => item.releaseId === byPipeline.id,
    ),
    "an approved stage is nobody's to approve",
  )
})

t.test('the release list says where each release is, and filters on it', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { policy: { preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 } }, scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline', 'ci-bot')
  const waiting = (
    await createRelease(api, pipeline, { service: topology.service, version: '2.0.0' })
  ).body
  await api.settle()
  const list = async (query: string) =>
    (await expectStatus(api.request({ method: 'GET', url: `/v1/releases${query}` }), 200)).body

  const all = await list(`?service=${topology.service}`)
  t.match(all.releases, [
    {
      id: waiting.id,
      state: 'in_progress',
      currentStage: {
        ring: topology.rings[0],
        ringOrder: 0,
        state: 'awaiting_approval',
        since: String,
      },
    },
  ])
  t.same(
    (await list('?state=awaiting_approval')).releases.map((r: { id: number }) => r.id),
    [waiting.id],
  )
  t.same((await list('?state=deploying')).releases, [])
  t.same(
    (await list('?state=in_progress')).releases.map((r: { id: number }) => r.id),
    [waiting.id],
  )
  const bad = await api.request({ method: 'GET', url: '/v1/releases?state=asleep' })
  t.equal(bad.status, 400)
})

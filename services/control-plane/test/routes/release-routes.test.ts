import t from 'tap'
import { build } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  getRelease,
  ManualClock,
  runExecutor,
} from '../helpers/release-fixtures.js'

const approverGate = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const

t.test('a release walks the rings: approval, waves, bake, automatic promotion', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate, bakeMinutes: 60 }, scaleUnits: 1 },
    { policy: { maxParallel: 2 }, scaleUnits: 4, pairs: [0] },
  ])
  const pipeline = await api.tokenFor('pipeline', 'build-pipeline')
  const approver = await api.tokenFor('approver', 'jane')

  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.4.0',
    commit: 'abc1234',
    notes: 'faster',
  })
  t.equal(created.headers.location, `/v1/releases/${created.body.id}`)
  t.match(created.body, {
    service: topology.service,
    version: '1.4.0',
    requester: 'build-pipeline',
    ringFrom: topology.rings[0],
    ringTo: topology.rings[1],
    kind: 'standard',
  })
  // Units 0 and 1 are a region pair, so they never share a wave.
  const [unit0, unit1, unit2, unit3] = topology.scaleUnits[1]!
  t.strictSame(
    created.body.stages.map((stage: { waves: string[][] }) => stage.waves),
    [
      [[topology.scaleUnits[0]![0]]],
      [
        [unit0, unit2],
        [unit1, unit3],
      ],
    ],
  )
  await api.settle()

  const id = created.body.id as number
  let release = await getRelease(api, id)
  t.equal(release.state, 'in_progress')
  t.equal(release.stages[0].state, 'awaiting_approval')
  t.match(release.blockedBy, [
    { kind: 'approval', message: /^needs 1 more approval from role approver/ },
  ])

  const approval = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/stages/${topology.rings[0]}/approvals`,
      token: approver,
      body: { decision: 'approve', comment: 'looks good' },
    }),
    201,
  )
  t.match(approval.body.gate, {
    name: 'pre',
    required: 1,
    approvedBy: ['jane'],
    missing: 0,
    satisfied: true,
  })
  await api.settle()

  const [ring0Unit] = topology.scaleUnits[0]!
  const desired = await expectStatus(
    api.request({ method: 'GET', url: `/v1/scale-units/${ring0Unit}/desired`, token: pipeline }),
    200,
  )
  t.match(desired.body, {
    scaleUnit: ring0Unit,
    services: { [topology.service]: '1.4.0' },
    deployments: [
      { service: topology.service, version: '1.4.0', state: 'pending', kind: 'deploy' },
    ],
  })
  const deploymentId = desired.body.deployments[0].id
  const started = await expectStatus(
    api.request({ method: 'POST', url: `/v1/deployments/${deploymentId}/start`, token: pipeline }),
    200,
  )
  t.equal(started.body.state, 'in_progress')
  await runExecutor(api, pipeline, [ring0Unit!])

  release = await getRelease(api, id)
  t.equal(release.stages[0].state, 'baking')
  t.equal(release.stages[0].bakeUntil, '2026-11-23T10:00:00.000Z')
  t.match(release.blockedBy, [{ kind: 'bake', until: '2026-11-23T10:00:00.000Z' }])

  clock.advanceMinutes(59)
  await api.tick()
  t.equal((await getRelease(api, id)).stages[0].state, 'baking', 'still baking a minute early')
  clock.advanceMinutes(1)
  await api.tick()
  release = await getRelease(api, id)
  t.equal(release.stages[0].state, 'succeeded')
  t.equal(release.stages[1].state, 'deploying')
  t.equal(release.stages[1].currentWave, 0)
  t.strictSame(
    release.stages[1].deployments.map((d: { scaleUnit: string }) => d.scaleUnit).sort(),
    [unit0, unit2],
    'only the first wave is out',
  )

  await runExecutor(api, pipeline, [unit0!, unit2!])
  release = await getRelease(api, id)
  t.equal(release.stages[1].currentWave, 1)
  await runExecutor(api, pipeline, [unit1!, unit3!])
  release = await getRelease(api, id)
  t.equal(release.state, 'succeeded')
  t.equal(release.outcome, `reached ${topology.rings[1]}`)
  t.strictSame(release.blockedBy, [])
  t.ok(release.stages.every((stage: { state: string }) => stage.state === 'succeeded'))

  const after = await expectStatus(
    api.request({ method: 'GET', url: `/v1/scale-units/${unit3}/desired`, token: pipeline }),
    200,
  )
  t.strictSame(after.body, {
    scaleUnit: unit3,
    services: { [topology.service]: '1.4.0' },
    deployments: [],
  })

  const events = await api.request({ method: 'GET', url: '/v1/events?limit=500' })
  const actions = events.body.events
    .filter((event: { subject: string }) => event.subject.startsWith(`release:${id}`))
    .map((event: { action: string }) => event.action)
  t.same(actions.slice(0, 4), [
    'release.created',
    'stage.awaiting_approval',
    'release.started',
    'approval.granted',
  ])
  t.equal(actions.at(-1), 'release.succeeded')
  t.equal(actions.filter((action: string) => action === 'wave.started').length, 3)
  t.equal(actions.filter((action: string) => action === 'deployment.succeeded').length, 5)
})

t.test('approval rules say which rule refused', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { policy: { preApproval: { role: 'approver', minApprovals: 2, ttlHours: 1 } }, scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline', 'pipe')
  const requesterApprover = await api.tokenFor('approver', 'sam')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '2.0.0',
  })
  await api.settle()
  const url = `/v1/releases/${created.body.id}/stages/${topology.rings[0]}/approvals`

  const byPipeline = await api.request({
    method: 'POST',
    url,
    token: pipeline,
    body: { decision: 'approve' },
  })
  t.equal(byPipeline.status, 403)
  t.equal(byPipeline.body.type, '/problems/pipeline-cannot-approve')
  t.match(
    byPipeline.body.detail,
    /requires 2 approvals from role approver; a pipeline token never approves/,
  )

  const sre = await api.tokenFor('sre', 'sally')
  const bySre = await api.request({
    method: 'POST',
    url,
    token: sre,
    body: { decision: 'approve' },
  })
  t.equal(bySre.status, 403)
  t.equal(bySre.body.type, '/problems/approval-role-required')

  // A person who requested a release cannot approve it, whatever their role.
  const adminRequester = await api.tokenFor('admin', 'alex')
  const own = await createRelease(api, adminRequester, {
    service: topology.service,
    version: '2.0.1',
  })
  await api.settle()
  const ownUrl = `/v1/releases/${own.body.id}/stages/${topology.rings[0]}/approvals`
  const byRequester = await api.request({
    method: 'POST',
    url: ownUrl,
    token: adminRequester,
    body: { decision: 'approve' },
  })
  t.equal(byRequester.status, 403)
  t.equal(byRequester.body.type, '/problems/requester-cannot-approve')
  t.match(byRequester.body.detail, `you requested release ${own.body.id} and cannot approve it`)

  // This release waits behind the first one for the ring, and may already collect its approvals.
  const first = await expectStatus(
    api.request({
      method: 'POST',
      url: ownUrl,
      token: requesterApprover,
      body: { decision: 'approve' },
    }),
    201,
  )
  t.match(first.body.gate, { missing: 1, satisfied: false })
  const twice = await api.request({
    method: 'POST',
    url: ownUrl,
    token: requesterApprover,
    body: { decision: 'approve' },
  })
  t.equal(twice.status, 409)
  t.equal(twice.body.type, '/problems/already-decided')

  const other = await api.tokenFor('approver', 'olga')
  const rejected = await expectStatus(
    api.request({
      method: 'POST',
      url: ownUrl,
      token: other,
      body: { decision: 'reject', comment: 'missing migration' },
    }),
    201,
  )
  t.equal(rejected.body.release.state, 'failed')
  const release = await getRelease(api, own.body.id)
  t.equal(release.state, 'failed')
  t.equal(release.stages[0].state, 'failed')
  t.equal(release.outcome, `rejected by olga at ${topology.rings[0]}: missing migration`)
})

t.test('a subject is one person whatever its case or Unicode form', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { policy: { preApproval: { role: 'approver', minApprovals: 2, ttlHours: 24 } }, scaleUnits: 1 },
  ])
  const requester = await api.tokenFor('pipeline', 'jane-x')
  const created = await createRelease(api, requester, {
    service: topology.service,
    version: '3.0.0',
  })
  await api.settle()
  const url = `/v1/releases/${created.body.id}/stages/${topology.rings[0]}/approvals`

  for (const subject of ['JANE-X', '\uff2a\uff41\uff4e\uff45-\uff58', 'jane\u200b-x']) {
    const approver = await api.tokenFor('approver', subject)
    const refused = await api.request({
      method: 'POST',
      url,
      token: approver,
      body: { decision: 'approve' },
    })
    t.equal(refused.status, 403, `${JSON.stringify(subject)} is the requester`)
    t.equal(refused.body.type, '/problems/requester-cannot-approve')
    t.match(refused.body.detail, `you requested release ${created.body.id} and cannot approve it`)
  }

  const olga = await api.tokenFor('approver', 'olga')
  const olgaAgain = await api.tokenFor('approver', 'OLGA')
  await expectStatus(
    api.request({ method: 'POST', url, token: olga, body: { decision: 'approve' } }),
    201,
  )
  const twice = await api.request({
    method: 'POST',
    url,
    token: olgaAgain,
    body: { decision: 'approve' },
  })
  t.equal(twice.status, 409, 'OLGA is olga, who already approved')
  t.equal(twice.body.type, '/problems/already-decided')

  const release = await getRelease(api, created.body.id)
  t.same(
    release.stages[0].approvals.map((a: { subject: string }) => a.subject),
    ['olga'],
    'only the one real approval was stored',
  )
  t.equal(release.stages[0].state, 'awaiting_approval', 'one person is not two approvals')
  const events = await api.request({ method: 'GET', url: '/v1/events?limit=500' })
  const granted = events.body.events.filter(
    (e: { action: string; actor: string }) => e.action === 'approval.granted',
  )
  t.same(
    granted.map((e: { actor: string }) => e.actor),
    ['olga'],
    'only the one real approval was audited',
  )
})

t.test('a newer release supersedes queued ones and waits for the ring to free up', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate }, scaleUnits: 1 },
    { scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const create = (version: string) =>
    createRelease(api, pipeline, { service: topology.service, version })
  const first = await create('1.0.0')
  await api.settle()
  const second = await create('1.0.1')
  await api.settle()
  let secondView = await getRelease(api, second.body.id)
  t.equal(secondView.state, 'queued', 'the first release holds ring 0 while it waits for approval')
  t.strictSame(secondView.blockedBy, [
    {
      kind: 'ring-occupied',
      message: `waiting for release ${first.body.id} to leave ${topology.rings[0]}`,
    },
  ])
  const third = await create('1.0.2')
  await api.settle()
  secondView = await getRelease(api, second.body.id)
  t.equal(secondView.state, 'superseded')
  t.equal(secondView.outcome, `superseded by release ${third.body.id} (1.0.2)`)
  t.equal(
    (await getRelease(api, first.body.id)).state,
    'in_progress',
    'a started release is not superseded',
  )

  const approver = await api.tokenFor('approver')
  const voided = await api.request({
    method: 'POST',
    url: `/v1/releases/${second.body.id}/stages/${topology.rings[0]}/approvals`,
    token: approver,
    body: { decision: 'approve' },
  })
  t.equal(voided.status, 409)
  t.equal(voided.body.type, '/problems/release-void')
})

t.test('a failed deployment halts the release until it is retried', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ policy: { maxParallel: 2 }, scaleUnits: 2 }])
  const pipeline = await api.tokenFor('pipeline')
  const sre = await api.tokenFor('sre')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '3.0.0',
  })
  await api.settle()
  const [good, bad] = topology.scaleUnits[0]!
  await runExecutor(api, pipeline, [good!, bad!], [bad!])
  let release = await getRelease(api, created.body.id)
  t.equal(release.state, 'halted')
  t.match(release.halt, {
    by: 'system',
    cause: 'deployment_failed',
    reason: new RegExp(`deployment failed on ${bad} \\(health probe timed out\\)`),
  })
  t.match(release.blockedBy, [{ kind: 'halt' }])
  const failed = release.stages[0].deployments.find(
    (d: { scaleUnit: string }) => d.scaleUnit === bad,
  )

  const resume = await api.request({
    method: 'POST',
    url: `/v1/releases/${created.body.id}/resume`,
    token: sre,
    body: { reason: 'try again' },
  })
  t.equal(resume.status, 409)
  t.equal(resume.body.type, '/problems/failed-deployments')

  const again = await api.request({
    method: 'POST',
    url: `/v1/deployments/${failed.id}/complete`,
    token: pipeline,
    body: { result: 'succeeded' },
  })
  t.equal(again.status, 409, 'a failed deployment cannot be reported succeeded without a retry')
  t.equal(again.body.type, '/problems/deployment-already-completed')

  const byPipeline = await api.request({
    method: 'POST',
    url: `/v1/deployments/${failed.id}/retry`,
    token: pipeline,
  })
  t.equal(byPipeline.status, 403)
  const retried = await expectStatus(
    api.request({ method: 'POST', url: `/v1/deployments/${failed.id}/retry`, token: sre }),
    200,
  )
  t.match(retried.body, { state: 'pending', attempt: 2, message: null })
  await api.settle()
  t.equal((await getRelease(api, created.body.id)).state, 'in_progress')
  await runExecutor(api, pipeline, [bad!])
  release = await getRelease(api, created.body.id)
  t.equal(release.state, 'succeeded')
})

t.test('executor calls are idempotent', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const pipeline = await api.tokenFor('pipeline')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  await api.settle()
  const deployment = (await getRelease(api, created.body.id)).stages[0].deployments[0]
  const start = () =>
    api.request({ method: 'POST', url: `/v1/deployments/${deployment.id}/start`, token: pipeline })
  t.equal((await start()).body.state, 'in_progress')
  t.equal((await start()).body.state, 'in_progress')
  const complete = () =>
    api.request({
      method: 'POST',
      url: `/v1/deployments/${deployment.id}/complete`,
      token: pipeline,
      body: { result: 'succeeded', logsUrl: 'https://ci.example.com/logs/1' },
    })
  const first = await complete()
  const second = await complete()
  t.equal(first.status, 200)
  t.equal(second.status, 200)
  t.strictSame(second.body, first.body, 'the retry gets the same deployment back')
  t.equal(first.body.logsUrl, 'https://ci.example.com/logs/1')
  const events = await api.request({ method: 'GET', url: '/v1/events?limit=500' })
  t.equal(
    events.body.events.filter((e: { action: string }) => e.action === 'deployment.succeeded')
      .length,
    1,
    'completing twice records one event',
  )
  const afterStart = await start()
  t.equal(afterStart.status, 409)
  t.equal(afterStart.body.type, '/problems/deployment-not-pending')
  const missing = await api.request({
    method: 'POST',
    url: '/v1/deployments/999999/start',
    token: pipeline,
  })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/deployment-not-found')
})

t.test('release input mistakes are clear 4xx problems', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 1 }])
  const pipeline = await api.tokenFor('pipeline')
  const cases = [
    {
      body: { service: 'no-such-service', version: '1.0.0' },
      status: 400,
      type: 'unknown-service',
    },
    {
      body: { service: topology.service, version: '1.0.0', rings: { from: 'nowhere' } },
      status: 400,
      type: 'unknown-ring',
    },
    {
      body: { service: topology.service, version: '1.0.0', rings: { from: topology.rings[1] } },
      status: 400,
      type: 'standard-release-must-start-at-first-ring',
    },
    {
      body: { service: topology.service, version: '1.0.0', kind: 'hotfix' },
      status: 400,
      type: 'hotfix-needs-reason',
    },
    {
      body: {
        service: topology.service,
        version: '1.0.0',
        rings: { from: topology.rings[1], to: topology.rings[0] },
      },
      status: 400,
      type: 'invalid-ring-range',
    },
    { body: { service: topology.service }, status: 400, type: 'validation-failed' },
    {
      body: { service: topology.service, version: 'has spaces' },
      status: 400,
      type: 'validation-failed',
    },
  ]
  for (const { body, status, type } of cases) {
    const response = await api.request({
      method: 'POST',
      url: '/v1/releases',
      token: pipeline,
      body,
    })
    t.equal(response.status, status, JSON.stringify(body))
    t.equal(response.body.type, `/problems/${type}`, JSON.stringify(body))
  }
  const hotfix = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.1',
    kind: 'hotfix',
    reason: 'CVE fix',
    rings: { from: topology.rings[1] },
  })
  t.match(hotfix.body, {
    kind: 'hotfix',
    reason: 'CVE fix',
    ringFrom: topology.rings[1],
    ringTo: topology.rings[1],
  })
  t.equal(hotfix.body.stages.length, 1)
  const missing = await api.request({ method: 'GET', url: '/v1/releases/424242' })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/release-not-found')
  const notNumber = await api.request({ method: 'GET', url: '/v1/releases/abc' })
  t.equal(notNumber.status, 400)
})

t.test('creating a release honours Idempotency-Key', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const pipeline = await api.tokenFor('pipeline')
  const send = (version: string) =>
    api.request({
      method: 'POST',
      url: '/v1/releases',
      token: pipeline,
      headers: { 'idempotency-key': 'build-77' },
      body: { service: topology.service, version },
    })
  const first = await send('5.0.0')
  const retry = await send('5.0.0')
  t.equal(first.status, 201)
  t.equal(retry.status, 201)
  t.equal(retry.body.id, first.body.id)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  const other = await send('5.0.1')
  t.equal(other.status, 409)
  t.equal(other.body.type, '/problems/idempotency-key-reused')
  const list = await api.request({ method: 'GET', url: `/v1/releases?service=${topology.service}` })
  t.equal(list.body.releases.length, 1, 'the retry created nothing')
})

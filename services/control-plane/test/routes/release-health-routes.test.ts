import t from 'tap'
import { build } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  ManualClock,
  runExecutor,
} from '../helpers/release-fixtures.js'

// GET /v1/releases/{id}/health: the latest report of each scale unit the release targets,
// against its ring's thresholds, as executors posted them.

const at = (time: string) => `2026-11-23T${time}:00.000Z`

t.test('the latest health report of each scale unit a release targets', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { bakeMinutes: 60, health: { maxErrorRate: 0.01, maxP99Ms: 500 } }, scaleUnits: 2 },
  ])
  const [r0] = topology.rings as [string]
  const [u0, u1] = topology.scaleUnits[0] as [string, string]
  const pipeline = await api.tokenFor('pipeline', 'build-pipeline')
  const executor = await api.tokenFor('pipeline', 'executor-westeurope')
  const viewer = await api.tokenFor('viewer', 'vera')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '2.0.0',
  })
  const id = created.body.id as number
  await api.settle()
  await runExecutor(api, executor, [u0, u1])
  await api.settle()

  const health = () =>
    api.request({ method: 'GET', url: `/v1/releases/${id}/health`, token: viewer })
  const report = (scaleUnit: string, body: Record<string, unknown>) =>
    expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${scaleUnit}/health`,
        token: executor,
        body: { service: topology.service, ...body },
      }),
      201,
    )

  const before = await health()
  t.equal(before.status, 200)
  t.strictSame(
    before.body,
    { releaseId: id, service: topology.service, scaleUnits: [] },
    'no report yet',
  )

  clock.advanceMinutes(5) // 09:05
  await report(u0, { status: 'healthy', signals: { errorRate: 0.004, p99Ms: 320 } })
  const first = await health()
  t.equal(first.status, 200)
  t.strictSame(first.body.scaleUnits, [
    {
      scaleUnit: u0,
      ring: r0,
      thresholds: { maxErrorRate: 0.01, maxP99Ms: 500 },
      status: 'healthy',
      signals: { errorRate: 0.004, p99Ms: 320 },
      passed: true,
      reasons: [],
      reportedAt: at('09:05'),
      reportedBy: 'executor-westeurope',
    },
  ])
  const events = await expectStatus(
    api.request({ method: 'GET', url: '/v1/events?limit=500', token: viewer }),
    200,
  )
  t.match(
    events.body.events.filter(
      (event: { subject: string; action: string }) =>
        event.subject === `release:${id}:${r0}` && event.action.startsWith('health'),
    ),
    [{ action: 'health-gate.passed', data: { scaleUnit: u0, status: 'healthy' } }],
    'a report that gates the release is an event of the release, so its board hears of it',
  )

  clock.advanceMinutes(5) // 09:10
  await report(u0, { status: 'degraded', signals: { errorRate: 0.02 } })
  const second = await health()
  t.equal(second.status, 200)
  t.strictSame(
    second.body.scaleUnits,
    [
      {
        scaleUnit: u0,
        ring: r0,
        thresholds: { maxErrorRate: 0.01, maxP99Ms: 500 },
        status: 'degraded',
        signals: { errorRate: 0.02 },
        passed: false,
        reasons: ["errorRate 0.02 is above the ring's maxErrorRate 0.01"],
        reportedAt: at('09:10'),
        reportedBy: 'executor-westeurope',
      },
    ],
    'a second report replaces the first',
  )

  await expectStatus(
    api.request({ method: 'POST', url: '/v1/services', body: { name: `${topology.service}-x` } }),
    201,
  )
  clock.advanceMinutes(1) // 09:11
  await report(u1, { status: 'unhealthy' })
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/scale-units/${u1}/health`,
      token: executor,
      body: { service: `${topology.service}-x`, status: 'healthy' },
    }),
    201,
  )
  const third = await health()
  t.strictSame(
    third.body.scaleUnits.map((unit: { scaleUnit: string; status: string }) => [
      unit.scaleUnit,
      unit.status,
    ]),
    [
      [u0, 'degraded'],
      [u1, 'unhealthy'],
    ],
    'in wave order, and only reports of the release’s service',
  )
  t.strictSame(third.body.scaleUnits[1].reasons, ['reported unhealthy'])
})

t.test('an unknown release is a 404 problem; SDK tokens and strangers are refused', async (t) => {
  const api = await build(t)
  const viewer = await api.tokenFor('viewer')
  const missing = await api.request({
    method: 'GET',
    url: '/v1/releases/987654321/health',
    token: viewer,
  })
  t.equal(missing.status, 404)
  t.match(missing.headers['content-type'], /^application\/problem\+json/)
  t.match(missing.body, { status: 404, detail: 'no release with id 987654321' })

  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const pipeline = await api.tokenFor('pipeline')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  const url = `/v1/releases/${created.body.id}/health`
  const client = await api.tokenFor('client', 'sdk', topology.rings[0])
  const refused = await api.request({ method: 'GET', url, token: client })
  t.equal(refused.status, 403)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  const anonymous = await api.request({ method: 'GET', url, token: null })
  t.equal(anonymous.status, 401)
  t.equal((await api.request({ method: 'GET', url, token: viewer })).status, 200)
})

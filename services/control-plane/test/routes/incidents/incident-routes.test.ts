import { type RolloutSpan, releaseRootSpanId } from '@ringmaster/domain'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  getRelease,
  ManualClock,
} from '../../helpers/release-fixtures.js'

const start = '2026-11-23T09:00:00.000Z'
/** `minutes` after the test clock's start. */
const at = (minutes: number) => new Date(Date.parse(start) + minutes * 60_000).toISOString()

function declare(api: TestApp, body: Record<string, unknown>, token?: string) {
  return api.request({ method: 'POST', url: '/v1/incidents', body, ...(token && { token }) })
}

async function events(api: TestApp, subject: string) {
  const { body } = await api.request({ method: 'GET', url: '/v1/events?limit=500' })
  return (
    body.events as Array<{
      action: string
      subject: string
      data: Record<string, unknown>
      requestId: string
    }>
  ).filter((event) => event.subject === subject)
}

async function recordedSpans(api: TestApp, traceId: string): Promise<RolloutSpan[]> {
  // Leasing far in the future returns every row; no exporter runs in these tests.
  const spans = await api.app.store.transaction((tx) =>
    tx.rolloutSpans.lease('2100-01-01T00:00:00.000Z', '2100-01-01T00:00:01.000Z', 10_000),
  )
  return spans.filter((span) => span.traceId === traceId)
}

t.test('declaring an incident with halt: true stops the line in the same command', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 2 }])
  const sre = await api.tokenFor('sre', 'sam')
  const pipeline = await api.tokenFor('pipeline')

  const created = await expectStatus(
    declare(
      api,
      { service: topology.service, severity: 'sev1', title: 'checkout 500s', halt: true },
      sre,
    ),
    201,
  )
  const incident = created.body
  t.equal(created.headers.location, `/v1/incidents/${incident.id}`)
  t.match(incident, {
    service: topology.service,
    severity: 'sev1',
    title: 'checkout 500s',
    ring: null,
    scaleUnits: [],
    trafficShare: 1,
    releaseId: null,
    haltId: Number,
    mitigatedAt: null,
    resolvedAt: null,
    reviewUrl: null,
    notes: '',
    createdBy: 'sam',
    traceId: /^[0-9a-f]{32}$/,
  })
  t.equal(incident.startedAt, incident.detectedAt, 'started when detected, by default')

  const halts = (await api.request({ method: 'GET', url: '/v1/halts?active=true' })).body.halts
  t.match(halts, [
    {
      id: incident.haltId,
      scope: 'service',
      target: topology.service,
      reason: `incident ${incident.id}: checkout 500s`,
      createdBy: 'sam',
      liftedAt: null,
    },
  ])
  // One command: the incident, its halt and both audit events share the request.
  const created$ = await events(api, `incident:${incident.id}`)
  const halt$ = await events(api, `halt:${incident.haltId}`)
  t.match(created$, [{ action: 'incident.created', data: { haltId: incident.haltId } }])
  t.match(halt$, [{ action: 'halt.created', data: { scope: 'service' } }])
  t.equal(created$[0]!.requestId, halt$[0]!.requestId)

  // The halt holds: a new release of the service does not start its first wave.
  const release = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  await api.settle()
  const view = await getRelease(api, release.body.id)
  t.equal(view.stages[0].currentWave, -1)
  t.match(view.blockedBy, [{ kind: 'halt', message: /checkout 500s/ }])

  // A declaration refused for its input leaves neither an incident nor a halt behind.
  const refused = await declare(
    api,
    { service: topology.service, severity: 'sev2', title: 'x', releaseId: 999_999, halt: true },
    sre,
  )
  t.equal(refused.status, 400)
  t.equal(refused.body.type, '/problems/unknown-release')
  t.equal((await api.request({ method: 'GET', url: '/v1/halts' })).body.halts.length, 1)
  t.equal((await api.request({ method: 'GET', url: '/v1/incidents' })).body.incidents.length, 1)
})

t.test('declaring: mistakes are problems with stable types', async (t) => {
  const clock = new ManualClock(start)
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 1 }])
  const other = await createTopology(api, [])
  const pipeline = await api.tokenFor('pipeline')
  const otherRelease = await createRelease(api, pipeline, {
    service: other.service,
    version: '1.0.0',
  })
  const base = { service: topology.service, severity: 'sev2', title: 'slow checkout' }
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown service', { ...base, service: 'no-such-service' }, 'unknown-service'],
    ['an unknown ring', { ...base, ring: 'no-such-ring' }, 'unknown-ring'],
    ['an unknown scale unit', { ...base, scaleUnits: ['no-such-unit'] }, 'unknown-scale-unit'],
    [
      'a scale unit of another ring',
      { ...base, ring: topology.rings[0], scaleUnits: [topology.scaleUnits[1]![0]] },
      'scale-unit-not-in-ring',
    ],
    ['an unknown release', { ...base, releaseId: 999_999 }, 'unknown-release'],
    [
      "another service's release",
      { ...base, releaseId: otherRelease.body.id },
      'release-of-another-service',
    ],
    [
      'a start after the detection',
      { ...base, startedAt: at(-5), detectedAt: at(-10) },
      'invalid-incident-time',
    ],
    ['a detection in the future', { ...base, detectedAt: at(60) }, 'invalid-incident-time'],
    ['an unknown severity', { ...base, severity: 'sev5' }, 'validation-failed'],
    ['a field it does not know', { ...base, colour: 'red' }, 'validation-failed'],
    [
      'a scale unit twice',
      { ...base, scaleUnits: [topology.scaleUnits[0]![0], topology.scaleUnits[0]![0]] },
      'validation-failed',
    ],
    ['no title', { service: topology.service, severity: 'sev2' }, 'validation-failed'],
  ]
  for (const [name, body, type] of cases) {
    const response = await declare(api, body)
    t.equal(response.status, 400, name)
    t.equal(response.body.type, `/problems/${type}`, `${name}: ${response.body.detail}`)
    t.match(response.headers['content-type'], 'application/problem+json')
  }
  // A clock a little ahead of ours is not a mistake.
  await expectStatus(declare(api, { ...base, detectedAt: at(2) }), 201)
  t.equal((await api.request({ method: 'GET', url: '/v1/incidents' })).body.incidents.length, 1)
})

t.test('the traffic share comes from the scale units, the ring, or the whole fleet', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 2 }])
  const [canary, world] = topology.rings as [string, string]
  const [w1, w2] = topology.scaleUnits[1] as [string, string]
  // Fleet weight 1 + 4.5 + 4.5 = 10.
  for (const unit of [w1, w2]) {
    await expectStatus(
      api.request({
        method: 'PATCH',
        url: `/v1/scale-units/${unit}`,
        body: { trafficWeight: 4.5 },
      }),
      200,
    )
  }
  const base = { service: topology.service, severity: 'sev3', title: 'errors' }
  const cases: Array<[Record<string, unknown>, string | null, number]> = [
    [{ ring: canary }, canary, 0.1],
    [{ ring: world }, world, 0.9],
    [{ scaleUnits: [w1] }, world, 0.45],
    [{ ring: world, scaleUnits: [w1, w2] }, world, 0.9],
    [{}, null, 1],
    [{ scaleUnits: [w1, topology.scaleUnits[0]![0]] }, null, 0.55],
  ]
  for (const [place, ring, share] of cases) {
    const { body } = await expectStatus(declare(api, { ...base, ...place }), 201)
    t.equal(body.ring, ring, `${JSON.stringify(place)}: ring`)
    t.ok(Math.abs(body.trafficShare - share) < 1e-12, `${JSON.stringify(place)}: share ${share}`)
  }
})

t.test('mitigate and resolve: defaults, order, repeats and conflicts', async (t) => {
  const clock = new ManualClock(start)
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const incident = (
    await expectStatus(
      declare(api, {
        service: topology.service,
        severity: 'sev2',
        title: 'queue backlog',
        startedAt: at(-10),
      }),
      201,
    )
  ).body
  t.equal(incident.detectedAt, at(0), 'detected now by default')
  const post = (action: string, body?: Record<string, unknown>, id = incident.id) =>
    api.request({ method: 'POST', url: `/v1/incidents/${id}/${action}`, body })

  const tooEarly = await post('mitigate', { at: at(-1) })
  t.equal(tooEarly.status, 400)
  t.equal(tooEarly.body.type, '/problems/invalid-incident-time')
  t.match(tooEarly.body.detail, 'cannot come before the detection')
  const future = await post('mitigate', { at: at(60) })
  t.equal(future.body.type, '/problems/invalid-incident-time')

  clock.advanceMinutes(15)
  const mitigated = await expectStatus(post('mitigate'), 200)
  t.equal(mitigated.body.mitigatedAt, at(15), 'mitigated now without a body')
  const again = await expectStatus(post('mitigate', { at: at(15) }), 200)
  t.same(again.body, mitigated.body, 'the same time again: answered, unchanged')
  const moved = await post('mitigate', { at: at(14) })
  t.equal(moved.status, 409)
  t.equal(moved.body.type, '/problems/incident-already-mitigated')
  t.equal(moved.body.mitigatedAt, at(15))

  const beforeMitigation = await post('resolve', { at: at(10) })
  t.equal(beforeMitigation.status, 400)
  t.match(beforeMitigation.body.detail, 'cannot come before the mitigation')

  clock.advanceMinutes(30)
  const resolved = await expectStatus(post('resolve', { at: at(40) }), 200)
  t.match(resolved.body, { mitigatedAt: at(15), resolvedAt: at(40) })
  t.same((await expectStatus(post('resolve', { at: at(40) }), 200)).body, resolved.body)
  const differently = await post('resolve', { at: at(41) })
  t.equal(differently.status, 409)
  t.equal(differently.body.type, '/problems/incident-already-resolved')
  t.equal(
    (await post('resolve')).status,
    409,
    'a retry without a time is another time; an Idempotency-Key makes it safe',
  )
  t.same(
    (await events(api, `incident:${incident.id}`)).map((event) => event.action),
    ['incident.created', 'incident.mitigated', 'incident.resolved'],
    'repeats are not audited again',
  )
  t.match((await events(api, `incident:${incident.id}`))[2], {
    data: { at: at(40), timeToRestoreSeconds: 40 * 60 },
  })

  // Resolved without a mitigation: there is nothing left to mitigate.
  const direct = (
    await expectStatus(
      declare(api, { service: topology.service, severity: 'sev4', title: 'typo' }),
      201,
    )
  ).body
  await expectStatus(post('resolve', undefined, direct.id), 200)
  const late = await post('mitigate', { at: at(45) }, direct.id)
  t.equal(late.status, 409)
  t.equal(late.body.type, '/problems/incident-resolved')

  const missing = await post('resolve', undefined, 999_999)
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/incident-not-found')
  t.equal((await api.request({ method: 'GET', url: '/v1/incidents/999999' })).status, 404)
})

t.test('PATCH: review link, blameless notes, severity and title, audited', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const approver = await api.tokenFor('approver', 'jane')
  const incident = (
    await expectStatus(
      declare(api, { service: topology.service, severity: 'sev3', title: 'slow' }),
      201,
    )
  ).body
  const patch = (body: unknown, token?: string) =>
    api.request({
      method: 'PATCH',
      url: `/v1/incidents/${incident.id}`,
      body,
      ...(token && { token }),
    })

  const patched = await expectStatus(
    patch(
      {
        reviewUrl: 'https://wiki.example/pir/42',
        notes: 'The cache expired everywhere at once.',
        severity: 'sev2',
        title: 'slow checkout',
      },
      approver,
    ),
    200,
  )
  t.match(patched.body, {
    reviewUrl: 'https://wiki.example/pir/42',
    notes: 'The cache expired everywhere at once.',
    severity: 'sev2',
    title: 'slow checkout',
  })
  t.same(
    (await api.request({ method: 'GET', url: `/v1/incidents/${incident.id}` })).body,
    patched.body,
  )
  const updates = (await events(api, `incident:${incident.id}`)).filter(
    (event) => event.action === 'incident.updated',
  )
  t.same(updates[0]!.data, {
    before: { severity: 'sev3', title: 'slow', reviewUrl: null, notes: '' },
    after: {
      severity: 'sev2',
      title: 'slow checkout',
      reviewUrl: 'https://wiki.example/pir/42',
      notes: 'The cache expired everywhere at once.',
    },
  })
  t.equal((await expectStatus(patch({ reviewUrl: null }), 200)).body.reviewUrl, null)

  for (const body of [{}, { reviewUrl: 'not a url' }, { severity: 'bad' }, { resolvedAt: start }]) {
    const response = await patch(body)
    t.equal(response.status, 400, JSON.stringify(body))
    t.equal(response.body.type, '/problems/validation-failed')
  }
  t.equal(
    (await api.request({ method: 'PATCH', url: '/v1/incidents/999999', body: { notes: 'x' } }))
      .status,
    404,
  )
})

t.test('an Idempotency-Key makes a retried declaration or resolution safe', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const body = { service: topology.service, severity: 'sev2', title: 'retry me', halt: true }
  const headers = { 'idempotency-key': uniqueName('declare') }
  const first = await expectStatus(
    api.request({ method: 'POST', url: '/v1/incidents', body, headers }),
    201,
  )
  const retry = await expectStatus(
    api.request({ method: 'POST', url: '/v1/incidents', body, headers }),
    201,
  )
  t.same(retry.body, first.body)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal((await api.request({ method: 'GET', url: '/v1/incidents' })).body.incidents.length, 1)
  t.equal((await api.request({ method: 'GET', url: '/v1/halts' })).body.halts.length, 1)
  const reused = await api.request({
    method: 'POST',
    url: '/v1/incidents',
    body: { ...body, title: 'another' },
    headers,
  })
  t.equal(reused.status, 409)
  t.equal(reused.body.type, '/problems/idempotency-key-reused')

  const resolveHeaders = { 'idempotency-key': uniqueName('resolve') }
  const resolve = () =>
    api.request({
      method: 'POST',
      url: `/v1/incidents/${first.body.id}/resolve`,
      headers: resolveHeaders,
    })
  const resolved = await expectStatus(resolve(), 200)
  const replayed = await expectStatus(resolve(), 200)
  t.same(replayed.body, resolved.body, 'a retry without a time gets the first answer')
})

t.test('list: by service and openness, newest first, paged', async (t) => {
  const api = await build(t)
  const a = await createTopology(api, [{ scaleUnits: 1 }])
  const b = await createTopology(api, [])
  const ids: number[] = []
  for (const [service, title] of [
    [a.service, 'one'],
    [b.service, 'two'],
    [a.service, 'three'],
  ] as const) {
    ids.push((await expectStatus(declare(api, { service, severity: 'sev3', title }), 201)).body.id)
  }
  await expectStatus(
    api.request({ method: 'POST', url: `/v1/incidents/${ids[0]}/resolve`, body: {} }),
    200,
  )
  const list = async (query: string) =>
    (await expectStatus(api.request({ method: 'GET', url: `/v1/incidents${query}` }), 200)).body
  t.same(
    (await list('')).incidents.map((i: { id: number }) => i.id),
    [ids[2], ids[1], ids[0]],
  )
  t.same(
    (await list(`?service=${a.service}`)).incidents.map((i: { id: number }) => i.id),
    [ids[2], ids[0]],
  )
  t.same(
    (await list(`?service=${a.service}&open=true`)).incidents.map((i: { id: number }) => i.id),
    [ids[2]],
  )
  t.same(
    (await list('?open=false')).incidents.map((i: { id: number }) => i.id),
    [ids[0]],
  )
  const page = await list('?limit=2')
  t.equal(page.nextBefore, ids[1])
  const next = await list(`?limit=2&before=${page.nextBefore}`)
  t.same(
    next.incidents.map((i: { id: number }) => i.id),
    [ids[0]],
  )
  t.equal(next.nextBefore, null)
})

t.test('who may do what: people declare, anyone reads, SDK tokens nothing', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const body = { service: topology.service, severity: 'sev3', title: 'roles' }
  const pipeline = await api.tokenFor('pipeline')
  const viewer = await api.tokenFor('viewer', 'vic')
  const client = await api.tokenFor('client', undefined, topology.rings[0])

  const byPipeline = await declare(api, body, pipeline)
  t.equal(byPipeline.status, 403)
  t.equal(byPipeline.body.type, '/problems/role-not-allowed')
  const byClient = await declare(api, body, client)
  t.equal(byClient.status, 403)
  const created = await expectStatus(declare(api, body, viewer), 201)
  t.equal(created.body.createdBy, 'vic')
  for (const url of ['/v1/incidents', `/v1/incidents/${created.body.id}`]) {
    t.equal((await api.request({ method: 'GET', url, token: pipeline })).status, 200, url)
    t.equal((await api.request({ method: 'GET', url, token: client })).status, 403, url)
  }
  const resolveByPipeline = await api.request({
    method: 'POST',
    url: `/v1/incidents/${created.body.id}/resolve`,
    token: pipeline,
    body: {},
  })
  t.equal(resolveByPipeline.status, 403)
})

t.test('resolving records the incident trace, linked to the release it blames', async (t) => {
  const clock = new ManualClock(start)
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ scaleUnits: 2 }])
  const pipeline = await api.tokenFor('pipeline')
  const release = (
    await createRelease(api, pipeline, { service: topology.service, version: '2.0.0' })
  ).body
  const incident = (
    await expectStatus(
      declare(api, {
        service: topology.service,
        severity: 'sev2',
        title: 'payments time out',
        ring: topology.rings[0],
        scaleUnits: [topology.scaleUnits[0]![0]],
        releaseId: release.id,
        startedAt: at(-20),
        detectedAt: at(-5),
      }),
      201,
    )
  ).body
  const post = (action: string, time: string, id = incident.id) =>
    expectStatus(
      api.request({ method: 'POST', url: `/v1/incidents/${id}/${action}`, body: { at: time } }),
      200,
    )
  await post('mitigate', at(0))
  t.same(await recordedSpans(api, incident.traceId), [], 'nothing is recorded before the end')
  clock.advanceMinutes(30)
  await post('resolve', at(25))

  const spans = await recordedSpans(api, incident.traceId)
  const byName = new Map(spans.map((span) => [span.name, span]))
  t.same([...byName.keys()].sort(), [
    'incident detect',
    'incident mitigate',
    'incident restore',
    `incident ${topology.service}`,
  ])
  const root = byName.get(`incident ${topology.service}`)!
  t.match(root, {
    parentSpanId: null,
    step: 'incident',
    startedAt: at(-20),
    endedAt: at(25),
    status: 'error',
    errorType: 'incident',
    statusMessage: 'sev2: payments time out',
    facts: {
      incidentId: incident.id,
      service: topology.service,
      severity: 'sev2',
      title: 'payments time out',
      ring: topology.rings[0],
      scaleUnits: [topology.scaleUnits[0]![0]],
      releaseId: release.id,
    },
  })
  t.same(root.links, [
    { traceId: release.traceId, spanId: releaseRootSpanId(release.traceId), relation: 'blames' },
  ])
  const phases = [
    ['detect', at(-20), at(-5)],
    ['mitigate', at(-5), at(0)],
    ['restore', at(0), at(25)],
  ] as const
  for (const [phase, startedAt, endedAt] of phases) {
    t.match(byName.get(`incident ${phase}`), {
      traceId: incident.traceId,
      parentSpanId: root.spanId,
      step: 'incident-phase',
      startedAt,
      endedAt,
      facts: { incidentId: incident.id, phase },
      links: [],
    })
  }
  t.equal(new Set(spans.map((span) => span.spanId)).size, 4, 'span ids differ')

  // Not mitigated, blaming nothing: detect and restore, no link.
  const plain = (
    await expectStatus(
      declare(api, { service: topology.service, severity: 'sev4', title: 'blip' }),
      201,
    )
  ).body
  await post('resolve', at(30), plain.id)
  const plainSpans = await recordedSpans(api, plain.traceId)
  t.same(plainSpans.map((span) => span.name).sort(), [
    'incident detect',
    'incident restore',
    `incident ${topology.service}`,
  ])
  t.match(
    plainSpans.find((span) => span.name === 'incident restore'),
    { startedAt: at(30), endedAt: at(30) },
  )
  t.same(plainSpans.find((span) => span.step === 'incident')!.links, [])
})

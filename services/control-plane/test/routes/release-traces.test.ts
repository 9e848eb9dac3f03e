import { derivedSpanId, type RolloutSpan, releaseRootSpanId } from '@ringmaster/domain'
import t from 'tap'
import { build } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  getRelease,
  ManualClock,
  recordedSpans,
  runExecutor,
} from '../helpers/release-fixtures.js'

// The spans a rollout records, read from the outbox before any exporter sees them: parents,
// back-dated times, status and facts. Exporting them is tested in the telemetry worker's tests.

const approverGate = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const

/**
 * A readable key per span: its name, plus what tells repeats apart (the version of a release or
 * rollback, the scale unit and attempt of a deployment, a gate's scale unit, a halt's cause).
 * Span names themselves carry no version or scale unit: those are attributes.
 */
function keyOf(span: RolloutSpan): string {
  const { facts } = span
  switch (span.step) {
    case 'release':
    case 'rollback':
      return `${span.name} ${facts.version}`
    case 'deployment':
      return `${facts.deploymentKind} ${facts.scaleUnit} #${facts.attempt}`
    case 'health-gate':
      return `health gate ${facts.scaleUnit}`
    case 'halt':
      return `${span.name} (${facts.haltCause ?? `line halt ${facts.haltId}`})`
    default:
      return span.name
  }
}

function byKey(spans: RolloutSpan[]): Map<string, RolloutSpan> {
  const map = new Map<string, RolloutSpan>()
  for (const span of spans) {
    if (map.has(keyOf(span))) throw new Error(`two spans named ${keyOf(span)}`)
    map.set(keyOf(span), span)
  }
  return map
}

const at = (time: string) => `2026-11-23T${time}:00.000Z`

t.test(
  'a release is one trace: stages, approval, waves, deployments, bake, gates, halts',
  async (t) => {
    const clock = new ManualClock(at('09:00'))
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      {
        policy: { preApproval: approverGate, bakeMinutes: 60, health: { maxErrorRate: 0.01 } },
        scaleUnits: 1,
      },
      { policy: { maxParallel: 2 }, scaleUnits: 4, pairs: [0] },
    ])
    const [r0, r1] = topology.rings as [string, string]
    const [r0Unit] = topology.scaleUnits[0] as [string]
    const [u0, u1, u2, u3] = topology.scaleUnits[1] as [string, string, string, string]
    const pipeline = await api.tokenFor('pipeline', 'build-pipeline')
    const approver = await api.tokenFor('approver', 'jane')
    const sre = await api.tokenFor('sre', 'sam')

    const created = await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.4.0',
      commit: 'abc1234',
    })
    const id = created.body.id as number
    t.match(created.body.traceId, /^[0-9a-f]{32}$/, 'the release names its trace')
    await api.settle()

    clock.advanceMinutes(30) // 09:30
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${id}/stages/${r0}/approvals`,
        token: approver,
        body: { decision: 'approve' },
      }),
      201,
    )
    await api.settle()
    clock.advanceMinutes(5) // 09:35
    await runExecutor(api, pipeline, [r0Unit])
    clock.advanceMinutes(5) // 09:40
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${r0Unit}/health`,
        token: pipeline,
        body: { service: topology.service, status: 'healthy', signals: { errorRate: 0.004 } },
      }),
      201,
    )
    clock.advanceMinutes(55) // 10:35: the bake is over
    await api.tick()
    await api.settle()

    clock.advanceMinutes(5) // 10:40
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${id}/halt`,
        token: sre,
        body: { reason: 'checking a dashboard' },
      }),
      200,
    )
    clock.advanceMinutes(10) // 10:50
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${id}/resume`,
        token: sre,
        body: { reason: 'dashboard is fine' },
      }),
      200,
    )
    await api.settle()
    clock.advanceMinutes(5) // 10:55: u0 fails, the engine halts the release
    await runExecutor(api, pipeline, [u2, u0], [u0])
    const failed = (await getRelease(api, id)).stages[1].deployments.find(
      (d: { scaleUnit: string }) => d.scaleUnit === u0,
    )
    clock.advanceMinutes(5) // 11:00
    await expectStatus(
      api.request({ method: 'POST', url: `/v1/deployments/${failed.id}/retry`, token: sre }),
      200,
    )
    clock.advanceMinutes(5) // 11:05
    await runExecutor(api, pipeline, [u0])
    clock.advanceMinutes(5) // 11:10
    await runExecutor(api, pipeline, [u1, u3])
    const release = await getRelease(api, id)
    t.equal(release.state, 'succeeded', 'the release went all the way')

    const spans = await recordedSpans(api)
    t.ok(
      spans.every((span) => span.traceId === release.traceId),
      'every span is in the trace on the release row',
    )
    const unitNames = topology.scaleUnits.flat()
    t.strictSame(
      spans
        .map((span) => span.name)
        .filter((name) => name.includes('1.4.0') || unitNames.some((u) => name.includes(u))),
      [],
      'no span name carries the version or a scale unit',
    )
    t.strictSame(
      [...new Set(spans.map((span) => span.name))].sort(),
      [
        `bake ${r0}`,
        `bake ${r1}`,
        `deploy ${r0}`,
        `deploy ${r1}`,
        `halt ${r1}`,
        `health gate ${r0}`,
        `pre-approval ${r0}`,
        `release ${topology.service}`,
        `ring ${r0}`,
        `ring ${r1}`,
        `wave 1/1 ${r0}`,
        `wave 1/2 ${r1}`,
        `wave 2/2 ${r1}`,
      ],
      'span names: the step, and the ring or service it is in',
    )
    const named = byKey(spans)
    const id0 = (key: string) => {
      const span = named.get(key)
      if (!span) throw new Error(`no span ${key}; have ${[...named.keys()].join(', ')}`)
      return span.spanId
    }
    const root = `release ${topology.service} 1.4.0`
    // [key, parent key (null for the root), start, end, status, error type]
    const expected: Array<[string, string | null, string, string, string, string | null]> = [
      [root, null, at('09:00'), at('11:10'), 'ok', null],
      [`ring ${r0}`, root, at('09:00'), at('10:35'), 'ok', null],
      [`pre-approval ${r0}`, `ring ${r0}`, at('09:00'), at('09:30'), 'ok', null],
      [`wave 1/1 ${r0}`, `ring ${r0}`, at('09:30'), at('09:35'), 'ok', null],
      [`deploy ${r0Unit} #1`, `wave 1/1 ${r0}`, at('09:30'), at('09:35'), 'ok', null],
      [`bake ${r0}`, `ring ${r0}`, at('09:35'), at('10:35'), 'ok', null],
      [`health gate ${r0Unit}`, `bake ${r0}`, at('09:40'), at('09:40'), 'ok', null],
      [`ring ${r1}`, root, at('10:35'), at('11:10'), 'ok', null],
      [`halt ${r1} (manual)`, `ring ${r1}`, at('10:40'), at('10:50'), 'unset', null],
      [`wave 1/2 ${r1}`, `ring ${r1}`, at('10:35'), at('11:05'), 'ok', null],
      [`deploy ${u0} #1`, `wave 1/2 ${r1}`, at('10:35'), at('10:55'), 'error', 'deployment_failed'],
      [`deploy ${u2} #1`, `wave 1/2 ${r1}`, at('10:35'), at('10:55'), 'ok', null],
      [
        `halt ${r1} (deployment_failed)`,
        `ring ${r1}`,
        at('10:55'),
        at('11:00'),
        'error',
        'deployment_failed',
      ],
      [`deploy ${u0} #2`, `wave 1/2 ${r1}`, at('11:00'), at('11:05'), 'ok', null],
      [`wave 2/2 ${r1}`, `ring ${r1}`, at('11:05'), at('11:10'), 'ok', null],
      [`deploy ${u1} #1`, `wave 2/2 ${r1}`, at('11:05'), at('11:10'), 'ok', null],
      [`deploy ${u3} #1`, `wave 2/2 ${r1}`, at('11:05'), at('11:10'), 'ok', null],
      [`bake ${r1}`, `ring ${r1}`, at('11:10'), at('11:10'), 'ok', null],
    ]
    t.strictSame([...named.keys()].sort(), expected.map(([key]) => key).sort(), 'every step once')
    for (const [key, parent, startedAt, endedAt, status, errorType] of expected) {
      const span = named.get(key)!
      t.strictSame(
        {
          parent: span.parentSpanId,
          startedAt: span.startedAt,
          endedAt: span.endedAt,
          status: span.status,
          errorType: span.errorType,
        },
        { parent: parent === null ? null : id0(parent), startedAt, endedAt, status, errorType },
        key,
      )
    }
    t.equal(named.get(root)!.spanId, releaseRootSpanId(release.traceId))

    t.match(named.get(root)!.facts, {
      releaseId: id,
      service: topology.service,
      version: '1.4.0',
      commit: 'abc1234',
      requester: 'build-pipeline',
      outcome: 'succeeded',
    })
    t.match(named.get(`pre-approval ${r0}`)!.facts, {
      gate: 'pre',
      decision: 'approved',
      approvers: ['jane'],
      requiredApprovals: 1,
      approverRole: 'approver',
    })
    t.match(named.get(`health gate ${r0Unit}`)!.facts, {
      verdict: 'pass',
      signal: 'errorRate',
      signalValue: 0.004,
      signalThreshold: 0.01,
      scaleUnit: r0Unit,
      region: 'westeurope',
    })
    t.match(named.get(`deploy ${u0} #1`)!, {
      statusMessage: 'health probe timed out',
      facts: {
        deploymentId: failed.id,
        scaleUnit: u0,
        region: 'westeurope',
        ring: r1,
        wave: 1,
        attempt: 1,
        outcome: 'failed',
      },
    })
    const failedAttempt = named.get(`deploy ${u0} #1`)!
    const retriedAttempt = named.get(`deploy ${u0} #2`)!
    t.equal(failedAttempt.facts.taskRunId, `deployment/${failed.id}/1`)
    t.equal(retriedAttempt.facts.taskRunId, `deployment/${failed.id}/2`, 'a retry is a new run')
    const runIds = spans
      .filter((span) => span.step !== 'release' && span.step !== 'halt')
      .map((span) => span.facts.taskRunId)
    t.notOk(runIds.includes(undefined), 'every task span names its run')
    t.equal(new Set(runIds).size, runIds.length, 'task run ids are unique in the release')
    t.match(named.get(`halt ${r1} (manual)`)!.facts, {
      haltedBy: 'sam',
      reason: 'checking a dashboard',
      outcome: 'resumed',
    })
    t.match(named.get(`bake ${r0}`)!.facts, { bakeMinutes: 60, bakeCutShort: false })
  },
)

t.test('a rollback is its own trace, linked to the release it repairs', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { maxParallel: 2, bakeMinutes: 30 }, scaleUnits: 2 },
  ])
  const [ring] = topology.rings as [string]
  const [a, b] = topology.scaleUnits[0] as [string, string]
  const pipeline = await api.tokenFor('pipeline')
  const sre = await api.tokenFor('sre', 'sam')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '2.0.0',
  })
  const id = created.body.id as number
  await api.settle()
  clock.advanceMinutes(5) // 09:05
  await runExecutor(api, pipeline, [a, b])
  clock.advanceMinutes(10) // 09:15: baking
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/rollback`,
      token: sre,
      body: { reason: 'error budget burning' },
    }),
    200,
  )
  const release = await getRelease(api, id)
  let named = byKey(await recordedSpans(api))
  t.notOk(named.has(`rollback ${topology.service} 2.0.0`), 'the rollback is not over yet')
  t.match(named.get(`release ${topology.service} 2.0.0`), {
    startedAt: at('09:00'),
    endedAt: at('09:15'),
    status: 'error',
    errorType: 'rolled_back',
    statusMessage: 'error budget burning',
    facts: { outcome: 'rolled_back' },
  })
  t.match(named.get(`bake ${ring}`), {
    startedAt: at('09:05'),
    endedAt: at('09:15'),
    status: 'error',
    facts: { bakeCutShort: true },
  })
  t.match(named.get(`ring ${ring}`), { endedAt: at('09:15'), facts: { outcome: 'rolled_back' } })

  clock.advanceMinutes(3) // 09:18
  await runExecutor(api, pipeline, [a])
  clock.advanceMinutes(4) // 09:22
  await runExecutor(api, pipeline, [b])
  named = byKey(await recordedSpans(api))
  const rollback = named.get(`rollback ${topology.service} 2.0.0`)
  t.ok(rollback, 'the last rollback deployment ends the rollback')
  t.not(rollback!.traceId, release.traceId, 'a new trace')
  t.match(rollback, {
    parentSpanId: null,
    startedAt: at('09:15'),
    endedAt: at('09:22'),
    status: 'ok',
    links: [
      {
        traceId: release.traceId,
        spanId: releaseRootSpanId(release.traceId),
        relation: 'repairs',
      },
    ],
  })
  for (const [unit, endedAt] of [
    [a, at('09:18')],
    [b, at('09:22')],
  ] as const) {
    t.match(named.get(`rollback ${unit} #1`), {
      traceId: rollback!.traceId,
      parentSpanId: rollback!.spanId,
      startedAt: at('09:15'),
      endedAt,
      facts: { deploymentKind: 'rollback', previousVersion: '2.0.0', outcome: 'succeeded' },
    })
  }
})

t.test('a rejection ends the approval wait, the stage and the release in error', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate }, scaleUnits: 1 },
  ])
  const [ring] = topology.rings as [string]
  const pipeline = await api.tokenFor('pipeline')
  const approver = await api.tokenFor('approver', 'jane')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '3.0.0',
  })
  await api.settle()
  clock.advanceMinutes(12)
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${created.body.id}/stages/${ring}/approvals`,
      token: approver,
      body: { decision: 'reject', comment: 'not during the sale' },
    }),
    201,
  )
  const named = byKey(await recordedSpans(api))
  t.strictSame([...named.keys()].sort(), [
    `pre-approval ${ring}`,
    `release ${topology.service} 3.0.0`,
    `ring ${ring}`,
  ])
  t.match(named.get(`pre-approval ${ring}`), {
    startedAt: at('09:00'),
    endedAt: at('09:12'),
    status: 'error',
    errorType: 'rejected',
    statusMessage: 'rejected by jane: not during the sale',
    facts: { decision: 'rejected', approvers: [] },
  })
  t.match(named.get(`release ${topology.service} 3.0.0`), {
    status: 'error',
    errorType: 'rejected',
    facts: { outcome: 'failed' },
  })
})

t.test('releases that never start still end their trace', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { preApproval: approverGate }, scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const create = async (version: string) => {
    const created = await createRelease(api, pipeline, { service: topology.service, version })
    await api.settle()
    clock.advanceMinutes(1)
    return created.body
  }
  await create('1.0.0') // holds ring 0 while it waits for approval
  const second = await create('1.0.1') // queued behind it
  const third = await create('1.0.2') // supersedes the second
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${third.id}/cancel`,
      token: pipeline,
      body: { reason: 'wrong branch' },
    }),
    200,
  )
  const named = byKey(await recordedSpans(api))
  t.strictSame(
    [...named.keys()].sort(),
    [`release ${topology.service} 1.0.1`, `release ${topology.service} 1.0.2`],
    'the release still waiting for approval has recorded nothing',
  )
  t.match(named.get(`release ${topology.service} 1.0.1`), {
    traceId: second.traceId,
    startedAt: at('09:01'),
    endedAt: at('09:02'),
    status: 'unset',
    facts: { outcome: 'superseded' },
  })
  t.match(named.get(`release ${topology.service} 1.0.2`), {
    traceId: third.traceId,
    startedAt: at('09:02'),
    endedAt: at('09:03'),
    status: 'unset',
    facts: { outcome: 'cancelled' },
  })
  t.not(second.traceId, third.traceId, 'one trace per release')
})

t.test(
  'a hotfix links to the incident it answers and the release that incident blames',
  async (t) => {
    const clock = new ManualClock(at('09:00'))
    const api = await build(t, { clock })
    const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 1 }])
    const [, ring1] = topology.rings as [string, string]
    const pipeline = await api.tokenFor('pipeline')
    const sre = await api.tokenFor('sre', 'sam')
    const broken = await createRelease(api, pipeline, {
      service: topology.service,
      version: '4.0.0',
    })
    await api.settle()
    // Ring by ring: ring 1's deployment exists only once ring 0 is done.
    await runExecutor(api, pipeline, topology.scaleUnits[0]!)
    await runExecutor(api, pipeline, topology.scaleUnits[1]!)
    t.equal((await getRelease(api, broken.body.id)).state, 'succeeded')
    clock.advanceMinutes(10)
    const incident = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/incidents',
        token: sre,
        body: {
          service: topology.service,
          severity: 'sev2',
          title: 'checkout errors',
          ring: ring1,
          releaseId: broken.body.id,
        },
      }),
      201,
    )
    const hotfix = await createRelease(api, pipeline, {
      service: topology.service,
      version: '4.0.1',
      kind: 'hotfix',
      reason: 'fix checkout errors',
      rings: { from: ring1, to: ring1 },
      incidentId: incident.body.id,
    })
    t.equal(hotfix.body.incidentId, incident.body.id)
    await api.settle()
    await runExecutor(api, pipeline, topology.scaleUnits[1]!)
    t.equal((await getRelease(api, hotfix.body.id)).state, 'succeeded')

    const root = (await recordedSpans(api)).find(
      (span) => span.traceId === hotfix.body.traceId && span.parentSpanId === null,
    )
    t.match(root, {
      name: `release ${topology.service}`,
      facts: { releaseKind: 'hotfix', incidentId: incident.body.id },
    })
    t.strictSame(root!.links, [
      {
        traceId: incident.body.traceId,
        spanId: derivedSpanId(incident.body.traceId, 'incident'),
        relation: 'responds-to',
      },
      {
        traceId: broken.body.traceId,
        spanId: releaseRootSpanId(broken.body.traceId),
        relation: 'repairs',
      },
    ])

    const unknown = await api.request({
      method: 'POST',
      url: '/v1/releases',
      token: pipeline,
      body: { service: topology.service, version: '4.0.2', incidentId: 999_999 },
    })
    t.equal(unknown.status, 400)
    t.equal(unknown.body.type, '/problems/unknown-incident')
  },
)

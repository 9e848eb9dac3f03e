import { derivedSpanId } from '@ringmaster/domain'
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

// Stops of the line (POST /v1/halts, an incident's halt) as spans on the release traces they hold.

const approverGate = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const

const at = (time: string) => `2026-11-23T${time}:00.000Z`

t.test(
  'a stop of the line shows on every release trace it holds, until it is lifted',
  async (t) => {
    const clock = new ManualClock(at('09:00'))
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      { policy: { preApproval: approverGate }, scaleUnits: 1 },
    ])
    const [ring] = topology.rings as [string]
    const [unit] = topology.scaleUnits[0] as [string]
    const otherService = `${topology.service}-b`
    await expectStatus(
      api.request({ method: 'POST', url: '/v1/services', body: { name: otherService } }),
      201,
    )
    const pipeline = await api.tokenFor('pipeline')
    const approver = await api.tokenFor('approver', 'jane')
    const sre = await api.tokenFor('sre', 'sam')
    const stopTheLine = async (body: Record<string, unknown>) =>
      (await expectStatus(api.request({ method: 'POST', url: '/v1/halts', token: sre, body }), 201))
        .body.id as number
    const lift = (haltId: number) =>
      expectStatus(api.request({ method: 'DELETE', url: `/v1/halts/${haltId}`, token: sre }), 200)

    const held = await createRelease(api, pipeline, { service: topology.service, version: '7.0.0' })
    await api.settle() // 09:00: ring 0 waits for approval
    clock.advanceMinutes(10) // 09:10
    const everywhere = await stopTheLine({ scope: 'global', reason: 'incident in progress' })
    const oneService = await stopTheLine({
      scope: 'service',
      target: topology.service,
      reason: 'bad config in checkout',
    })
    clock.advanceMinutes(2) // 09:12: a release of another service starts under the global halt
    const other = await createRelease(api, pipeline, { service: otherService, version: '1.0.0' })
    await api.settle()
    clock.advanceMinutes(8) // 09:20: approved; the release waits for the line
    for (const release of [held, other]) {
      await expectStatus(
        api.request({
          method: 'POST',
          url: `/v1/releases/${release.body.id}/stages/${ring}/approvals`,
          token: approver,
          body: { decision: 'approve' },
        }),
        201,
      )
    }
    await api.settle()
    t.equal(
      (await getRelease(api, held.body.id)).stages[0].state,
      'awaiting_approval',
      'an approved stage does not move on while the line is stopped',
    )
    t.equal(
      (await getRelease(api, other.body.id)).stages[0].startedAt,
      null,
      'the other release has not entered its ring',
    )
    clock.advanceMinutes(5) // 09:25
    await lift(oneService)
    clock.advanceMinutes(5) // 09:30
    await lift(everywhere)
    await lift(everywhere) // lifting twice records nothing twice
    await api.settle()
    clock.advanceMinutes(5) // 09:35
    await runExecutor(api, pipeline, [unit])
    await api.tick()
    await api.settle()
    t.equal((await getRelease(api, held.body.id)).state, 'succeeded')
    t.equal((await getRelease(api, other.body.id)).state, 'succeeded')

    const spans = await recordedSpans(api)
    const haltsIn = (traceId: string) =>
      spans
        .filter((span) => span.traceId === traceId && span.step === 'halt')
        .sort((a, b) => (a.facts.haltId ?? 0) - (b.facts.haltId ?? 0))
    const stageOf = (traceId: string) =>
      spans.find((span) => span.traceId === traceId && span.step === 'stage')!
    const heldStage = stageOf(held.body.traceId)
    t.match(
      haltsIn(held.body.traceId),
      [
        {
          name: `halt ${ring}`,
          parentSpanId: heldStage.spanId,
          startedAt: at('09:10'),
          endedAt: at('09:30'),
          status: 'unset',
          facts: {
            haltId: everywhere,
            haltScope: 'global',
            haltTarget: null,
            haltedBy: 'sam',
            reason: 'incident in progress',
            outcome: 'lifted',
            ring,
          },
        },
        {
          parentSpanId: heldStage.spanId,
          startedAt: at('09:10'),
          endedAt: at('09:25'),
          facts: {
            haltId: oneService,
            haltScope: 'service',
            haltTarget: topology.service,
            reason: 'bad config in checkout',
            outcome: 'lifted',
          },
        },
      ],
      'both halts that held the first release, each until it was lifted',
    )
    t.equal(haltsIn(held.body.traceId).length, 2)
    t.equal(
      haltsIn(held.body.traceId)[0]!.spanId,
      derivedSpanId(held.body.traceId, 'line-halt', everywhere, heldStage.spanId),
      'the id is derived from the halt and the stage, so every replica names it alike',
    )
    t.match(
      haltsIn(other.body.traceId),
      [
        {
          // It held the release before its stage started: under the release's root.
          parentSpanId: spans.find(
            (span) => span.traceId === other.body.traceId && span.step === 'release',
          )!.spanId,
          startedAt: at('09:12'),
          endedAt: at('09:30'),
          facts: { haltId: everywhere, outcome: 'lifted' },
        },
      ],
      'the global halt held the other release from its creation; the service halt did not',
    )
    t.equal(haltsIn(other.body.traceId).length, 1)
    t.match(
      spans.find((span) => span.traceId === held.body.traceId && span.step === 'wave'),
      { startedAt: at('09:30') },
      'the wave starts where the halt ends: no unexplained gap',
    )
  },
)

t.test('an incident halt still holding a release when it ends closes with it', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ policy: { bakeMinutes: 60 }, scaleUnits: 1 }])
  const [ring] = topology.rings as [string]
  const pipeline = await api.tokenFor('pipeline')
  const sre = await api.tokenFor('sre', 'sam')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '8.0.0',
  })
  await api.settle()
  clock.advanceMinutes(5) // 09:05: baking
  await runExecutor(api, pipeline, topology.scaleUnits[0]!)
  clock.advanceMinutes(5) // 09:10
  const incident = await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/incidents',
      token: sre,
      body: {
        service: topology.service,
        severity: 'sev2',
        title: 'payments failing',
        ring,
        releaseId: created.body.id,
        halt: true,
      },
    }),
    201,
  )
  const haltId = incident.body.haltId as number
  t.type(haltId, 'number', 'the incident stopped the line')
  clock.advanceMinutes(10) // 09:20
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${created.body.id}/rollback`,
      token: sre,
      body: { reason: 'payments failing' },
    }),
    200,
  )
  clock.advanceMinutes(10) // 09:30: lifting it afterwards adds nothing to the ended release
  await expectStatus(api.request({ method: 'DELETE', url: `/v1/halts/${haltId}`, token: sre }), 200)
  const spans = (await recordedSpans(api)).filter((span) => span.traceId === created.body.traceId)
  const stage = spans.find((span) => span.step === 'stage')!
  t.match(
    spans.filter((span) => span.step === 'halt'),
    [
      {
        name: `halt ${ring}`,
        parentSpanId: stage.spanId,
        startedAt: at('09:10'),
        endedAt: at('09:20'),
        status: 'unset',
        facts: {
          haltId,
          haltScope: 'service',
          haltTarget: topology.service,
          reason: `incident ${incident.body.id}: payments failing`,
          outcome: 'rolled_back',
        },
      },
    ],
    'one halt span, ended with the release',
  )
})

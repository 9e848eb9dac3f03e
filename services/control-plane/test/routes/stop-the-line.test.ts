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

t.test('a global halt stops new waves everywhere until it is lifted', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ policy: { maxParallel: 1 }, scaleUnits: 2 }])
  const pipeline = await api.tokenFor('pipeline')
  const viewer = await api.tokenFor('viewer', 'intern-ivy')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  await api.settle()
  const [first, second] = topology.scaleUnits[0]!
  // An executor has already started the first wave when someone stops the line.
  const firstDeployment = (await getRelease(api, created.body.id)).stages[0].deployments[0]
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/deployments/${firstDeployment.id}/start`,
      token: pipeline,
    }),
    200,
  )

  const byPipeline = await api.request({
    method: 'POST',
    url: '/v1/halts',
    token: pipeline,
    body: { scope: 'global', reason: 'x' },
  })
  t.equal(byPipeline.status, 403, 'a pipeline cannot stop the line')
  // Anyone else can, even a viewer.
  const halt = await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/halts',
      token: viewer,
      body: { scope: 'global', reason: 'db alarms' },
    }),
    201,
  )
  t.match(halt.body, {
    scope: 'global',
    target: null,
    reason: 'db alarms',
    createdBy: 'intern-ivy',
    liftedAt: null,
  })

  // The deployment already running may finish; the next wave must not start.
  await runExecutor(api, pipeline, [first!])
  t.equal((await getRelease(api, created.body.id)).stages[0].deployments[0].state, 'succeeded')
  let release = await getRelease(api, created.body.id)
  t.equal(release.stages[0].currentWave, 0)
  t.strictSame(release.blockedBy, [
    {
      kind: 'halt',
      message: 'halted by intern-ivy (everywhere): db alarms',
      halt: {
        id: halt.body.id,
        scope: 'global',
        target: null,
        reason: 'db alarms',
        by: 'intern-ivy',
        since: halt.body.createdAt,
        incidentId: null,
      },
    },
  ])
  const desired = await api.request({
    method: 'GET',
    url: `/v1/scale-units/${second}/desired`,
    token: pipeline,
  })
  t.strictSame(desired.body.deployments, [])

  const active = await api.request({ method: 'GET', url: '/v1/halts?active=true' })
  t.equal(active.body.halts.length, 1)
  const liftByViewer = await api.request({
    method: 'DELETE',
    url: `/v1/halts/${halt.body.id}`,
    token: viewer,
  })
  t.equal(liftByViewer.status, 403)
  const sre = await api.tokenFor('sre', 'sam')
  const lifted = await expectStatus(
    api.request({ method: 'DELETE', url: `/v1/halts/${halt.body.id}`, token: sre }),
    200,
  )
  t.match(lifted.body, { liftedBy: 'sam' })
  t.type(lifted.body.liftedAt, 'string')
  const liftedAgain = await expectStatus(
    api.request({ method: 'DELETE', url: `/v1/halts/${halt.body.id}`, token: sre }),
    200,
  )
  t.equal(liftedAgain.body.liftedAt, lifted.body.liftedAt, 'lifting twice changes nothing')
  await api.settle()
  release = await getRelease(api, created.body.id)
  t.equal(release.stages[0].currentWave, 1)
  await runExecutor(api, pipeline, [second!])
  t.equal((await getRelease(api, created.body.id)).state, 'succeeded')
})

t.test(
  'halt scopes: a service halt leaves other services alone; bad targets are 400s',
  async (t) => {
    const api = await build(t)
    const a = await createTopology(api, [{ scaleUnits: 1 }])
    const other = `${a.service}-other`
    await expectStatus(
      api.request({ method: 'POST', url: '/v1/services', body: { name: other } }),
      201,
    )
    const pipeline = await api.tokenFor('pipeline')
    const admin = api.adminToken
    await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/halts',
        token: admin,
        body: { scope: 'service', target: a.service, reason: 'bad config' },
      }),
      201,
    )
    const halted = await createRelease(api, pipeline, { service: a.service, version: '1.0.0' })
    const free = await createRelease(api, pipeline, { service: other, version: '1.0.0' })
    await api.settle()
    t.equal((await getRelease(api, halted.body.id)).stages[0].currentWave, -1)
    t.match((await getRelease(api, halted.body.id)).blockedBy, [
      {
        kind: 'halt',
        message: new RegExp(`^halted by .+ \\(service ${a.service}\\): bad config$`),
      },
    ])
    t.equal((await getRelease(api, free.body.id)).stages[0].currentWave, 0)

    for (const body of [
      { scope: 'global', target: 'x', reason: 'r' },
      { scope: 'service', reason: 'r' },
      { scope: 'ring', target: 'no-such-ring', reason: 'r' },
    ]) {
      const response = await api.request({ method: 'POST', url: '/v1/halts', token: admin, body })
      t.equal(response.status, 400, JSON.stringify(body))
      t.equal(response.body.type, '/problems/invalid-scope-target')
    }
  },
)

t.test('manual halt, resume, cancel and their rules', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 1 }])
  const pipeline = await api.tokenFor('pipeline')
  const approver = await api.tokenFor('approver', 'ann')
  const sre = await api.tokenFor('sre')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  await api.settle()
  const id = created.body.id
  const halted = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/halt`,
      token: approver,
      body: { reason: 'customer report' },
    }),
    200,
  )
  t.match(halted.body, {
    state: 'halted',
    halt: { by: 'ann', cause: 'manual', reason: 'customer report', resumeTo: 'in_progress' },
  })
  t.strictSame(halted.body.blockedBy, [
    {
      kind: 'halt',
      message: 'halted by ann: customer report',
      halt: {
        id: null,
        scope: 'release',
        target: String(id),
        reason: 'customer report',
        by: 'ann',
        since: halted.body.halt.at,
        incidentId: null,
      },
    },
  ])
  const again = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/halt`,
      token: approver,
      body: { reason: 'twice' },
    }),
    200,
  )
  t.equal(
    again.body.halt.reason,
    'customer report',
    'halting a halted release keeps the first reason',
  )

  // Pending work of a halted release is not handed out and cannot start.
  const [unit] = topology.scaleUnits[0]!
  const desired = await api.request({
    method: 'GET',
    url: `/v1/scale-units/${unit}/desired`,
    token: pipeline,
  })
  t.strictSame(desired.body.deployments, [])
  const deploymentId = halted.body.stages[0].deployments[0].id
  const start = await api.request({
    method: 'POST',
    url: `/v1/deployments/${deploymentId}/start`,
    token: pipeline,
  })
  t.equal(start.status, 409)
  t.equal(start.body.type, '/problems/release-halted')

  const resumeByApprover = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/resume`,
    token: approver,
    body: { reason: 'ok' },
  })
  t.equal(resumeByApprover.status, 403)
  const resumed = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/resume`,
      token: sre,
      body: { reason: 'false alarm' },
    }),
    200,
  )
  t.equal(resumed.body.state, 'in_progress')
  t.equal(resumed.body.halt, null)

  const cancelled = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/cancel`,
      token: pipeline,
      body: { reason: 'wrong build' },
    }),
    200,
  )
  t.equal(cancelled.body.state, 'cancelled')
  t.match(cancelled.body.stages[0].deployments[0], {
    state: 'rolled_back',
    message: /withdrawn before it started: release cancelled \(wrong build\)/,
  })
  const resumeCancelled = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/resume`,
    token: sre,
    body: { reason: 'x' },
  })
  t.equal(resumeCancelled.status, 409)
  t.equal(resumeCancelled.body.type, '/problems/release-not-halted')
  const cancelAgain = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/cancel`,
    token: pipeline,
    body: { reason: 'x' },
  })
  t.equal(cancelAgain.status, 409)
  t.equal(cancelAgain.body.type, '/problems/illegal-release-transition')
  const missingReason = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/halt`,
    token: sre,
    body: {},
  })
  t.equal(missingReason.status, 400)
})

t.test(
  'an unhealthy report during the bake rolls the release back to the previous version',
  async (t) => {
    const clock = new ManualClock()
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      {
        policy: {
          maxParallel: 2,
          bakeMinutes: 30,
          autoRollback: true,
          health: { maxErrorRate: 0.05 },
        },
        scaleUnits: 2,
      },
    ])
    const pipeline = await api.tokenFor('pipeline', 'executor')
    const units = topology.scaleUnits[0]!
    const release = async (version: string) => {
      const created = await createRelease(api, pipeline, { service: topology.service, version })
      await api.settle()
      await runExecutor(api, pipeline, units)
      return created.body.id as number
    }
    const v1 = await release('1.0.0')
    clock.advanceMinutes(31)
    await api.tick()
    t.equal((await getRelease(api, v1)).state, 'succeeded')

    const v2 = await release('2.0.0')
    t.equal((await getRelease(api, v2)).stages[0].state, 'baking')
    const healthy = await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${units[0]}/health`,
        token: pipeline,
        body: {
          service: topology.service,
          status: 'healthy',
          signals: { errorRate: 0.01, p99Ms: 300 },
        },
      }),
      201,
    )
    t.strictSame(healthy.body.verdicts, [
      { releaseId: v2, ring: topology.rings[0], passed: true, reasons: [], action: 'none' },
    ])
    const bad = await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${units[1]}/health`,
        token: pipeline,
        body: { service: topology.service, status: 'degraded', signals: { errorRate: 0.2 } },
      }),
      201,
    )
    t.strictSame(bad.body.verdicts, [
      {
        releaseId: v2,
        ring: topology.rings[0],
        passed: false,
        reasons: ["errorRate 0.2 is above the ring's maxErrorRate 0.05"],
        action: 'rolled_back',
      },
    ])
    let view = await getRelease(api, v2)
    t.equal(view.state, 'rolled_back')
    t.match(view.outcome, /health gate failed on/)
    const rollbacks = view.stages[0].deployments.filter(
      (d: { kind: string }) => d.kind === 'rollback',
    )
    t.equal(rollbacks.length, 2)
    t.ok(
      rollbacks.every(
        (d: { version: string; previousVersion: string; state: string }) =>
          d.version === '1.0.0' && d.previousVersion === '2.0.0' && d.state === 'pending',
      ),
    )

    const desired = await api.request({
      method: 'GET',
      url: `/v1/scale-units/${units[0]}/desired`,
      token: pipeline,
    })
    t.equal(
      desired.body.services[topology.service],
      '1.0.0',
      'desired state already says the previous version',
    )
    await runExecutor(api, pipeline, units)
    view = await getRelease(api, v2)
    t.ok(
      view.stages[0].deployments
        .filter((d: { kind: string }) => d.kind === 'deploy')
        .every((d: { state: string }) => d.state === 'rolled_back'),
      'the deploys are marked rolled back once the rollbacks succeed',
    )
    const settled = await api.request({
      method: 'GET',
      url: `/v1/scale-units/${units[1]}/desired`,
      token: pipeline,
    })
    t.strictSame(settled.body, {
      scaleUnit: units[1],
      services: { [topology.service]: '1.0.0' },
      deployments: [],
    })
  },
)

t.test(
  'without autoRollback a failed health gate halts, and health outside a bake gates nothing',
  async (t) => {
    const clock = new ManualClock()
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      { policy: { bakeMinutes: 10, autoRollback: false }, scaleUnits: 1 },
    ])
    const pipeline = await api.tokenFor('pipeline')
    const [unit] = topology.scaleUnits[0]!
    const created = await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.0.0',
    })
    await api.settle()
    const early = await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${unit}/health`,
        token: pipeline,
        body: { service: topology.service, status: 'unhealthy' },
      }),
      201,
    )
    t.strictSame(early.body.verdicts, [], 'nothing deployed there yet, nothing gated')
    await runExecutor(api, pipeline, [unit!])
    const report = await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/scale-units/${unit}/health`,
        token: pipeline,
        body: { service: topology.service, status: 'unhealthy' },
      }),
      201,
    )
    t.match(report.body.verdicts, [
      { passed: false, reasons: ['reported unhealthy'], action: 'halted' },
    ])
    const view = await getRelease(api, created.body.id)
    t.match(view, { state: 'halted', halt: { cause: 'health_failed', by: 'health gate' } })
    const unknown = await api.request({
      method: 'POST',
      url: `/v1/scale-units/${unit}/health`,
      token: pipeline,
      body: { service: 'nope', status: 'healthy' },
    })
    t.equal(unknown.status, 400)
    t.equal(unknown.body.type, '/problems/unknown-service')
  },
)

t.test('manual promotion, cutting a bake short, and a manual rollback', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    { policy: { bakeMinutes: 120, manualPromotion: true }, scaleUnits: 1 },
    { scaleUnits: 1 },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const approver = await api.tokenFor('approver', 'pat')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  await api.settle()
  const id = created.body.id
  const tooEarly = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/promote`,
    token: approver,
    body: { reason: 'go' },
  })
  t.equal(tooEarly.status, 409)
  t.equal(tooEarly.body.type, '/problems/nothing-to-promote')
  await runExecutor(api, pipeline, topology.scaleUnits[0]!)
  const byPipeline = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/promote`,
    token: pipeline,
    body: { reason: 'go' },
  })
  t.equal(byPipeline.status, 403)
  const promoted = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/promote`,
      token: approver,
      body: { reason: 'incident fix, verified by hand' },
    }),
    200,
  )
  t.equal(promoted.body.stages[0].state, 'succeeded')
  await api.settle()
  await runExecutor(api, pipeline, topology.scaleUnits[1]!)
  t.equal((await getRelease(api, id)).state, 'succeeded')
  const events = await api.request({ method: 'GET', url: '/v1/events?limit=500' })
  const promotedEvent = events.body.events.find(
    (e: { action: string }) => e.action === 'release.promoted',
  )
  t.match(promotedEvent, {
    actor: 'pat',
    data: { reason: 'incident fix, verified by hand', bakeUntil: '2026-11-23T11:00:00.000Z' },
  })

  const sre = await api.tokenFor('sre')
  const rolledBack = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/rollback`,
      token: sre,
      body: { reason: 'memory leak' },
    }),
    200,
  )
  t.equal(rolledBack.body.state, 'rolled_back')
  const rollbacks = rolledBack.body.stages
    .flatMap((s: { deployments: Array<{ kind: string; version: string | null }> }) => s.deployments)
    .filter((d: { kind: string }) => d.kind === 'rollback')
  t.equal(rollbacks.length, 2)
  t.ok(
    rollbacks.every((d: { version: string | null }) => d.version === null),
    'there was no earlier version: the rollback removes the service',
  )
  await runExecutor(api, pipeline, [...topology.scaleUnits[0]!, ...topology.scaleUnits[1]!])
  const desired = await api.request({
    method: 'GET',
    url: `/v1/scale-units/${topology.scaleUnits[1]![0]}/desired`,
    token: pipeline,
  })
  t.strictSame(desired.body.services, {})
})

t.test(
  'freeze windows hold promotions into the rings they cover; an admin may override',
  async (t) => {
    const clock = new ManualClock('2026-11-27T10:00:00.000Z')
    const api = await build(t, { clock })
    const topology = await createTopology(api, [{ scaleUnits: 1 }, { scaleUnits: 1 }])
    const pipeline = await api.tokenFor('pipeline')
    const freeze = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/freeze-windows',
        body: {
          name: 'black friday',
          scope: 'ring',
          target: topology.rings[1],
          startsAt: '2026-11-27T00:00:00Z',
          endsAt: '2026-11-28T00:00:00Z',
          reason: 'peak traffic',
        },
      }),
      201,
    )
    t.match(freeze.body, {
      name: 'black friday',
      activeUntil: '2026-11-28T00:00:00.000Z',
      schedule: null,
    })
    const created = await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.0.0',
    })
    await api.settle()
    await runExecutor(api, pipeline, topology.scaleUnits[0]!)
    let view = await getRelease(api, created.body.id)
    t.equal(view.stages[0].state, 'succeeded')
    t.equal(view.stages[1].state, 'pending')
    t.strictSame(view.blockedBy, [
      {
        kind: 'freeze',
        message: "freeze window 'black friday' until 2026-11-28T00:00:00.000Z: peak traffic",
        until: '2026-11-28T00:00:00.000Z',
      },
    ])

    const bySre = await api.request({
      method: 'POST',
      url: `/v1/releases/${created.body.id}/stages/${topology.rings[1]}/freeze-override`,
      token: await api.tokenFor('sre'),
      body: { reason: 'fix for the outage' },
    })
    t.equal(bySre.status, 403)
    const overridden = await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${created.body.id}/stages/${topology.rings[1]}/freeze-override`,
        body: { reason: 'fix for the outage' },
      }),
      200,
    )
    t.match(overridden.body.stages[1].freezeOverride, { by: 'admin', reason: 'fix for the outage' })
    await api.settle()
    view = await getRelease(api, created.body.id)
    t.equal(view.stages[1].state, 'deploying')

    const weekly = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/freeze-windows',
        body: {
          name: 'weekend',
          scope: 'global',
          schedule: { daysOfWeek: [5], start: '18:00', durationMinutes: 3840 },
          reason: 'nobody on call',
        },
      }),
      201,
    )
    t.equal(weekly.body.activeUntil, null, 'Friday 10:00 is before the weekend freeze starts')
    const both = await api.request({
      method: 'POST',
      url: '/v1/freeze-windows',
      body: {
        name: 'x',
        scope: 'global',
        startsAt: '2026-12-01T00:00:00Z',
        endsAt: '2026-12-02T00:00:00Z',
        schedule: { daysOfWeek: [1], start: '00:00', durationMinutes: 10 },
        reason: 'r',
      },
    })
    t.equal(both.status, 400)
    t.equal(both.body.type, '/problems/invalid-freeze-window')
    const backwards = await api.request({
      method: 'POST',
      url: '/v1/freeze-windows',
      body: {
        name: 'x',
        scope: 'global',
        startsAt: '2026-12-02T00:00:00Z',
        endsAt: '2026-12-01T00:00:00Z',
        reason: 'r',
      },
    })
    t.equal(backwards.status, 400)
    const listed = await api.request({ method: 'GET', url: '/v1/freeze-windows' })
    t.strictSame(
      listed.body.freezeWindows.map((w: { name: string }) => w.name),
      ['black friday', 'weekend'],
    )
    await expectStatus(
      api.request({ method: 'DELETE', url: `/v1/freeze-windows/${weekly.body.id}` }),
      204,
    )
    const gone = await api.request({
      method: 'DELETE',
      url: `/v1/freeze-windows/${weekly.body.id}`,
    })
    t.equal(gone.status, 404)
  },
)

/** What blockedBy says for a halt answered by POST /v1/halts (or read from GET /v1/halts). */
function haltBlocker(halt: {
  id: number
  scope: string
  target: string | null
  reason: string
  createdBy: string
  createdAt: string
  incidentId: number | null
}) {
  const where = halt.scope === 'global' ? 'everywhere' : `${halt.scope} ${halt.target}`
  return {
    kind: 'halt',
    message: `halted by ${halt.createdBy} (${where}): ${halt.reason}`,
    halt: {
      id: halt.id,
      scope: halt.scope,
      target: halt.target,
      reason: halt.reason,
      by: halt.createdBy,
      since: halt.createdAt,
      incidentId: halt.incidentId,
    },
  }
}

t.test(
  "an incident's halt holds a baking release: named beside the bake, promote refused, the bake's end waits for the lift",
  async (t) => {
    const clock = new ManualClock()
    const api = await build(t, { clock })
    const topology = await createTopology(api, [
      { policy: { bakeMinutes: 60 }, scaleUnits: 1 },
      { scaleUnits: 1 },
    ])
    const pipeline = await api.tokenFor('pipeline')
    const lead = await api.tokenFor('approver', 'lead-lee')
    const sre = await api.tokenFor('sre', 'sre-sol')
    const viewer = await api.tokenFor('viewer', 'intern-ivy')
    const created = await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.0.0',
    })
    const id = created.body.id as number
    await api.settle()
    await runExecutor(api, pipeline, topology.scaleUnits[0]!)
    const bakeUntil = (await getRelease(api, id)).stages[0].bakeUntil as string
    t.equal((await getRelease(api, id)).stages[0].state, 'baking')

    const incident = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/incidents',
        token: sre,
        body: {
          service: topology.service,
          severity: 'sev2',
          title: 'checkout 500s',
          ring: topology.rings[0],
          releaseId: id,
          halt: true,
        },
      }),
      201,
    )
    const global = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/halts',
        token: viewer,
        body: { scope: 'global', reason: 'db alarms' },
      }),
      201,
    )
    const active = (await api.request({ method: 'GET', url: '/v1/halts?active=true' })).body.halts
    const incidentHalt = active.find((h: { id: number }) => h.id === incident.body.haltId)
    t.match(incidentHalt, {
      scope: 'service',
      target: topology.service,
      reason: `incident ${incident.body.id}: checkout 500s`,
      createdBy: 'sre-sol',
      incidentId: incident.body.id,
    })
    t.equal(global.body.incidentId, null, 'a halt of its own names no incident')

    const bake = {
      kind: 'bake',
      message: `baking on ${topology.rings[0]} until ${bakeUntil}`,
      until: bakeUntil,
    }
    t.strictSame(
      (await getRelease(api, id)).blockedBy,
      [bake, haltBlocker(incidentHalt), haltBlocker(global.body)],
      'the bake and every halt that holds the release, oldest halt first',
    )

    const refused = await api.request({
      method: 'POST',
      url: `/v1/releases/${id}/promote`,
      token: lead,
      body: { reason: 'looks fine to me' },
    })
    t.equal(refused.status, 409)
    t.match(refused.headers['content-type'], /^application\/problem\+json/)
    t.equal(refused.body.type, '/problems/line-halted')
    t.equal(
      refused.body.detail,
      `release ${id} cannot be promoted while the line is stopped for it: ` +
        `halt ${incidentHalt.id} (service ${topology.service}, incident ${incident.body.id}) by sre-sol: incident ${incident.body.id}: checkout 500s; lift it with DELETE /v1/halts/${incidentHalt.id}; ` +
        `halt ${global.body.id} (everywhere) by intern-ivy: db alarms; lift it with DELETE /v1/halts/${global.body.id}`,
    )
    t.strictSame(refused.body.halts, [
      haltBlocker(incidentHalt).halt,
      haltBlocker(global.body).halt,
    ])
    let view = await getRelease(api, id)
    t.equal(view.stages[0].state, 'baking', 'the refused promotion changed nothing')
    const promotions = async () =>
      (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events.filter(
        (e: { action: string; subject: string }) =>
          e.action === 'release.promoted' && e.subject.startsWith(`release:${id}:`),
      )
    t.strictSame(await promotions(), [], 'and audited no promotion')

    // The bake runs its time, but its end does not move the release into the next ring.
    clock.advanceMinutes(61)
    await api.tick()
    view = await getRelease(api, id)
    t.equal(view.stages[0].state, 'baking')
    t.equal(view.stages[1].state, 'pending')
    t.strictSame(view.stages[1].deployments, [])
    t.strictSame(view.blockedBy, [haltBlocker(incidentHalt), haltBlocker(global.body)])

    // One halt lifted: the other still holds, and is the one named.
    await expectStatus(
      api.request({ method: 'DELETE', url: `/v1/halts/${global.body.id}`, token: sre }),
      200,
    )
    await api.settle()
    view = await getRelease(api, id)
    t.equal(view.stages[0].state, 'baking')
    t.strictSame(view.blockedBy, [haltBlocker(incidentHalt)])
    const stillRefused = await api.request({
      method: 'POST',
      url: `/v1/releases/${id}/promote`,
      token: lead,
      body: { reason: 'the db is fine now' },
    })
    t.equal(stillRefused.status, 409)
    t.strictSame(stillRefused.body.halts, [haltBlocker(incidentHalt).halt])

    await expectStatus(
      api.request({ method: 'DELETE', url: `/v1/halts/${incidentHalt.id}`, token: sre }),
      200,
    )
    await api.settle()
    view = await getRelease(api, id)
    t.equal(view.stages[0].state, 'succeeded', 'lifted: the finished bake ends the stage')
    t.equal(view.stages[1].state, 'deploying')
    t.equal(view.stages[1].deployments.length, 1, 'and the next ring deploys')
  },
)

t.test('every state of a release names the halt that holds it', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const topology = await createTopology(api, [
    {
      policy: {
        preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 },
        manualPromotion: true,
      },
      scaleUnits: 1,
    },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const lead = await api.tokenFor('approver', 'lead-lee')
  const sre = await api.tokenFor('sre', 'sre-sol')
  const ring = topology.rings[0]!
  const stop = async (body: Record<string, unknown>) =>
    (await expectStatus(api.request({ method: 'POST', url: '/v1/halts', token: sre, body }), 201))
      .body
  const lift = async (halt: { id: number }) => {
    await expectStatus(
      api.request({ method: 'DELETE', url: `/v1/halts/${halt.id}`, token: sre }),
      200,
    )
    await api.settle()
  }

  // Queued: a ring halt keeps the release from entering the ring at all.
  const ringHalt = await stop({ scope: 'ring', target: ring, reason: 'ring-0 dashboards red' })
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  const id = created.body.id as number
  await api.settle()
  let view = await getRelease(api, id)
  t.equal(view.state, 'queued')
  t.equal(view.stages[0].state, 'pending')
  t.strictSame(view.blockedBy, [haltBlocker(ringHalt)], 'queued')
  await lift(ringHalt)

  // Awaiting approval: the approval and the halt; an approval given under the halt does not move it.
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'awaiting_approval')
  const serviceHalt = await stop({
    scope: 'service',
    target: topology.service,
    reason: 'bad config',
  })
  view = await getRelease(api, id)
  t.match(view.blockedBy, [{ kind: 'approval' }, haltBlocker(serviceHalt)])
  t.equal(view.blockedBy.length, 2, 'awaiting approval')
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/stages/${ring}/approvals`,
      token: lead,
      body: { decision: 'approve' },
    }),
    201,
  )
  await api.settle()
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'awaiting_approval', 'approved, still held')
  t.strictSame(view.blockedBy, [haltBlocker(serviceHalt)])
  await lift(serviceHalt)

  // Deploying: the running wave and the halt (the executor started before the line stopped).
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'deploying')
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/deployments/${view.stages[0].deployments[0].id}/start`,
      token: pipeline,
    }),
    200,
  )
  const globalHalt = await stop({ scope: 'global', reason: 'db alarms' })
  view = await getRelease(api, id)
  t.match(view.blockedBy, [{ kind: 'deployments' }, haltBlocker(globalHalt)])
  t.equal(view.blockedBy.length, 2, 'deploying')

  // Awaiting promotion: the promotion and the halt; the promotion is refused.
  await runExecutor(api, pipeline, topology.scaleUnits[0]!)
  await api.settle()
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'baking', 'the bake starts under the halt')
  clock.advanceMinutes(1)
  await api.tick()
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'baking', 'a bake of 0 minutes is over, but the stage is held')
  t.strictSame(view.blockedBy, [haltBlocker(globalHalt)], 'baked')
  await lift(globalHalt)
  view = await getRelease(api, id)
  t.equal(view.stages[0].state, 'awaiting_promotion')
  const lastHalt = await stop({ scope: 'service', target: topology.service, reason: 'again' })
  view = await getRelease(api, id)
  t.strictSame(view.blockedBy, [
    { kind: 'promotion', message: `${ring} asks for manual promotion by an approver or admin` },
    haltBlocker(lastHalt),
  ])

  // Halted by a person as well: its own halt first, then the line's; promote names both.
  const halted = await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/halt`,
      token: lead,
      body: { reason: 'customer report' },
    }),
    200,
  )
  const ownHalt = {
    kind: 'halt',
    message: 'halted by lead-lee: customer report',
    halt: {
      id: null,
      scope: 'release',
      target: String(id),
      reason: 'customer report',
      by: 'lead-lee',
      since: halted.body.halt.at,
      incidentId: null,
    },
  }
  t.strictSame(halted.body.blockedBy, [ownHalt, haltBlocker(lastHalt)], 'halted')
  const refused = await api.request({
    method: 'POST',
    url: `/v1/releases/${id}/promote`,
    token: lead,
    body: { reason: 'ship it' },
  })
  t.equal(refused.status, 409)
  t.equal(refused.body.type, '/problems/release-halted')
  t.strictSame(refused.body.halts, [ownHalt.halt, haltBlocker(lastHalt).halt])
  t.match(
    refused.body.detail,
    `release ${id} cannot be promoted while it is halted: its own halt (release ${id}) by lead-lee: customer report; resume it with POST /v1/releases/${id}/resume; halt ${lastHalt.id}`,
  )
})

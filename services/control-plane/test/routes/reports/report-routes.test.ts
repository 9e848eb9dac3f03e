import type { Clock } from '@ringmaster/domain'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../../helpers/build.js'
import { expectStatus, getRelease, runExecutor } from '../../helpers/release-fixtures.js'

// The worked example of docs/reliability-metrics.md, played through the API at the times it
// names: the report over those rows must give the numbers the document works out by hand.

/** A clock the test sets to each moment of the story. */
class StoryClock implements Clock {
  private current = Date.parse('2026-03-01T00:00:00.000Z')

  now(): Date {
    return new Date(this.current)
  }

  set(at: string): void {
    this.current = Date.parse(at)
  }
}

const march = (day: number, time: string) =>
  `2026-03-${String(day).padStart(2, '0')}T${time}:00.000Z`
const hour = 3600

interface Fleet {
  service: string
  canary: string
  world: string
  canaryUnit: string
  worldUnits: [string, string]
}

/** Canary: one scale unit of weight 1; world (the outermost ring): two of 4.5. Fleet weight 10. */
async function createFleet(api: TestApp): Promise<Fleet> {
  const fleet: Fleet = {
    service: uniqueName('checkout'),
    canary: uniqueName('canary'),
    world: uniqueName('world'),
    canaryUnit: uniqueName('canary-su'),
    worldUnits: [uniqueName('world-su'), uniqueName('world-su')],
  }
  const post = (url: string, body: unknown) =>
    expectStatus(api.request({ method: 'POST', url, body }), 201)
  await post('/v1/services', { name: fleet.service })
  await post('/v1/rings', { name: fleet.canary, order: 0 })
  await post('/v1/rings', { name: fleet.world, order: 1, policy: { maxParallel: 2 } })
  await post('/v1/scale-units', {
    name: fleet.canaryUnit,
    region: 'westeurope',
    ring: fleet.canary,
  })
  for (const name of fleet.worldUnits) {
    await post('/v1/scale-units', {
      name,
      region: 'northeurope',
      ring: fleet.world,
      trafficWeight: 4.5,
    })
  }
  return fleet
}

t.test('the worked example, through the API, gives the documented figures', async (t) => {
  const clock = new StoryClock()
  const api = await build(t, { clock })
  const fleet = await createFleet(api)
  const pipeline = await api.tokenFor('pipeline', 'checkout-ci')
  const sre = await api.tokenFor('sre', 'sam')

  /** Creates a release at `time` and runs it through both rings at that instant. */
  const ship = async (time: string, body: Record<string, unknown>) => {
    clock.set(time)
    const created = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/releases',
        token: pipeline,
        body: { service: fleet.service, ...body },
      }),
      201,
    )
    await api.settle()
    await runExecutor(api, pipeline, [fleet.canaryUnit])
    await runExecutor(api, pipeline, fleet.worldUnits)
    const release = await getRelease(api, created.body.id)
    t.equal(release.state, 'succeeded', `${body.version} went through`)
    t.equal(release.stages[1].deployedAt, time, `${body.version} reached world at ${time}`)
    return release
  }
  const incidentAction = async (time: string, id: number, action: string) => {
    clock.set(time)
    return expectStatus(
      api.request({ method: 'POST', url: `/v1/incidents/${id}/${action}`, token: sre }),
      200,
    )
  }
  const declare = async (time: string, body: Record<string, unknown>) => {
    clock.set(time)
    const { body: incident } = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/incidents',
        token: sre,
        body: { service: fleet.service, ...body },
      }),
      201,
    )
    return incident
  }

  await ship(march(2, '09:00'), { version: '1.4.0', commitTime: march(1, '12:00') })
  const one = await declare(march(2, '10:15'), {
    severity: 'sev2',
    title: 'canary errors',
    ring: fleet.canary,
    startedAt: march(2, '10:00'),
  })
  await incidentAction(march(2, '10:45'), one.id, 'mitigate')
  await incidentAction(march(2, '11:15'), one.id, 'resolve')

  const bad = await ship(march(4, '08:30'), { version: '1.5.0', commitTime: march(3, '15:00') })
  const two = await declare(march(4, '09:10'), {
    severity: 'sev1',
    title: 'checkout down',
    releaseId: bad.id,
    startedAt: march(4, '09:00'),
  })
  clock.set(march(4, '09:20'))
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${bad.id}/rollback`,
      token: sre,
      body: { reason: `incident ${two.id}` },
    }),
    200,
  )
  clock.set(march(4, '09:35'))
  await runExecutor(api, pipeline, [fleet.canaryUnit, ...fleet.worldUnits])
  t.ok(
    (await getRelease(api, bad.id)).stages
      .flatMap(
        (stage: { deployments: Array<{ kind: string; state: string }> }) => stage.deployments,
      )
      .filter((deployment: { kind: string }) => deployment.kind === 'rollback')
      .every((deployment: { state: string }) => deployment.state === 'succeeded'),
    'every rollback deployment finished at 09:35',
  )
  await incidentAction(march(4, '09:40'), two.id, 'resolve')
  const three = await declare(march(4, '09:50'), {
    severity: 'sev3',
    title: 'one region slow',
    scaleUnits: [fleet.worldUnits[0]],
    startedAt: march(4, '09:30'),
  })
  t.equal(three.ring, fleet.world)
  t.equal(three.trafficShare, 0.45)
  await incidentAction(march(4, '11:50'), three.id, 'resolve')

  await ship(march(4, '12:00'), {
    version: '1.5.1',
    commitTime: march(4, '10:00'),
    kind: 'hotfix',
    reason: 'fix the checkout outage',
    incidentId: two.id,
  })
  const risky = await ship(march(7, '20:00'), {
    version: '1.6.0',
    commitTime: march(6, '09:00'),
  })
  const four = await declare(march(7, '22:30'), {
    severity: 'sev2',
    title: 'world errors',
    ring: fleet.world,
    releaseId: risky.id,
    startedAt: march(7, '22:00'),
  })
  t.equal(four.trafficShare, 0.9)

  clock.set(march(8, '00:00'))
  const report = await expectStatus(
    api.request({
      method: 'GET',
      url: `/v1/reports/reliability?service=${fleet.service}&from=${march(1, '00:00')}&to=${march(8, '00:00')}`,
    }),
    200,
  )
  t.match(report.body, {
    service: fleet.service,
    ring: null,
    from: march(1, '00:00'),
    to: march(8, '00:00'),
    incidents: { total: 4, open: 1, resolved: 3 },
    mttr: { count: 3, meanSeconds: 70 * 60, medianSeconds: 60 * 60 },
    mtbf: { count: 2, meanSeconds: 3837.5 * 60, medianSeconds: 3837.5 * 60 },
    trafficWeightedMttr: { count: 3 },
    dora: {
      ring: fleet.world,
      deployments: 4,
      leadTimeForChanges: { count: 4, meanSeconds: 18.875 * hour, medianSeconds: 19.25 * hour },
      failedDeployments: 2,
      changeFailureRate: 0.5,
      failedDeploymentRecoveryTime: { count: 1, meanSeconds: 30 * 60, medianSeconds: 30 * 60 },
      reworkDeployments: 1,
      deploymentReworkRate: 0.25,
    },
  })
  const close = (actual: number, expected: number, name: string) =>
    t.ok(Math.abs(actual - expected) < 1e-9, `${name}: ${actual} ≈ ${expected}`)
  close(report.body.availability, 1 - 365 / 10080, 'availability')
  close(report.body.trafficWeightedAvailability, 1 - 218.5 / 10080, 'weighted availability')
  close(report.body.trafficWeightedMttr.meanSeconds, 30 * 60, 'weighted MTTR mean')
  close(report.body.trafficWeightedMttr.medianSeconds, 30 * 60, 'weighted MTTR median')
  close(report.body.dora.deploymentFrequencyPerDay, 4 / 7, 'deployments per day')

  // The metrics export's view: one report per service, the same figures.
  const quiet = uniqueName('quiet')
  await expectStatus(
    api.request({ method: 'POST', url: '/v1/services', body: { name: quiet } }),
    201,
  )
  const perService = await api.app.reports.reliabilityForAll({
    from: march(1, '00:00'),
    to: march(8, '00:00'),
  })
  t.same(
    perService.map((entry) => entry.service),
    [fleet.service, quiet].sort(),
  )
  t.same(
    perService.find((entry) => entry.service === fleet.service),
    report.body,
  )
  t.match(
    perService.find((entry) => entry.service === quiet),
    {
      incidents: { total: 0 },
      availability: 1,
      dora: { ring: fleet.world, deployments: 0 },
    },
  )

  // The canary ring: its own incident and the fleet-wide one; deployments counted there.
  const canary = await expectStatus(
    api.request({
      method: 'GET',
      url: `/v1/reports/reliability?service=${fleet.service}&ring=${fleet.canary}&from=${march(1, '00:00')}&to=${march(8, '00:00')}`,
    }),
    200,
  )
  t.match(canary.body, {
    ring: fleet.canary,
    incidents: { total: 2, open: 0, resolved: 2 },
    mttr: { count: 2, meanSeconds: 45 * 60, medianSeconds: 45 * 60 },
    dora: { ring: fleet.canary, deployments: 4 },
  })

  // The defaults: the 30 days up to now, every service.
  const defaults = await expectStatus(
    api.request({ method: 'GET', url: '/v1/reports/reliability' }),
    200,
  )
  t.match(defaults.body, {
    service: null,
    from: '2026-02-06T00:00:00.000Z',
    to: march(8, '00:00'),
    incidents: { total: 4 },
    dora: { ring: fleet.world, deployments: 4 },
  })
})

t.test('a service with nothing to report', async (t) => {
  const api = await build(t)
  const fleet = await createFleet(api)
  const { body } = await expectStatus(
    api.request({ method: 'GET', url: `/v1/reports/reliability?service=${fleet.service}` }),
    200,
  )
  const none = { count: 0, meanSeconds: null, medianSeconds: null }
  t.same(body.incidents, { total: 0, open: 0, resolved: 0 })
  t.same(body.mttr, none)
  t.same(body.mtbf, none)
  t.equal(body.availability, 1)
  t.equal(body.trafficWeightedAvailability, 1)
  t.same(body.dora, {
    ring: fleet.world,
    deployments: 0,
    deploymentFrequencyPerDay: 0,
    leadTimeForChanges: none,
    failedDeployments: 0,
    changeFailureRate: null,
    failedDeploymentRecoveryTime: none,
    reworkDeployments: 0,
    deploymentReworkRate: null,
  })
})

t.test('report mistakes are problems; SDK tokens may not read reports', async (t) => {
  const clock = new StoryClock()
  clock.set('2026-03-08T00:00:00.000Z')
  const api = await build(t, { clock })
  const fleet = await createFleet(api)
  const cases: Array<[string, string]> = [
    ['from=2026-03-05T00:00:00Z&to=2026-03-05T00:00:00Z', 'invalid-report-window'],
    ['from=2026-03-06T00:00:00Z&to=2026-03-05T00:00:00Z', 'invalid-report-window'],
    ['from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'invalid-report-window'],
    ['to=2026-03-09T00:00:00Z', 'invalid-report-window'],
    ['service=no-such-service', 'unknown-service'],
    ['ring=no-such-ring', 'unknown-ring'],
    ['from=yesterday', 'validation-failed'],
    ['colour=red', 'validation-failed'],
  ]
  for (const [query, type] of cases) {
    const response = await api.request({ method: 'GET', url: `/v1/reports/reliability?${query}` })
    t.equal(response.status, 400, query)
    t.equal(response.body.type, `/problems/${type}`, `${query}: ${response.body.detail}`)
  }
  const client = await api.tokenFor('client', undefined, fleet.canary)
  const refused = await api.request({
    method: 'GET',
    url: '/v1/reports/reliability',
    token: client,
  })
  t.equal(refused.status, 403)
  const viewer = await api.tokenFor('viewer')
  await expectStatus(
    api.request({ method: 'GET', url: '/v1/reports/reliability', token: viewer }),
    200,
  )
})

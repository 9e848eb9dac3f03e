import { randomUUID } from 'node:crypto'
import {
  type DeploymentState,
  defaultRingPolicy,
  type NewIncident,
  type NewRelease,
  type Release,
  type RingArrival,
  type Store,
  type StoreTransaction,
} from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// The reliability report's reads of the Store contract, on the DrizzleStore: PGlite and PostgreSQL.

const run = randomUUID().slice(0, 8)
let sequence = 0
const unique = (prefix: string) => `${prefix}-${run}-${++sequence}`

const from = '2026-05-01T00:00:00.000Z'
const to = '2026-05-08T00:00:00.000Z'
/** `hours` after `from`. */
const h = (hours: number) => new Date(Date.parse(from) + hours * 3_600_000).toISOString()

type OpenStore = (t: Test) => Promise<Store>

const openDrizzle: OpenStore = async (t) => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return new DrizzleStore(connection.db)
}

t.test(`DrizzleStore on ${testDatabaseKind}`, async (t) => {
  const store = await openDrizzle(t)
  const tx = <T>(work: (tx: StoreTransaction) => Promise<T>) => store.transaction(work)
  const makeService = () =>
    tx(
      async (tx) =>
        (await tx.services.insert({ name: unique('svc'), description: '', owner: null })).name,
    )

  const newIncident = (service: string, overrides: Partial<NewIncident> = {}): NewIncident => ({
    service,
    severity: 'sev2',
    title: 'checkout errors',
    ring: null,
    scaleUnits: [],
    trafficShare: 1,
    releaseId: null,
    haltId: null,
    startedAt: h(1),
    detectedAt: h(1),
    createdBy: 'ivy',
    ...overrides,
  })
  const makeIncident = (
    service: string,
    overrides: Partial<NewIncident> = {},
    resolvedAt: string | null = null,
  ) =>
    tx(async (tx) => {
      const incident = await tx.incidents.insert(newIncident(service, overrides))
      return resolvedAt === null ? incident : tx.incidents.update(incident.id, { resolvedAt })
    })

  /** A release with a stage for each ring given, deployed there at the time given (or not). */
  const makeRelease = (
    service: string,
    stages: Array<[ring: string, deployedAt: string | null]>,
    overrides: Partial<NewRelease> = {},
  ): Promise<Release> =>
    tx(async (tx) => {
      const release = await tx.releases.insert({
        service,
        version: unique('v'),
        commit: null,
        commitTime: null,
        buildUrl: null,
        notes: '',
        kind: 'standard',
        reason: null,
        requester: 'pipeline',
        ringFrom: stages[0]![0],
        ringTo: stages.at(-1)![0],
        incidentId: null,
        createdAt: h(-30),
        ...overrides,
      })
      const created = await tx.stages.insertMany(
        stages.map(([ring], position) => ({
          releaseId: release.id,
          position,
          ring,
          ringOrder: position,
          policy: defaultRingPolicy,
          waves: [['su-a', 'su-b']],
        })),
      )
      for (const [index, [, deployedAt]] of stages.entries()) {
        if (deployedAt !== null) await tx.stages.update(created[index]!.id, { deployedAt })
      }
      return release
    })

  const rollBack = (
    release: Release,
    at: string,
    rollbacks: Array<[DeploymentState, string | null]>,
  ) =>
    tx(async (tx) => {
      const [stage] = await tx.stages.listByRelease(release.id)
      await tx.releases.update(release.id, { state: 'rolled_back', finishedAt: at })
      const created = await tx.deployments.insertMany(
        rollbacks.map((_, index) => ({
          releaseId: release.id,
          stageId: stage!.id,
          ring: stage!.ring,
          service: release.service,
          scaleUnit: `su-${index}`,
          wave: 0,
          kind: 'rollback' as const,
          version: '1.0.0',
          previousVersion: release.version,
          requestedAt: at,
        })),
      )
      for (const [index, [state, finishedAt]] of rollbacks.entries()) {
        await tx.deployments.update(created[index]!.id, { state, finishedAt })
      }
    })

  t.test('ring arrivals: window edges, rollbacks, blame and hotfixes', async (t) => {
    const service = await makeService()
    const other = await makeService()
    const world = unique('world')
    const canary = unique('canary')

    const atFrom = await makeRelease(
      service,
      [
        [canary, h(-10)],
        [world, from],
      ],
      {
        commitTime: h(-20),
      },
    )
    await makeRelease(service, [[world, to]])
    await makeRelease(service, [[world, h(-0.001)]])
    await makeRelease(service, [
      [canary, h(5)],
      [world, null],
    ])
    const rolledBack = await makeRelease(service, [[world, h(10)]])
    await rollBack(rolledBack, h(12), [
      ['rolled_back', h(12)],
      ['succeeded', h(13)],
    ])
    await makeIncident(service, { releaseId: rolledBack.id, detectedAt: h(11) }, h(14))
    await makeIncident(service, {
      releaseId: rolledBack.id,
      startedAt: h(10.5),
      detectedAt: h(10.5),
    })
    const fix = await makeIncident(service, {}, h(2))
    const hotfix = await makeRelease(service, [[world, h(20)]], {
      kind: 'hotfix',
      reason: 'fix',
      incidentId: fix.id,
    })
    await rollBack(hotfix, h(21), [
      ['succeeded', h(22)],
      ['pending', null],
    ])
    const elsewhere = await makeRelease(other, [[world, h(30)]])

    const base = {
      service,
      ring: world,
      kind: 'standard',
      fixesIncidentId: null,
      commitTime: null,
      rolledBackAt: null,
      openRollbackDeployments: 0,
      lastRollbackFinishedAt: null,
      blamingIncidents: 0,
      openBlamingIncidents: 0,
      firstBlameDetectedAt: null,
      lastBlameResolvedAt: null,
    } as const
    const expected: RingArrival[] = [
      { ...base, releaseId: atFrom.id, commitTime: h(-20), reachedAt: from },
      {
        ...base,
        releaseId: rolledBack.id,
        reachedAt: h(10),
        rolledBackAt: h(12),
        lastRollbackFinishedAt: h(13),
        blamingIncidents: 2,
        openBlamingIncidents: 1,
        firstBlameDetectedAt: h(10.5),
        lastBlameResolvedAt: h(14),
      },
      {
        ...base,
        releaseId: hotfix.id,
        kind: 'hotfix',
        fixesIncidentId: fix.id,
        reachedAt: h(20),
        rolledBackAt: h(21),
        openRollbackDeployments: 1,
        lastRollbackFinishedAt: h(22),
      },
    ]
    t.strictSame(
      await store.read.reliabilityRecords.listRingArrivals({ service, ring: world, from, to }),
      expected,
    )
    const everyService = await store.read.reliabilityRecords.listRingArrivals({
      ring: world,
      from,
      to,
    })
    t.strictSame(
      everyService.map((arrival) => arrival.releaseId),
      [atFrom.id, rolledBack.id, hotfix.id, elsewhere.id],
      'without a service, every service; oldest arrival first',
    )
    t.strictSame(
      (
        await store.read.reliabilityRecords.listRingArrivals({ service, ring: canary, from, to })
      ).map((arrival) => arrival.reachedAt),
      [h(5)],
      'another ring: its own stage times',
    )
  })

  t.test('incidents: those that may touch the window', async (t) => {
    const service = await makeService()
    const other = await makeService()
    const ring = unique('ring')
    const open = await makeIncident(service, { startedAt: h(-50), detectedAt: h(-40) })
    const resolvedAtFrom = await makeIncident(
      service,
      { startedAt: h(-5), detectedAt: h(-4) },
      from,
    )
    await makeIncident(service, { startedAt: h(-5), detectedAt: h(-4) }, h(-0.001))
    await makeIncident(service, { startedAt: to, detectedAt: to })
    const lastInstant = await makeIncident(service, {
      ring,
      scaleUnits: ['su-a'],
      trafficShare: 0.25,
      startedAt: h(167),
      detectedAt: h(168),
    })
    const elsewhere = await makeIncident(
      service,
      { ring: unique('ring'), detectedAt: h(3), startedAt: h(3) },
      h(4),
    )
    await makeIncident(other, { detectedAt: h(3), startedAt: h(3) })

    const listed = await store.read.reliabilityRecords.listIncidents({ service, from, to })
    t.strictSame(listed, [
      {
        id: open.id,
        service,
        ring: null,
        trafficShare: 1,
        startedAt: h(-50),
        detectedAt: h(-40),
        resolvedAt: null,
      },
      {
        id: resolvedAtFrom.id,
        service,
        ring: null,
        trafficShare: 1,
        startedAt: h(-5),
        detectedAt: h(-4),
        resolvedAt: from,
      },
      {
        id: elsewhere.id,
        service,
        ring: elsewhere.ring,
        trafficShare: 1,
        startedAt: h(3),
        detectedAt: h(3),
        resolvedAt: h(4),
      },
      {
        id: lastInstant.id,
        service,
        ring,
        trafficShare: 0.25,
        startedAt: h(167),
        detectedAt: h(168),
        resolvedAt: null,
      },
    ])
    t.strictSame(
      (await store.read.reliabilityRecords.listIncidents({ service, ring, from, to })).map(
        (incident) => incident.id,
      ),
      [open.id, resolvedAtFrom.id, lastInstant.id],
      'a ring: its own incidents and fleet-wide ones',
    )
  })
})

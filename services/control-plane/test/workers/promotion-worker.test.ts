import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseTarget } from '@ringmaster/db'
import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import { ReleaseEngine } from '@ringmaster/domain'
import t from 'tap'
import { build, type TestApp } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  getRelease,
  ManualClock,
  runExecutor,
} from '../helpers/release-fixtures.js'

/**
 * Two replicas on one database, both running their promotion timers, while executors report
 * to either of them at random. Nothing may happen twice and nothing may be skipped.
 */
t.test('two instances on one database never deploy twice or skip a step', async (t) => {
  const onPostgres = testDatabaseKind === 'postgres'
  let replicas: TestApp[]
  if (onPostgres) {
    // Its own database, so both apps see the same rows.
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    replicas = [
      await build(t, { database: database.target, engineIntervalMs: 20 }),
      await build(t, { database: database.target, engineIntervalMs: 20 }),
    ]
  } else {
    // PGlite is one process's database: the second "replica" is a second engine on the same store.
    replicas = [await build(t, { engineIntervalMs: 20 })]
  }
  const [first] = replicas as [TestApp]
  const secondEngine = onPostgres ? undefined : new ReleaseEngine(first.app.store)

  const topology = await createTopology(first, [
    { policy: { maxParallel: 3 }, scaleUnits: 6, pairs: [0, 2] },
    { policy: { maxParallel: 4 }, scaleUnits: 10 },
  ])
  const pipeline = await first.tokenFor('pipeline')
  const created = await createRelease(first, pipeline, {
    service: topology.service,
    version: '9.9.9',
  })
  const id = created.body.id as number
  const plannedWaves = created.body.stages.map(
    (s: { waves: string[][] }) => s.waves.length,
  ) as number[]

  const allUnits = topology.scaleUnits.flat()
  const pick = () => replicas[Math.floor(Math.random() * replicas.length)]!
  for (let round = 0; round < 200; round += 1) {
    // Tokens live in the shared database; only the first replica's bootstrap admin exists.
    const view = (
      await pick().request({ method: 'GET', url: `/v1/releases/${id}`, token: pipeline })
    ).body
    if (view.state === 'succeeded') break
    // Executors for every unit answer at once, to whichever replica.
    await Promise.all(
      allUnits.map(async (unit) => {
        const desired = await pick().request({
          method: 'GET',
          url: `/v1/scale-units/${unit}/desired`,
          token: pipeline,
        })
        await Promise.all(
          desired.body.deployments.map((d: { id: number }) =>
            pick().request({
              method: 'POST',
              url: `/v1/deployments/${d.id}/complete`,
              token: pipeline,
              body: { result: 'succeeded' },
            }),
          ),
        )
      }),
    )
    // Both engines advance the release at the same moment.
    await Promise.all([
      ...replicas.map((replica) => replica.tick()),
      ...(secondEngine ? [secondEngine.advance(id), secondEngine.tick('second-engine')] : []),
    ])
  }
  for (const replica of replicas) await replica.settle()

  const release = await getRelease(first, id)
  t.equal(release.state, 'succeeded')
  const deployments = release.stages.flatMap(
    (s: { deployments: unknown[] }) => s.deployments,
  ) as Array<{ scaleUnit: string; attempt: number; kind: string }>
  t.equal(deployments.length, allUnits.length, 'one deployment per scale unit')
  t.strictSame(
    new Set(deployments.map((d) => d.scaleUnit)).size,
    allUnits.length,
    'no scale unit twice',
  )
  t.ok(deployments.every((d) => d.attempt === 1 && d.kind === 'deploy'))

  const events = await first.request({ method: 'GET', url: '/v1/events?limit=500' })
  const mine = (
    events.body.events as Array<{
      subject: string
      action: string
      data: { wave?: number; ring?: string }
    }>
  ).filter((e) => e.subject === `release:${id}` || e.subject.startsWith(`release:${id}:`))
  const waves = mine.filter((e) => e.action === 'wave.started')
  t.equal(
    waves.length,
    plannedWaves.reduce((a, b) => a + b, 0),
    'every wave started exactly once',
  )
  for (const [position, ring] of topology.rings.entries()) {
    t.strictSame(
      waves.filter((e) => e.data.ring === ring).map((e) => e.data.wave),
      Array.from({ length: plannedWaves[position]! }, (_, index) => index + 1),
      `waves of ${ring} in order`,
    )
    for (const action of ['stage.deploying', 'stage.baking', 'stage.succeeded']) {
      t.equal(
        mine.filter((e) => e.action === action && e.data.ring === ring).length,
        1,
        `${action} once on ${ring}`,
      )
    }
  }
  t.equal(mine.filter((e) => e.action === 'release.succeeded').length, 1)
})

t.test('a restarted instance picks up a bake that ended while it was down', async (t) => {
  let database: DatabaseTarget
  if (testDatabaseKind === 'postgres') {
    const created = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => created.dispose())
    database = created.target
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-restart-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    database = { kind: 'pglite', dataDir }
  }
  const clock = new ManualClock()
  const before = await build(t, { database, clock })
  const topology = await createTopology(before, [
    { policy: { bakeMinutes: 60 }, scaleUnits: 1 },
    { scaleUnits: 1 },
  ])
  const pipeline = await before.tokenFor('pipeline')
  const created = await createRelease(before, pipeline, {
    service: topology.service,
    version: '2.0.0',
  })
  await before.settle()
  await runExecutor(before, pipeline, topology.scaleUnits[0]!)
  t.equal((await getRelease(before, created.body.id)).stages[0].state, 'baking')
  await before.app.close()

  // Nobody kicks the new instance: only what the database says brings the release forward.
  clock.advanceMinutes(61)
  const after = await build(t, { database, clock })
  await after.tick()
  const release = (
    await after.request({ method: 'GET', url: `/v1/releases/${created.body.id}`, token: pipeline })
  ).body
  t.equal(release.stages[0].state, 'succeeded')
  t.equal(release.stages[1].state, 'deploying')
  t.equal(release.stages[1].deployments.length, 1)
})

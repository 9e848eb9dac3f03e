import { type RolloutSpan, releaseRootSpanId } from '@ringmaster/domain'
import t from 'tap'
import { build, type TestApp } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  getRelease,
  ManualClock,
  recordedSpans,
  runExecutor,
} from '../helpers/release-fixtures.js'

// What a release's trace and its rollback's trace say when a release is undone: one root for the
// release, however late the rollback, and rollback deployments that name what they restore.

const at = (time: string) => `2026-11-23T${time}:00.000Z`

t.test(
  "a rollback deployment pairs the version it restores with that version's commit",
  async (t) => {
    const clock = new ManualClock(at('09:00'))
    const api = await build(t, { clock })
    const topology = await createTopology(api, [{ scaleUnits: 1 }])
    const [unit] = topology.scaleUnits[0] as [string]
    const pipeline = await api.tokenFor('pipeline')
    const sre = await api.tokenFor('sre', 'sam')
    const ship = async (version: string, commit: string) => {
      const created = await createRelease(api, pipeline, {
        service: topology.service,
        version,
        commit,
      })
      await api.settle()
      clock.advanceMinutes(5)
      await runExecutor(api, pipeline, [unit])
      await api.tick()
      await api.settle()
      return created.body
    }
    await ship('5.0.0', 'aaaa111')
    const bad = await ship('5.1.0', 'bbbb222')
    t.equal((await getRelease(api, bad.id)).state, 'succeeded')
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${bad.id}/rollback`,
        token: sre,
        body: { reason: 'bad config in 5.1.0' },
      }),
      200,
    )
    clock.advanceMinutes(5)
    await runExecutor(api, pipeline, [unit])
    const spans = await recordedSpans(api)
    const rollbackTrace = spans.filter((span) => span.traceId !== bad.traceId)
    const undo = rollbackTrace.find((span) => span.facts.deploymentKind === 'rollback')
    t.match(undo, {
      name: `rollback ${topology.rings[0]}`,
      facts: {
        scaleUnit: unit,
        version: '5.0.0',
        commit: 'aaaa111',
        previousVersion: '5.1.0',
        outcome: 'succeeded',
      },
    })
    t.match(
      rollbackTrace.find((span) => span.step === 'rollback'),
      { name: `rollback ${topology.service}`, facts: { version: '5.1.0', commit: 'bbbb222' } },
      'the rollback root names what it undoes',
    )
  },
)

t.test('a rollback to a version Ringmaster never released names no commit', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const [unit] = topology.scaleUnits[0] as [string]
  const pipeline = await api.tokenFor('pipeline')
  const sre = await api.tokenFor('sre', 'sam')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '6.0.0',
    commit: 'cccc333',
  })
  await api.settle()
  await runExecutor(api, pipeline, [unit])
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${created.body.id}/rollback`,
      token: sre,
      body: { reason: 'undo the first install' },
    }),
    200,
  )
  await runExecutor(api, pipeline, [unit])
  const undo = (await recordedSpans(api)).find(
    (span) => span.step === 'deployment' && span.facts.deploymentKind === 'rollback',
  )
  t.ok(undo, 'the rollback deployment was recorded')
  t.equal(undo!.facts.version, undefined, 'nothing ran before: the rollback removes the service')
  t.equal(undo!.facts.commit, null, 'and pairs no commit with it, least of all the undone one')
  t.equal(undo!.facts.previousVersion, '6.0.0')
})

/**
 * Takes every recorded span out of the outbox as the exporter does once the collector took them
 * (lease, then delete), so a span recorded again afterwards would be sent a second time.
 */
async function exportSpans(api: TestApp): Promise<RolloutSpan[]> {
  const spans = await recordedSpans(api)
  await api.app.store.transaction((tx) => tx.rolloutSpans.deleteMany(spans.map((s) => s.id)))
  return spans
}

t.test('rolling back a release that had succeeded sends its root once, as it ended', async (t) => {
  const clock = new ManualClock(at('09:00'))
  const api = await build(t, { clock })
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const [unit] = topology.scaleUnits[0] as [string]
  const pipeline = await api.tokenFor('pipeline')
  const sre = await api.tokenFor('sre', 'sam')
  const created = await createRelease(api, pipeline, {
    service: topology.service,
    version: '2.1.0',
    commit: 'c0ffee1',
  })
  const id = created.body.id as number
  await api.settle()
  clock.advanceMinutes(5) // 09:05
  await runExecutor(api, pipeline, [unit])
  await api.tick()
  await api.settle()
  t.equal((await getRelease(api, id)).state, 'succeeded')
  const sent = await exportSpans(api)
  const rootId = releaseRootSpanId(created.body.traceId)
  t.match(
    sent.filter((span) => span.spanId === rootId),
    [{ status: 'ok', endedAt: at('09:05'), facts: { outcome: 'succeeded' } }],
    'the root was sent when the release succeeded',
  )

  clock.advanceMinutes(55) // 10:00: the release turns out bad after all
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${id}/rollback`,
      token: sre,
      body: { reason: 'latency regression found later' },
    }),
    200,
  )
  clock.advanceMinutes(5) // 10:05
  await runExecutor(api, pipeline, [unit])
  const later = await exportSpans(api)
  t.strictSame(
    later.filter((span) => span.traceId === created.body.traceId).map((span) => span.name),
    [],
    'nothing more is recorded in the release trace: its root is not sent again',
  )
  t.match(
    later.filter((span) => span.parentSpanId === null),
    [
      {
        step: 'rollback',
        startedAt: at('10:00'),
        endedAt: at('10:05'),
        status: 'ok',
        links: [{ traceId: created.body.traceId, spanId: rootId, relation: 'repairs' }],
      },
    ],
    'the undo is the rollback trace, linked to the release it repairs',
  )
  t.equal(
    later.filter((span) => span.step === 'deployment').length,
    1,
    'with its rollback deployment',
  )
})

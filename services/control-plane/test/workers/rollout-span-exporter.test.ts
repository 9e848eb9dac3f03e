import { randomBytes } from 'node:crypto'
import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import type { NewRolloutSpan, Store } from '@ringmaster/domain'
import {
  createRolloutSpanExporter,
  type RolloutSpanExporter,
  telemetryResource,
} from '@ringmaster/telemetry'
import { type OtlpReceiver, startOtlpReceiver } from '@ringmaster/telemetry/testing'
import t, { type Test } from 'tap'
import {
  type RolloutSpanExportSettings,
  RolloutSpanExportWorker,
} from '../../src/workers/rollout-span-exporter.js'
import { build, type TestApp } from '../helpers/build.js'
import { ManualClock } from '../helpers/release-fixtures.js'

const resource = telemetryResource({ serviceVersion: '0.0.0-test', instanceId: 'test-replica' })

async function receiver(t: Test): Promise<OtlpReceiver> {
  const otlp = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  return otlp
}

function otlpExporter(t: Test, otlp: OtlpReceiver, timeoutMillis = 30_000): RolloutSpanExporter {
  const exporter = createRolloutSpanExporter({
    resource,
    settings: { kind: 'otlp', protocol: 'http/protobuf' },
    url: otlp.tracesUrl,
    timeoutMillis,
  })
  t.teardown(() => exporter.shutdown())
  return exporter
}

function workerFor(
  t: Test,
  api: TestApp,
  exporter: RolloutSpanExporter,
  settings: RolloutSpanExportSettings = {},
  store: Store = api.app.store,
): RolloutSpanExportWorker {
  const worker = new RolloutSpanExportWorker(store, exporter, api.app.log, settings)
  t.teardown(() => worker.stop())
  return worker
}

/** Sets process environment variables for one test (the app reads OTEL_* when it is built). */
function withEnv(t: Test, env: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  Object.assign(process.env, env)
  t.teardown(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

/** A release's trace: the release, one stage under it, a failed deployment under the stage. */
function releaseTrace(): NewRolloutSpan[] {
  const traceId = hex(16)
  const release = hex(8)
  const stage = hex(8)
  return [
    {
      traceId,
      spanId: release,
      parentSpanId: null,
      step: 'release',
      name: 'release checkout',
      startedAt: '2026-11-20T08:00:00.000Z',
      endedAt: '2026-11-20T09:30:00.250Z',
      status: 'error',
      errorType: 'deployment_failed',
      statusMessage: 'a deployment in ring-0 failed',
      facts: { releaseId: 77, service: 'checkout', version: '2.0.0', outcome: 'failed' },
      links: [],
    },
    {
      traceId,
      spanId: stage,
      parentSpanId: release,
      step: 'stage',
      name: 'stage ring-0',
      startedAt: '2026-11-20T08:00:01.000Z',
      endedAt: '2026-11-20T09:30:00.000Z',
      status: 'ok',
      errorType: null,
      statusMessage: null,
      facts: { releaseId: 77, ring: 'ring-0', ringOrder: 0, outcome: 'failed' },
      links: [],
    },
    {
      traceId,
      spanId: hex(8),
      parentSpanId: stage,
      step: 'deployment',
      name: 'deploy ring-0',
      startedAt: '2026-11-20T08:00:02.500Z',
      endedAt: '2026-11-20T08:12:45.125Z',
      status: 'error',
      errorType: 'deployment_failed',
      statusMessage: 'exit code 3',
      facts: {
        releaseId: 77,
        deploymentId: 901,
        scaleUnit: 'eu-1',
        region: 'westeurope',
        commit: 'c0ffee1',
        outcome: 'failed',
      },
      links: [{ traceId: hex(16), spanId: hex(8), relation: 'blames' }],
    },
  ]
}

async function insert(store: Store, spans: NewRolloutSpan[]): Promise<void> {
  await store.transaction((tx) => tx.rolloutSpans.insertMany(spans))
}

t.test('stored spans reach the collector as they are, and leave the outbox', async (t) => {
  const api = await build(t)
  const otlp = await receiver(t)
  const worker = workerFor(t, api, otlpExporter(t, otlp))
  const stored = releaseTrace()
  await insert(api.app.store, stored)
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 3)

  t.strictSame(await worker.runOnce(), { leased: 3, outcome: 'exported' })
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 0, 'exported rows are deleted')
  t.equal(otlp.requestCount('traces'), 1, 'one request for the batch')

  for (const span of stored) {
    const received = otlp.spans.filter((candidate) => candidate.spanId === span.spanId)
    t.equal(received.length, 1, `${span.name} arrived once`)
    t.match(received[0], {
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name: span.name,
      kind: 'internal',
      startTimeMs: Date.parse(span.startedAt),
      endTimeMs: Date.parse(span.endedAt),
      status: { code: span.status },
      resource: { 'service.name': 'ringmaster', 'service.instance.id': 'test-replica' },
      scope: { name: '@ringmaster/control-plane' },
    })
  }
  const deployment = otlp.spans.find((span) => span.name.startsWith('deploy '))!
  t.strictSame(deployment.links, [
    {
      traceId: stored[2]!.links[0]!.traceId,
      spanId: stored[2]!.links[0]!.spanId,
      attributes: { 'ringmaster.link.relation': 'blames' },
    },
  ])
  t.match(deployment, {
    status: { code: 'error', message: 'exit code 3' },
    attributes: {
      'error.type': 'deployment_failed',
      'ringmaster.release.id': 77,
      'cicd.pipeline.run.id': '77',
      'deployment.id': '901',
      'deployment.status': 'failed',
      'ringmaster.scale_unit': 'eu-1',
      'ringmaster.region': 'westeurope',
      'vcs.ref.head.revision': 'c0ffee1',
    },
  })
  const stage = otlp.spans.find((span) => span.name === 'stage ring-0')!
  t.match(stage.attributes, {
    'ringmaster.ring.name': 'ring-0',
    'ringmaster.ring.order': 0,
    'cicd.pipeline.task.name': 'stage ring-0',
  })
  t.equal(
    stage.attributes['deployment.environment.name'],
    undefined,
    'the environment is the resource: a span does not claim the ring as one',
  )
  t.strictSame(await worker.runOnce(), { leased: 0, outcome: 'idle' }, 'nothing is left')
})

t.test('503s from the collector are retried until the spans get through', async (t) => {
  const api = await build(t)
  const otlp = await receiver(t)
  const worker = workerFor(t, api, otlpExporter(t, otlp))
  const stored = releaseTrace()
  await insert(api.app.store, stored)
  otlp.failNext(2, { status: 503 })

  t.strictSame(await worker.runOnce(), { leased: 3, outcome: 'exported' })
  t.strictSame(
    otlp.requests.map((request) => request.status),
    [503, 503, 200],
    'the exporter retried the same batch',
  )
  t.strictSame(
    otlp.spans.map((span) => span.spanId).sort(),
    stored.map((span) => span.spanId).sort(),
  )
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 0)
})

t.test('while the collector is unreachable the spans stay, and go once it is back', async (t) => {
  const logLines: string[] = []
  const api = await build(t, {
    logging: { level: 'debug', stream: { write: (line) => void logLines.push(line) } },
  })
  const otlp = await receiver(t)
  const clock = new ManualClock(new Date().toISOString())
  const worker = workerFor(t, api, otlpExporter(t, otlp, 1_500), { clock })
  const stored = releaseTrace()
  await insert(api.app.store, stored)
  await otlp.stop()

  t.strictSame(await worker.runOnce(), { leased: 3, outcome: 'failed' })
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 3, 'nothing is lost')
  t.strictSame(await worker.runOnce(), { leased: 0, outcome: 'idle' }, 'held back by the backoff')
  clock.advanceSeconds(1)
  t.strictSame(await worker.runOnce(), { leased: 3, outcome: 'failed' }, 'retried after 1 s')
  clock.advanceSeconds(1.9)
  t.strictSame(await worker.runOnce(), { leased: 0, outcome: 'idle' }, 'the second wait is 2 s')
  clock.advanceSeconds(0.1)

  await otlp.start()
  t.strictSame(await worker.runOnce(), { leased: 3, outcome: 'exported' })
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 0)
  t.strictSame(
    otlp.spans.map((span) => span.spanId).sort(),
    stored.map((span) => span.spanId).sort(),
    'each span arrived once',
  )
  const messages = logLines.map((line) => JSON.parse(line) as { level: number; msg: string })
  t.equal(
    messages.filter((line) => line.msg === 'rollout span export failed; will retry').length,
    1,
    'one warning for the outage, not one per attempt',
  )
  t.ok(messages.some((line) => line.msg === 'rollout span export recovered'))
})

t.test('replicas exporting at once never send the same span twice', async (t) => {
  let replicas: Array<{ api: TestApp; store: Store }>
  if (testDatabaseKind === 'postgres') {
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    const first = await build(t, { database: database.target })
    const second = await build(t, { database: database.target })
    replicas = [
      { api: first, store: first.app.store },
      { api: second, store: second.app.store },
    ]
  } else {
    // PGlite is one process's database: the second replica is a second worker on the same store.
    const only = await build(t)
    replicas = [
      { api: only, store: only.app.store },
      { api: only, store: only.app.store },
    ]
  }
  const otlp = await receiver(t)
  const spans = Array.from({ length: 20 }, () => releaseTrace()).flat()
  await insert(replicas[0]!.store, spans)

  const workers = replicas.map(({ api, store }) =>
    workerFor(t, api, otlpExporter(t, otlp), { batchSize: 7 }, store),
  )
  const drain = async (worker: RolloutSpanExportWorker) => {
    let exported = 0
    for (;;) {
      const pass = await worker.runOnce()
      if (pass.outcome === 'idle') return exported
      exported += pass.leased
    }
  }
  const counts = await Promise.all(workers.map(drain))
  t.equal(counts[0]! + counts[1]!, 60, `the replicas exported ${counts.join(' + ')} spans`)
  t.equal(otlp.spans.length, 60, 'the collector got 60 spans')
  t.equal(new Set(otlp.spans.map((span) => span.spanId)).size, 60, 'all different')
  t.equal(await replicas[0]!.store.read.rolloutSpans.countPending(), 0)
})

t.test('with tracing off the spans are deleted unsent', async (t) => {
  withEnv(t, { OTEL_TRACES_EXPORTER: 'none' })
  const otlp = await receiver(t)
  withEnv(t, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })
  // The app's own worker, with the exporter it builds from the environment.
  const api = await build(t)
  await insert(api.app.store, releaseTrace())
  t.strictSame(await api.app.rolloutSpanExportWorker.runOnce(), { leased: 3, outcome: 'dropped' })
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 0, 'the outbox does not grow')
  t.equal(otlp.requestCount(), 0, 'nothing was sent')
})

t.test("the app's worker exports on its timer, to OTEL_EXPORTER_OTLP_ENDPOINT", async (t) => {
  const otlp = await receiver(t)
  withEnv(t, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })
  const api = await build(t, { spanExportIntervalMs: 50 })
  const stored = releaseTrace()
  await insert(api.app.store, stored)
  await otlp.waitForSpans((span) => span.traceId === stored[0]!.traceId, 60_000, 3)
  await api.app.rolloutSpanExportWorker.settle()
  t.equal(await api.app.store.read.rolloutSpans.countPending(), 0)
  t.equal(otlp.spans[0]!.resource['service.name'], 'ringmaster')
})

t.test('closing the app exports what is due one last time', async (t) => {
  const otlp = await receiver(t)
  withEnv(t, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })
  // The timer is running but will not fire before the close.
  const api = await build(t, { spanExportIntervalMs: 60_000 })
  const stored = releaseTrace()
  await insert(api.app.store, stored)
  t.equal(otlp.requestCount(), 0)
  await api.app.close()
  t.strictSame(
    otlp.spans.map((span) => span.spanId).sort(),
    stored.map((span) => span.spanId).sort(),
  )
})

import { releaseRootSpanId } from '@ringmaster/domain'
import { type ReceivedSpan, startOtlpReceiver } from '@ringmaster/telemetry/testing'
import t from 'tap'
import { type RunningServer, startServer } from './helpers/server-process.js'

// End to end: the real server exports a rollout to a real OTLP/HTTP receiver, and a restart in the
// middle of the rollout changes nothing about the trace: same trace id, parents that resolve.

/** What an executor does: finish every open deployment on the scale unit. */
async function deployOn(server: RunningServer, scaleUnit: string): Promise<number> {
  const desired = await server.call('GET', `/v1/scale-units/${scaleUnit}/desired`)
  for (const deployment of desired.deployments as Array<{ id: number }>) {
    await server.call('POST', `/v1/deployments/${deployment.id}/complete`, {
      result: 'succeeded',
    })
  }
  return desired.deployments.length
}

async function eventually<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const value = await probe()
    if (value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('a rollout is one trace across a restart of the control plane', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'ringmaster-e2e',
    RINGMASTER_ENGINE_INTERVAL_MS: '100',
    RINGMASTER_SPAN_EXPORT_INTERVAL_MS: '100',
  }
  const first = await startServer(t, env)

  const service = 'checkout'
  await first.call('POST', '/v1/services', { name: service })
  for (const [order, ring] of ['ring-0', 'ring-1'].entries()) {
    await first.call('POST', '/v1/rings', { name: ring, order })
    await first.call('POST', '/v1/scale-units', {
      name: `${ring}-su`,
      region: order === 0 ? 'westus2' : 'northeurope',
      ring,
    })
  }
  const created = await first.call('POST', '/v1/releases', {
    service,
    version: '7.1.0',
    commit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
  })
  t.match(created.traceId, /^[0-9a-f]{32}$/)
  const inTrace = (span: ReceivedSpan) => span.traceId === created.traceId

  t.equal(
    await eventually(
      'the ring-0 deployment',
      async () => (await deployOn(first, 'ring-0-su')) || null,
    ),
    1,
  )
  // Ring 0 is done and ring 1 has started before the restart.
  const [ring0] = await receiver.waitForSpans(
    (span) => inTrace(span) && span.name === 'ring ring-0',
    30_000,
  )
  t.equal(await first.stop('SIGTERM'), 0, 'the first server shuts down cleanly')

  const second = await startServer(t, env, first.storage)
  t.teardown(() => second.stop('SIGKILL'))
  t.equal(
    await eventually(
      'the ring-1 deployment',
      async () => (await deployOn(second, 'ring-1-su')) || null,
    ),
    1,
  )
  const [root] = await receiver.waitForSpans(
    (span) => inTrace(span) && span.parentSpanId === null,
    30_000,
  )
  const release = await second.call('GET', `/v1/releases/${created.id}`)
  t.equal(release.state, 'succeeded')
  // Stop before the shared database is removed by the first server's teardown.
  await second.stop('SIGTERM')

  const spans = receiver.spans.filter(inTrace)
  t.strictSame(
    spans.map((span) => span.name).sort(),
    [
      'bake ring-0',
      'bake ring-1',
      'deploy ring-0',
      'deploy ring-1',
      `release ${service}`,
      'ring ring-0',
      'ring ring-1',
      'wave 1/1 ring-0',
      'wave 1/1 ring-1',
    ],
    'every step, once, in the one trace',
  )
  const ids = new Set(spans.map((span) => span.spanId))
  t.ok(
    spans.every((span) => span.parentSpanId === null || ids.has(span.parentSpanId)),
    'every parent is in the trace',
  )
  t.equal(root!.spanId, releaseRootSpanId(created.traceId))
  t.equal(root!.name, `release ${service}`, 'low-cardinality: the version is an attribute')
  t.equal(root!.startTimeMs, Date.parse(release.createdAt), 'the root is back-dated to creation')
  t.equal(root!.endTimeMs, Date.parse(release.finishedAt))
  t.equal(root!.status.code, 'ok')
  t.match(root!.attributes, {
    'ringmaster.release.id': created.id,
    'vcs.ref.head.revision': '9fceb02d0ae598e95dc970b74767f19372d61af8',
    'ringmaster.release.version': '7.1.0',
  })

  const ring1 = spans.find((span) => span.name === 'ring ring-1')!
  t.equal(ring0!.parentSpanId, root!.spanId)
  t.equal(ring1.parentSpanId, root!.spanId)
  t.equal(ring1.attributes['ringmaster.ring.name'], 'ring-1')
  t.equal(ring1.attributes['deployment.environment.name'], undefined, 'the ring is no environment')
  t.equal(ring0!.resource['service.name'], 'ringmaster-e2e')
  t.not(
    ring0!.resource['service.instance.id'],
    ring1.resource['service.instance.id'],
    'the two rings were exported by two processes',
  )
  const deploy1 = spans.find((span) => span.name === 'deploy ring-1')!
  t.match(deploy1.attributes, {
    'ringmaster.scale_unit': 'ring-1-su',
    'ringmaster.region': 'northeurope',
    'ringmaster.ring.name': 'ring-1',
    'cicd.pipeline.task.name': 'deploy ring-1',
    'cicd.pipeline.task.type': 'deploy',
    'cicd.pipeline.task.run.result': 'success',
  })
  t.match(deploy1.attributes['cicd.pipeline.task.run.id'], /^deployment\/\d+\/1$/)
  t.equal(
    deploy1.parentSpanId,
    spans.find((span) => span.name === 'wave 1/1 ring-1')!.spanId,
    'a deployment hangs from its wave',
  )
})

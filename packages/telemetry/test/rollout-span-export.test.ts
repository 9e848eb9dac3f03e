import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api'
import { hrTimeToMilliseconds } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { RolloutSpan } from '@ringmaster/domain'
import t, { type Test } from 'tap'
import {
  createRolloutSpanExporter,
  type RolloutSpanExporter,
  type RolloutSpanExporterOptions,
  rolloutSpanExporterSettings,
  rolloutSpanScope,
  toReadableSpan,
} from '../src/rollout-span-export.js'
import { type OtlpReceiver, startOtlpReceiver } from '../src/testing/otlp-receiver.js'

const resource = resourceFromAttributes({
  'service.name': 'ringmaster',
  'service.version': '0.1.0',
  'service.instance.id': 'instance-1',
})

let nextId = 1
function rolloutSpan(overrides: Partial<RolloutSpan> = {}): RolloutSpan {
  const id = nextId++
  return {
    id,
    attempts: 1,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: id.toString(16).padStart(16, '0'),
    parentSpanId: '00f067aa0ba902b7',
    step: 'deployment',
    name: 'deploy ring-0',
    startedAt: '2024-06-01T08:00:00.125Z',
    endedAt: '2024-06-01T08:04:30.500Z',
    status: 'ok',
    errorType: null,
    statusMessage: null,
    facts: { releaseId: 12, deploymentId: 40, scaleUnit: 'eu-1', outcome: 'succeeded' },
    links: [],
    ...overrides,
  }
}

async function receiver(t: Test): Promise<OtlpReceiver> {
  const otlp = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  return otlp
}

function exporterFor(
  t: Test,
  options: Partial<RolloutSpanExporterOptions> = {},
): RolloutSpanExporter {
  const exporter = createRolloutSpanExporter({
    resource,
    settings: { kind: 'otlp', protocol: 'http/protobuf' },
    ...options,
  })
  t.teardown(() => exporter.shutdown())
  return exporter
}

t.test('a stored span becomes a finished SDK span with its own ids and times', async (t) => {
  const stored = rolloutSpan({
    links: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), relation: 'repairs' }],
  })
  const span = toReadableSpan(stored, resource)
  t.strictSame(span.spanContext(), {
    traceId: stored.traceId,
    spanId: stored.spanId,
    traceFlags: TraceFlags.SAMPLED,
  })
  t.equal(span.parentSpanContext?.spanId, '00f067aa0ba902b7')
  t.equal(span.parentSpanContext?.traceId, stored.traceId, 'the parent is in the same trace')
  t.equal(span.kind, SpanKind.INTERNAL)
  t.equal(span.name, stored.name)
  t.equal(hrTimeToMilliseconds(span.startTime), Date.parse(stored.startedAt), 'back-dated start')
  t.equal(hrTimeToMilliseconds(span.endTime), Date.parse(stored.endedAt))
  t.equal(hrTimeToMilliseconds(span.duration), 270_375)
  t.equal(span.ended, true)
  t.equal(span.resource, resource)
  t.equal(span.instrumentationScope, rolloutSpanScope)
  t.strictSame(span.links, [
    {
      context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED },
      attributes: { 'ringmaster.link.relation': 'repairs' },
    },
  ])
  t.match(span.attributes, {
    'ringmaster.step': 'deployment',
    'deployment.id': '40',
    'ringmaster.scale_unit': 'eu-1',
    'deployment.status': 'succeeded',
  })
  t.equal(
    toReadableSpan(rolloutSpan({ parentSpanId: null }), resource).parentSpanContext,
    undefined,
  )
})

t.test('status, error.type and the status description', async (t) => {
  const cases: Array<{
    name: string
    stored: Pick<RolloutSpan, 'status' | 'errorType' | 'statusMessage'>
    status: { code: SpanStatusCode; message?: string }
    errorType: string | undefined
  }> = [
    {
      name: 'ok',
      stored: { status: 'ok', errorType: null, statusMessage: null },
      status: { code: SpanStatusCode.OK },
      errorType: undefined,
    },
    {
      name: 'unset',
      stored: { status: 'unset', errorType: null, statusMessage: null },
      status: { code: SpanStatusCode.UNSET },
      errorType: undefined,
    },
    {
      name: 'an error with its type and message',
      stored: { status: 'error', errorType: 'deployment_failed', statusMessage: 'exit code 3' },
      status: { code: SpanStatusCode.ERROR, message: 'exit code 3' },
      errorType: 'deployment_failed',
    },
    {
      name: 'an error type makes an error even if the status says otherwise',
      stored: { status: 'unset', errorType: 'rejected', statusMessage: null },
      status: { code: SpanStatusCode.ERROR },
      errorType: 'rejected',
    },
    {
      name: 'an error without a type is _OTHER',
      stored: { status: 'error', errorType: null, statusMessage: 'no idea' },
      status: { code: SpanStatusCode.ERROR, message: 'no idea' },
      errorType: '_OTHER',
    },
    {
      name: 'a description only goes with an error',
      stored: { status: 'ok', errorType: null, statusMessage: 'all good' },
      status: { code: SpanStatusCode.OK },
      errorType: undefined,
    },
  ]
  for (const { name, stored, status, errorType } of cases) {
    const span = toReadableSpan(rolloutSpan(stored), resource)
    t.strictSame(span.status, status, `${name}: status`)
    t.equal(span.attributes['error.type'], errorType, `${name}: error.type`)
  }
})

t.test('the exporter is chosen from the same OTEL_* variables as the SDK', async (t) => {
  const cases: Array<{ env: Record<string, string>; expected: object }> = [
    { env: {}, expected: { kind: 'otlp', protocol: 'http/protobuf' } },
    { env: { OTEL_TRACES_EXPORTER: 'otlp' }, expected: { kind: 'otlp' } },
    { env: { OTEL_TRACES_EXPORTER: 'console' }, expected: { kind: 'console' } },
    { env: { OTEL_TRACES_EXPORTER: 'console,otlp' }, expected: { kind: 'otlp' } },
    { env: { OTEL_TRACES_EXPORTER: 'none' }, expected: { kind: 'none' } },
    { env: { OTEL_TRACES_EXPORTER: ' None ' }, expected: { kind: 'none' } },
    { env: { OTEL_TRACES_EXPORTER: 'zipkin' }, expected: { kind: 'none' } },
    { env: { OTEL_SDK_DISABLED: 'true' }, expected: { kind: 'none' } },
    {
      env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' },
      expected: { kind: 'none' },
    },
    { env: { OTEL_SDK_DISABLED: 'false' }, expected: { kind: 'otlp' } },
    { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, expected: { protocol: 'http/json' } },
    {
      env: {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      },
      expected: { protocol: 'http/protobuf' },
    },
    { env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }, expected: { protocol: 'grpc' } },
    {
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' },
      expected: { protocol: 'http/protobuf' },
    },
  ]
  for (const { env, expected } of cases) {
    t.match(rolloutSpanExporterSettings(env), expected, JSON.stringify(env))
  }
})

t.test('spans reach the collector exactly as stored', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, {
    url: otlp.tracesUrl,
    publicUrl: 'https://ringmaster.example.com/',
  })
  const parent = rolloutSpan({
    step: 'release',
    name: 'release checkout',
    parentSpanId: null,
  })
  const child = rolloutSpan({
    parentSpanId: parent.spanId,
    status: 'error',
    errorType: 'deployment_failed',
    statusMessage: 'exit code 3',
    links: [{ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), relation: 'blames' }],
    facts: {
      releaseId: 12,
      deploymentId: 40,
      scaleUnit: 'eu-1',
      outcome: 'failed',
      taskRunId: 'deployment/40/1',
    },
  })
  t.strictSame(await exporter.export([parent, child]), { outcome: 'exported' })
  const received = await otlp.waitForSpans(() => true, 30_000, 2)
  t.equal(otlp.requestCount('traces'), 1, 'one request for the batch')
  const byId = new Map(received.map((span) => [span.spanId, span]))
  t.match(byId.get(parent.spanId), {
    traceId: parent.traceId,
    parentSpanId: null,
    name: 'release checkout',
    kind: 'internal',
    scope: { name: '@ringmaster/control-plane' },
    resource: { 'service.name': 'ringmaster', 'service.instance.id': 'instance-1' },
  })
  t.match(byId.get(child.spanId), {
    traceId: child.traceId,
    parentSpanId: parent.spanId,
    startTimeMs: Date.parse(child.startedAt),
    endTimeMs: Date.parse(child.endedAt),
    status: { code: 'error', message: 'exit code 3' },
    attributes: {
      'error.type': 'deployment_failed',
      'ringmaster.release.id': 12,
      'cicd.pipeline.run.id': '12',
      'deployment.id': '40',
      'cicd.pipeline.run.url.full': 'https://ringmaster.example.com/v1/releases/12',
      'cicd.pipeline.task.run.url.full':
        'https://ringmaster.example.com/v1/releases/12#deployment/40/1',
    },
    links: [
      {
        traceId: 'c'.repeat(32),
        spanId: 'd'.repeat(16),
        attributes: { 'ringmaster.link.relation': 'blames' },
      },
    ],
  })
})

t.test('http/json is honoured', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, {
    url: otlp.tracesUrl,
    settings: { kind: 'otlp', protocol: 'http/json' },
  })
  const span = rolloutSpan()
  t.strictSame(await exporter.export([span]), { outcome: 'exported' })
  await otlp.waitForSpans((received) => received.spanId === span.spanId)
  t.equal(otlp.requests[0]!.contentType, 'application/json')
})

t.test('the endpoint comes from OTEL_EXPORTER_OTLP_ENDPOINT when no url is given', async (t) => {
  const otlp = await receiver(t)
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = otlp.url
  t.teardown(() => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved
  })
  const exporter = createRolloutSpanExporter({
    resource,
    settings: rolloutSpanExporterSettings({}),
  })
  t.teardown(() => exporter.shutdown())
  const span = rolloutSpan()
  t.strictSame(await exporter.export([span]), { outcome: 'exported' })
  await otlp.waitForSpans((received) => received.spanId === span.spanId)
  t.equal(otlp.requests[0]!.path, '/v1/traces')
  t.equal(otlp.requests[0]!.contentType, 'application/x-protobuf', 'protobuf by default')
})

t.test('503s are retried by the OTLP exporter until the collector takes the batch', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, { url: otlp.tracesUrl, timeoutMillis: 30_000 })
  otlp.failNext(2, { status: 503 })
  const span = rolloutSpan()
  t.strictSame(await exporter.export([span]), { outcome: 'exported' })
  t.strictSame(
    otlp.requests.map((request) => request.status),
    [503, 503, 200],
  )
  t.equal(otlp.spans.length, 1)
  t.equal(otlp.spans[0]!.spanId, span.spanId)
})

t.test('a collector that keeps answering 503 is a failure, not a success', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, { url: otlp.tracesUrl, timeoutMillis: 2_500 })
  otlp.failNext(100, { status: 503 })
  const result = await exporter.export([rolloutSpan()])
  t.equal(result.outcome, 'failed')
  t.ok(otlp.requestCount('traces') >= 2, 'it was retried before giving up')
  t.equal(otlp.spans.length, 0)
})

t.test('a rejected batch (400) fails at once', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, { url: otlp.tracesUrl })
  otlp.failNext(1, { status: 400 })
  const result = await exporter.export([rolloutSpan()])
  t.equal(result.outcome, 'failed')
  t.equal(otlp.requestCount('traces'), 1, '400 is not retried')
})

t.test('an unreachable collector is a failure', async (t) => {
  const otlp = await receiver(t)
  await otlp.stop()
  const exporter = exporterFor(t, { url: otlp.tracesUrl, timeoutMillis: 1_500 })
  const result = await exporter.export([rolloutSpan()])
  t.equal(result.outcome, 'failed')
  t.match(result, { error: { message: /ECONNREFUSED/ } })
})

t.test('with tracing off, spans are dropped without a request', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, {
    url: otlp.tracesUrl,
    settings: { kind: 'none', protocol: 'http/protobuf' },
  })
  t.equal(exporter.kind, 'none')
  t.strictSame(await exporter.export([rolloutSpan()]), { outcome: 'dropped' })
  t.equal(otlp.requestCount(), 0)
})

t.test('an empty batch sends nothing', async (t) => {
  const otlp = await receiver(t)
  const exporter = exporterFor(t, { url: otlp.tracesUrl })
  t.strictSame(await exporter.export([]), { outcome: 'exported' })
  t.equal(otlp.requestCount(), 0)
})

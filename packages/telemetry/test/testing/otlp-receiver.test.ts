import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  MeterProvider,
  type MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics'
import { SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace'
import t, { type Test } from 'tap'
import { type OtlpReceiver, startOtlpReceiver } from '../../src/testing/otlp-receiver.js'

async function receiver(t: Test): Promise<OtlpReceiver> {
  const started = await startOtlpReceiver()
  t.teardown(() => started.close())
  return started
}

const resource = resourceFromAttributes({
  'service.name': 'receiver-test',
  'service.version': '9.9.9',
})

/** Ends one span with every kind of attribute, an event and a link, through `exporter`. */
async function sendOneSpan(
  t: Test,
  exporter: SpanExporter,
): Promise<{ traceId: string; spanId: string }> {
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  })
  t.teardown(() => provider.shutdown())
  const tracer = provider.getTracer('receiver-test-scope', '1.0.0')
  const parent = tracer.startSpan('parent')
  const link = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 }
  const span = tracer.startSpan(
    'child',
    {
      kind: SpanKind.SERVER,
      startTime: new Date('2024-05-01T10:00:00.250Z'),
      attributes: {
        text: 'hello',
        flag: false,
        whole: 42,
        negative: -7,
        fraction: 0.125,
        words: ['a', 'b'],
        numbers: [1, 2, 3],
      },
      links: [{ context: link, attributes: { why: 'because' } }],
    },
    trace.setSpan(context.active(), parent),
  )
  span.addEvent('something', { detail: 'x' }, new Date('2024-05-01T10:00:01.000Z'))
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke' })
  span.end(new Date('2024-05-01T10:00:02.750Z'))
  parent.end()
  await provider.forceFlush()
  return { traceId: span.spanContext().traceId, spanId: parent.spanContext().spanId }
}

const encodings: Array<{
  name: string
  contentType: string
  trace: (config: OTLPExporterNodeConfigBase) => SpanExporter
  metric: (config: OTLPExporterNodeConfigBase) => PushMetricExporter
}> = [
  {
    name: 'protobuf',
    contentType: 'application/x-protobuf',
    trace: (config) => new ProtobufTraceExporter(config),
    metric: (config) => new ProtobufMetricExporter(config),
  },
  {
    name: 'JSON',
    contentType: 'application/json',
    trace: (config) => new JsonTraceExporter(config),
    metric: (config) => new JsonMetricExporter(config),
  },
]

for (const encoding of encodings) {
  t.test(`decodes spans sent as ${encoding.name}`, async (t) => {
    const otlp = await receiver(t)
    const exporter = encoding.trace({ url: otlp.tracesUrl })
    const { traceId, spanId: parentSpanId } = await sendOneSpan(t, exporter)
    const [child] = await otlp.waitForSpans((span) => span.name === 'child')
    t.strictSame(child, {
      traceId,
      spanId: child!.spanId,
      parentSpanId,
      traceState: '',
      name: 'child',
      kind: 'server',
      startTimeUnixNano: '1714557600250000000',
      endTimeUnixNano: '1714557602750000000',
      startTimeMs: Date.parse('2024-05-01T10:00:00.250Z'),
      endTimeMs: Date.parse('2024-05-01T10:00:02.750Z'),
      attributes: {
        text: 'hello',
        flag: false,
        whole: 42,
        negative: -7,
        fraction: 0.125,
        words: ['a', 'b'],
        numbers: [1, 2, 3],
      },
      events: [
        { name: 'something', timeUnixNano: '1714557601000000000', attributes: { detail: 'x' } },
      ],
      links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { why: 'because' } }],
      status: { code: 'error', message: 'it broke' },
      resource: { 'service.name': 'receiver-test', 'service.version': '9.9.9' },
      scope: { name: 'receiver-test-scope', version: '1.0.0' },
    })
    t.match(child!.spanId, /^[0-9a-f]{16}$/)
    const [parent] = await otlp.waitForSpans((span) => span.name === 'parent')
    t.equal(parent!.parentSpanId, null, 'a root span has no parent')
    t.equal(parent!.kind, 'internal')
    t.equal(parent!.status.code, 'unset')
    t.strictSame(
      otlp.requests.map((request) => [request.signal, request.contentType, request.status]),
      [
        ['traces', encoding.contentType, 200],
        ['traces', encoding.contentType, 200],
      ],
    )
  })

  t.test(`decodes metrics sent as ${encoding.name}`, async (t) => {
    const otlp = await receiver(t)
    const reader = new PeriodicExportingMetricReader({
      exporter: encoding.metric({ url: otlp.metricsUrl }),
      exportIntervalMillis: 3_600_000,
    })
    const provider = new MeterProvider({ resource, readers: [reader as MetricReader] })
    t.teardown(() => provider.shutdown())
    const meter = provider.getMeter('metrics-scope', '2.0.0')
    meter.createCounter('requests', { unit: '{request}' }).add(3, { route: '/a' })
    meter.createHistogram('latency', { unit: 's', description: 'how long' }).record(0.5)
    meter
      .createObservableGauge('temperature', { unit: 'Cel' })
      .addCallback((result) => result.observe(21.5, { room: 'kitchen' }))
    await reader.forceFlush()
    const points = await otlp.waitForMetrics(() => true, 30_000, 3)
    t.match(
      points.find((point) => point.name === 'requests'),
      {
        type: 'sum',
        unit: '{request}',
        value: 3,
        count: null,
        attributes: { route: '/a' },
        resource: { 'service.name': 'receiver-test' },
        scope: { name: 'metrics-scope', version: '2.0.0' },
      },
    )
    t.match(
      points.find((point) => point.name === 'latency'),
      {
        type: 'histogram',
        unit: 's',
        description: 'how long',
        value: 0.5,
        count: 1,
      },
    )
    t.match(
      points.find((point) => point.name === 'temperature'),
      {
        type: 'gauge',
        unit: 'Cel',
        value: 21.5,
        attributes: { room: 'kitchen' },
      },
    )
    t.equal(otlp.requestCount('metrics'), 1)
    t.equal(otlp.requestCount('traces'), 0)
  })
}

t.test('decodes gzip-compressed requests', async (t) => {
  const otlp = await receiver(t)
  await sendOneSpan(
    t,
    new ProtobufTraceExporter({ url: otlp.tracesUrl, compression: 'gzip' as never }),
  )
  await otlp.waitForSpans((span) => span.name === 'child')
  t.equal(otlp.requests[0]!.contentEncoding, 'gzip')
})

t.test('answers 503 to the next requests it is told to fail, then accepts', async (t) => {
  const otlp = await receiver(t)
  otlp.failNext(2)
  const exporter = new ProtobufTraceExporter({ url: otlp.tracesUrl })
  await sendOneSpan(t, exporter)
  const spans = await otlp.waitForSpans(() => true, 60_000, 2)
  t.strictSame(spans.map((span) => span.name).sort(), ['child', 'parent'])
  const statuses = otlp.requests.map((request) => request.status)
  t.equal(statuses.filter((status) => status === 503).length, 2, 'two answered 503')
  t.equal(statuses.filter((status) => status === 200).length, 2, 'both exports got through')
  t.equal(otlp.requestCount('traces'), 4, 'the exporter retried the refused ones')
})

t.test('fails only the signal it is told to', async (t) => {
  const otlp = await receiver(t)
  otlp.failNext(1, { signal: 'metrics', status: 400 })
  const exporter = new ProtobufTraceExporter({ url: otlp.tracesUrl })
  await sendOneSpan(t, exporter)
  await otlp.waitForSpans(() => true, 30_000, 2)
  t.ok(
    otlp.requests.every((request) => request.status === 200),
    'trace requests are not failed',
  )
})

t.test('rejects what it cannot read', async (t) => {
  const otlp = await receiver(t)
  const garbage = await fetch(otlp.tracesUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: new Uint8Array([0x0a, 0xff, 0xff]),
  })
  t.equal(garbage.status, 400)
  const text = await fetch(otlp.tracesUrl, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'hello',
  })
  t.equal(text.status, 415)
  t.equal(otlp.spans.length, 0)
  t.equal(otlp.requestCount(), 2)
})

t.test('waitForSpans gives up after its timeout, saying what arrived', async (t) => {
  const otlp = await receiver(t)
  await sendOneSpan(t, new ProtobufTraceExporter({ url: otlp.tracesUrl }))
  await otlp.waitForSpans(() => true, 30_000, 2)
  await t.rejects(
    otlp.waitForSpans((span) => span.name === 'never', 200),
    /no 1 matching spans within 200 ms; received (child, parent|parent, child)/,
  )
})

t.test('stop makes it unreachable; start listens on the same port again', async (t) => {
  const otlp = await receiver(t)
  const port = otlp.port
  await otlp.stop()
  await t.rejects(fetch(otlp.tracesUrl, { method: 'POST' }), 'refused while stopped')
  await otlp.start()
  t.equal(otlp.port, port)
  await sendOneSpan(t, new ProtobufTraceExporter({ url: otlp.tracesUrl }))
  await otlp.waitForSpans(() => true, 30_000, 2)
})

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { metricReadersFromEnv, telemetryResource } from '../src/start-telemetry.js'
import { type OtlpReceiver, startOtlpReceiver } from '../src/testing/otlp-receiver.js'

const run = promisify(execFile)
const fixture = new URL('./fixtures/telemetry-process.ts', import.meta.url).pathname
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface FixtureOutput {
  tracing: boolean
  exporter: string
  exported: string
  resource: Record<string, unknown>
  shutdownMs: number
}

/** Runs the fixture process with only PATH and `env`; resolves with what it printed. */
async function runFixture(env: Record<string, string>) {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', fixture], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 120_000,
  })
  return {
    output: JSON.parse(stdout) as FixtureOutput,
    stdout,
    stderr,
  }
}

async function receiver(t: Test): Promise<OtlpReceiver> {
  const otlp = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  return otlp
}

function withEnv(t: Test, env: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  apply(env)
  t.teardown(() => apply(saved))
}

t.test('the resource: our defaults, then the OTEL_* variables over them', async (t) => {
  const cases: Array<{
    name: string
    env: Record<string, string | undefined>
    options?: { serviceName?: string; instanceId?: string }
    expected: Record<string, unknown>
  }> = [
    {
      name: 'defaults',
      env: { OTEL_SERVICE_NAME: undefined, OTEL_RESOURCE_ATTRIBUTES: undefined },
      expected: { 'service.name': 'ringmaster', 'service.version': '1.0.0' },
    },
    {
      name: 'a name and instance id given by the caller',
      env: { OTEL_SERVICE_NAME: undefined, OTEL_RESOURCE_ATTRIBUTES: undefined },
      options: { serviceName: 'ringmaster-worker', instanceId: 'pod-7' },
      expected: { 'service.name': 'ringmaster-worker', 'service.instance.id': 'pod-7' },
    },
    {
      name: 'OTEL_SERVICE_NAME wins over the caller',
      env: { OTEL_SERVICE_NAME: 'rm-eu', OTEL_RESOURCE_ATTRIBUTES: undefined },
      options: { serviceName: 'ringmaster-worker' },
      expected: { 'service.name': 'rm-eu' },
    },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES sets the instance id and adds attributes',
      env: {
        OTEL_SERVICE_NAME: undefined,
        OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-3,deployment.environment.name=prod',
      },
      options: { instanceId: 'pod-7' },
      expected: {
        'service.name': 'ringmaster',
        'service.instance.id': 'pod-3',
        'deployment.environment.name': 'prod',
      },
    },
    {
      name: 'OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES',
      env: {
        OTEL_SERVICE_NAME: 'from-name',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes',
      },
      expected: { 'service.name': 'from-name' },
    },
  ]
  for (const { name, env, options, expected } of cases) {
    await t.test(name, async (t) => {
      withEnv(t, env)
      const resource = telemetryResource({ serviceVersion: '1.0.0', ...options })
      t.match(resource.attributes, expected)
      t.equal(resource.attributes['telemetry.sdk.language'], 'nodejs', 'SDK attributes are kept')
    })
  }
})

t.test('each process gets its own random instance id', async (t) => {
  withEnv(t, { OTEL_RESOURCE_ATTRIBUTES: undefined })
  const first = telemetryResource({ serviceVersion: '1.0.0' }).attributes['service.instance.id']
  const second = telemetryResource({ serviceVersion: '1.0.0' }).attributes['service.instance.id']
  t.match(first, uuid)
  t.match(second, uuid)
  t.not(first, second)
})

t.test('metric readers follow OTEL_METRICS_EXPORTER', async (t) => {
  t.equal(metricReadersFromEnv({})?.length, 1, 'otlp by default')
  t.equal(metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'none' })?.length, 0)
  t.equal(metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'otlp,console' })?.length, 2)
  t.equal(
    metricReadersFromEnv({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    })?.length,
    1,
  )
  t.equal(
    metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' }),
    undefined,
    'the SDK builds it',
  )
  t.equal(
    metricReadersFromEnv({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }),
    undefined,
    'the SDK builds grpc',
  )
})

t.test(
  'a started process exports spans, metrics and rollout spans with one resource',
  async (t) => {
    const otlp = await receiver(t)
    const { output, stderr } = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })
    t.match(output, { tracing: true, exporter: 'otlp', exported: 'exported' })
    t.equal(stderr, '', 'nothing on stderr')
    const [span] = await otlp.waitForSpans((received) => received.name === 'fixture-span')
    const [rollout] = await otlp.waitForSpans(
      (received) => received.name === 'fixture-rollout-span',
    )
    const [gauge] = await otlp.waitForMetrics((point) => point.name === 'fixture.gauge')
    t.match(span!.resource, {
      'service.name': 'ringmaster',
      'service.version': '7.7.7',
      'service.instance.id': uuid,
    })
    t.equal(span!.resource['service.instance.id'], output.resource['service.instance.id'])
    t.strictSame(rollout!.resource, span!.resource, 'rollout spans share the process resource')
    t.strictSame(gauge!.resource, span!.resource, 'so do metrics')
    t.equal(gauge!.value, 42)
    t.ok(
      otlp.requests
        .filter((request) => request.signal !== 'logs')
        .every((request) => request.contentType === 'application/x-protobuf'),
      'protobuf by default',
    )
  },
)

t.test('OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the protocol are honoured', async (t) => {
  const otlp = await receiver(t)
  await runFixture({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'ringmaster-eu',
    OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=replica-2',
  })
  const [span] = await otlp.waitForSpans((received) => received.name === 'fixture-span')
  t.match(span!.resource, { 'service.name': 'ringmaster-eu', 'service.instance.id': 'replica-2' })
  const [rollout] = await otlp.waitForSpans((received) => received.name === 'fixture-rollout-span')
  t.match(rollout!.resource, {
    'service.name': 'ringmaster-eu',
    'service.instance.id': 'replica-2',
  })
  t.ok(
    otlp.requests
      .filter((request) => request.signal !== 'logs')
      .every((request) => request.contentType === 'application/json'),
    'every request is JSON',
  )
})

t.test(
  'OTEL_TRACES_EXPORTER=none: no traces, rollout spans dropped, metrics still sent',
  async (t) => {
    const otlp = await receiver(t)
    const { output } = await runFixture({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_TRACES_EXPORTER: 'none',
    })
    t.match(output, { tracing: false, exporter: 'none', exported: 'dropped' })
    await otlp.waitForMetrics((point) => point.name === 'fixture.gauge')
    t.equal(otlp.requestCount('traces'), 0)
  },
)

t.test('OTEL_SDK_DISABLED=true: nothing is sent', async (t) => {
  const otlp = await receiver(t)
  const { output } = await runFixture({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_SDK_DISABLED: 'true',
  })
  t.match(output, { tracing: false, exporter: 'none', exported: 'dropped' })
  t.equal(otlp.requestCount(), 0)
})

t.test('no collector: no crash, nothing logged, shutdown does not wait for it', async (t) => {
  const otlp = await receiver(t)
  await otlp.stop()
  const { output, stdout, stderr } = await runFixture({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    // Far longer than the test may take: only the shutdown deadline can end the wait.
    OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
    FIXTURE_ROLLOUT_SPAN: 'skip',
  })
  t.equal(output.tracing, true)
  t.equal(stdout.trim().split('\n').length, 1, 'only the fixture printed anything')
  t.equal(stderr, '')
  // The deadline is 3 s; the span processor alone would wait 30 s, the exporter 600 s.
  t.ok(output.shutdownMs < 15_000, `shutdown took ${output.shutdownMs} ms`)
})

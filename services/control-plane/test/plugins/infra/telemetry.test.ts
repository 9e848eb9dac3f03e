import { randomUUID } from 'node:crypto'
import { NotFoundError } from '@ringmaster/domain'
import { startTelemetry } from '@ringmaster/telemetry'
import { type OtlpReceiver, startOtlpReceiver } from '@ringmaster/telemetry/testing'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { serverOptions } from '../../../src/app.js'
import { errorHandlerPlugin } from '../../../src/plugins/infra/error-handler.js'
import { controlPlaneVersion, telemetryPlugin } from '../../../src/plugins/infra/telemetry.js'
import { startServer } from '../../helpers/server-process.js'

// HTTP server spans from the real server process, exported to a real OTLP receiver.

async function receiver(t: Test): Promise<OtlpReceiver> {
  const otlp = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  return otlp
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('every request is a server span named after its route, without secrets', async (t) => {
  const otlp = await receiver(t)
  const server = await startServer(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  })
  const authorization = `Bearer ${server.adminToken}`
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })

  t.equal((await fetch(`${server.url}/healthz`)).status, 200)
  const service = `svc-${randomUUID().slice(0, 8)}`
  t.equal((await call('GET', `/v1/services/${service}`)).status, 404)
  t.equal((await call('POST', '/v1/services', { name: service })).status, 201)
  t.equal((await call('GET', `/v1/services/${service}?detail=${server.adminToken}`)).status, 200)

  const lookups = await otlp.waitForSpans(
    (span) => span.name === 'GET /v1/services/:name',
    60_000,
    2,
  )
  const [created] = await otlp.waitForSpans((span) => span.name === 'POST /v1/services', 60_000)
  t.strictSame(
    lookups.map((span) => span.attributes['http.response.status_code']).sort(),
    [200, 404],
  )
  t.strictSame(
    lookups.map((span) => span.status),
    [
      { code: 'unset', message: '' },
      { code: 'unset', message: '' },
    ],
    "a 404 is the caller's mistake, not a server error",
  )
  for (const span of [...lookups, created!]) {
    t.match(span, {
      kind: 'server',
      attributes: {
        'url.path': span.name.startsWith('GET') ? `/v1/services/${service}` : '/v1/services',
      },
      resource: {
        'service.name': 'ringmaster',
        'service.version': controlPlaneVersion,
        'service.instance.id': uuid,
      },
    })
    t.equal(span.parentSpanId, null, 'a request without traceparent starts a trace')
  }
  t.match(created, {
    attributes: {
      'http.route': '/v1/services',
      'http.request.method': 'POST',
      'http.response.status_code': 201,
    },
  })
  t.equal(lookups[0]!.attributes['http.route'], '/v1/services/:name')
  t.equal(
    new Set(lookups.map((span) => span.resource['service.instance.id'])).size,
    1,
    'one instance id for the process',
  )
  t.notOk(
    otlp.spans.some((span) => span.attributes['url.path'] === '/healthz'),
    'probes are not traced',
  )

  for (const request of otlp.requests) {
    const body = request.body.toString('latin1')
    t.notOk(body.includes(server.adminToken), `no token in the ${request.signal} export`)
    t.notOk(
      body.toLowerCase().includes('bearer'),
      `no Authorization value in the ${request.signal} export`,
    )
  }
  t.notOk(
    otlp.spans.some((span) =>
      Object.keys(span.attributes).some((name) => name.toLowerCase().includes('authorization')),
    ),
    'no header attributes',
  )
  t.equal(await server.stop(), 0, 'SIGTERM still exits cleanly')
})

t.test('a caller traceparent is continued', async (t) => {
  const otlp = await receiver(t)
  const server = await startServer(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  })
  const traceId = randomUUID().replaceAll('-', '')
  const parentSpanId = '00f067aa0ba902b7'
  const response = await fetch(`${server.url}/v1/services`, {
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      traceparent: `00-${traceId}-${parentSpanId}-01`,
    },
  })
  t.equal(response.status, 200)
  const [span] = await otlp.waitForSpans((received) => received.name === 'GET /v1/services', 60_000)
  t.equal(span!.traceId, traceId)
  t.equal(span!.parentSpanId, parentSpanId)
})

t.test('with no collector the server runs, logs nothing about it, and exits cleanly', async (t) => {
  const otlp = await receiver(t)
  await otlp.stop()
  const server = await startServer(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    RINGMASTER_SPAN_EXPORT_INTERVAL_MS: '100',
  })
  for (let n = 0; n < 5; n += 1) {
    const response = await fetch(`${server.url}/v1/services`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    })
    t.equal(response.status, 200)
  }
  // Long enough for the span processor to try, and fail, to export.
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  t.equal(await server.stop(), 0, 'SIGTERM exits with 0 within close-with-grace')
  t.notMatch(server.output(), /ECONNREFUSED|OTLP|opentelemetry/i)
})

t.test(
  'a 5xx fails the request span with its exception; a 4xx leaves it unset; SDK-only routes are not traced',
  async (t) => {
    const otlp = await receiver(t)
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
    Object.assign(process.env, env)
    // The SDK in this test process; globals can be registered once, so only this test does it.
    // Its exporters read the environment when they are made, so it can be put back at once.
    const telemetry = startTelemetry({ serviceVersion: controlPlaneVersion })
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    t.teardown(() => telemetry.shutdown())
    const fastify = Fastify(serverOptions(false))
    await fastify.register(telemetryPlugin)
    await fastify.register(errorHandlerPlugin)
    fastify.get('/boom', async () => {
      throw new Error('the disk is full')
    })
    fastify.get('/things/:id', async () => {
      throw new NotFoundError('thing-not-found', 'no such thing')
    })
    // Routes only Unleash SDKs may call are polled by every SDK instance: no span for them.
    fastify.get('/sdk-only', { config: { access: ['client', 'frontend'] } }, async () => ({}))
    fastify.get('/sdk-and-admin', { config: { access: ['client', 'admin'] } }, async () => ({}))
    fastify.get('/fine', async () => ({ ok: true }))
    await fastify.ready()
    t.teardown(() => fastify.close())

    t.equal((await fastify.inject({ method: 'GET', url: '/boom' })).statusCode, 500)
    t.equal((await fastify.inject({ method: 'GET', url: '/things/7' })).statusCode, 404)
    t.equal((await fastify.inject({ method: 'GET', url: '/sdk-only' })).statusCode, 200)
    t.equal((await fastify.inject({ method: 'GET', url: '/sdk-and-admin' })).statusCode, 200)
    t.equal((await fastify.inject({ method: 'GET', url: '/fine' })).statusCode, 200)
    // Spans are exported in the order they ended, so once the last request's span is here, a span
    // for /sdk-only would be too.
    await otlp.waitForSpans((span) => span.name === 'GET /fine', 60_000)
    const spans = otlp.spans
    const byName = new Map(spans.map((span) => [span.name, span]))
    t.strictSame(
      [...byName.keys()].sort(),
      ['GET /boom', 'GET /fine', 'GET /sdk-and-admin', 'GET /things/:id'],
      'every request but the SDK-only one has a span',
    )
    t.match(byName.get('GET /boom'), {
      status: { code: 'error', message: 'the disk is full' },
      events: [{ name: 'exception', attributes: { 'exception.message': 'the disk is full' } }],
      attributes: { 'http.response.status_code': 500 },
    })
    t.match(byName.get('GET /things/:id'), {
      status: { code: 'unset', message: '' },
      events: [],
      attributes: { 'http.response.status_code': 404, 'url.path': '/things/7' },
    })
    t.match(byName.get('GET /fine'), { status: { code: 'unset' }, events: [] })
  },
)

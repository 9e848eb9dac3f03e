import t from 'tap'
import {
  type AuditEvent,
  createRingmasterClient,
  isTransientFailure,
  type RetryNotice,
  RingmasterProblem,
  RingmasterRequestError,
} from '../src/index.js'
import { parseRetryAfter } from '../src/ringmaster-errors.js'
import { createTopology, startControlPlane } from './helpers/control-plane.js'
import { startFlakyGateway } from './helpers/flaky-gateway.js'

/** A client that goes through the gateway, retrying quickly, and the notices it gave. */
function retryingClient(url: string, token: string, retries: number) {
  const notices: RetryNotice[] = []
  const client = createRingmasterClient({
    baseUrl: url,
    token,
    retry: { retries, minDelayMs: 10, maxDelayMs: 40, onRetry: (notice) => notices.push(notice) },
  })
  return { client, notices }
}

t.test('a create whose answer was lost is retried with its key and done once', async (t) => {
  const { client: admin, url, adminToken } = await startControlPlane(t)
  const { service } = await createTopology(admin)
  const gateway = await startFlakyGateway(t, url)
  const { client, notices } = retryingClient(gateway.url, adminToken, 3)

  gateway.fail('POST', '/v1/releases', 'drop-answer')
  const release = await client.post('/v1/releases', { body: { service, version: '5.0.0' } })

  const creates = gateway.requests.filter((request) => request.path === '/v1/releases')
  t.same(
    creates.map((request) => [request.outcome, request.replayed]),
    [
      ['drop-answer', undefined],
      ['forwarded', 'true'],
    ],
    'the first attempt reached the server, the second was answered from it',
  )
  t.match(creates[0]?.idempotencyKey, /^[0-9a-f-]{36}$/)
  t.equal(creates[1]?.idempotencyKey, creates[0]?.idempotencyKey, 'both attempts sent one key')
  t.equal(notices.length, 1)
  t.type(notices[0]?.error, RingmasterRequestError)
  t.equal((notices[0]!.error as RingmasterRequestError).status, undefined, 'no answer at all')
  t.match(notices[0], { attempt: 1, method: 'POST', url: `${gateway.url}/v1/releases` })

  const { releases } = await admin.get('/v1/releases', { params: { query: { service } } })
  t.same(
    releases.map((row) => [row.id, row.version]),
    [[release.id, '5.0.0']],
    'exactly one release exists, the one the retry answered with',
  )
})

t.test('without a retry policy a lost answer is thrown and nothing is sent again', async (t) => {
  const { client: admin, url, adminToken } = await startControlPlane(t)
  const { service } = await createTopology(admin)
  const gateway = await startFlakyGateway(t, url)
  const client = createRingmasterClient({ baseUrl: gateway.url, token: adminToken })

  gateway.fail('POST', '/v1/releases', 'drop-answer')
  const error = await client
    .post('/v1/releases', { body: { service, version: '5.1.0' } })
    .catch((error: unknown) => error)
  t.type(error, RingmasterRequestError)
  t.equal(gateway.requests.length, 1)
})

t.test('503s are retried until an answer comes, and given up after the last retry', async (t) => {
  const { url, adminToken } = await startControlPlane(t)
  const gateway = await startFlakyGateway(t, url)
  const { client, notices } = retryingClient(gateway.url, adminToken, 3)

  gateway.fail('GET', '/v1/services', 'unavailable', 2)
  const { services } = await client.get('/v1/services')
  t.ok(Array.isArray(services), 'the third attempt got the real answer')
  t.same(
    notices.map((notice) => [notice.attempt, (notice.error as RingmasterRequestError).status]),
    [
      [1, 503],
      [2, 503],
    ],
  )
  // Doubling from 10 ms, capped at 40 ms, each less up to half at random.
  t.ok(notices[0]!.delayMs >= 5 && notices[0]!.delayMs <= 10, `first wait ${notices[0]!.delayMs}`)
  t.ok(notices[1]!.delayMs >= 10 && notices[1]!.delayMs <= 20, `next wait ${notices[1]!.delayMs}`)

  gateway.fail('GET', '/v1/rings', 'unavailable', 4)
  const error = await client.get('/v1/rings').catch((error: unknown) => error)
  t.type(error, RingmasterRequestError, 'the last failure is thrown')
  t.equal((error as RingmasterRequestError).status, 503)
  t.same(
    gateway.requests.filter((request) => request.path === '/v1/rings').map((r) => r.outcome),
    ['unavailable', 'unavailable', 'unavailable', 'unavailable'],
    'one attempt and three retries, no more',
  )

  gateway.fail('GET', '/v1/halts', 'unavailable', 2)
  const once = await client.get('/v1/halts', { retry: false }).catch((error: unknown) => error)
  t.equal((once as RingmasterRequestError).status, 503, 'retry: false sends a call once')
  const overridden = await client.get('/v1/halts', { retry: { retries: 1, minDelayMs: 1 } })
  t.ok(Array.isArray(overridden.halts), "a call's own policy replaces the client's")
  t.same(
    gateway.requests.filter((request) => request.path === '/v1/halts').map((r) => r.outcome),
    ['unavailable', 'unavailable', 'forwarded'],
  )
})

t.test('a Retry-After is waited for, up to the longest wait of the policy', async (t) => {
  const { url, adminToken } = await startControlPlane(t)
  const gateway = await startFlakyGateway(t, url)
  const { client, notices } = retryingClient(gateway.url, adminToken, 2)

  gateway.fail('GET', '/v1/services', 'busy')
  const { services } = await client.get('/v1/services')
  t.ok(Array.isArray(services), 'the retry got the real answer')
  const [capped] = notices
  t.equal((capped!.error as RingmasterProblem).retryAfterMs, 1000, 'the error says what it asked')
  t.equal(capped!.delayMs, 40, 'a policy whose longest wait is 40 ms waits 40 ms, not 1 s')

  const patient: RetryNotice[] = []
  gateway.fail('GET', '/v1/rings', 'busy')
  const { rings } = await client.get('/v1/rings', {
    retry: { retries: 1, minDelayMs: 10, maxDelayMs: 5000, onRetry: (n) => patient.push(n) },
  })
  t.ok(Array.isArray(rings))
  t.equal(patient[0]!.delayMs, 1000, 'the 1 s asked for, not the 10 ms backoff')

  gateway.fail('GET', '/v1/halts', 'unavailable')
  const plain: RetryNotice[] = []
  await client.get('/v1/halts', {
    retry: { retries: 1, minDelayMs: 10, maxDelayMs: 5000, onRetry: (n) => plain.push(n) },
  })
  t.equal((plain[0]!.error as RingmasterRequestError).retryAfterMs, undefined)
  t.ok(plain[0]!.delayMs <= 10, 'without Retry-After, the backoff')
})

t.test('Retry-After in seconds or as a date', async (t) => {
  const now = Date.parse('2026-12-03T12:00:00Z')
  t.equal(parseRetryAfter('120', now), 120_000)
  t.equal(parseRetryAfter(' 0 ', now), 0)
  t.equal(parseRetryAfter('Thu, 03 Dec 2026 12:00:30 GMT', now), 30_000)
  t.equal(parseRetryAfter('Thu, 03 Dec 2026 11:00:00 GMT', now), 0, 'a date past is now')
  t.equal(parseRetryAfter(null, now), undefined)
  t.equal(parseRetryAfter('-5', now), undefined)
  t.equal(parseRetryAfter('1.5', now), undefined)
  t.equal(parseRetryAfter('soon', now), undefined)
})

t.test('a problem the caller caused is not retried', async (t) => {
  const { url, adminToken } = await startControlPlane(t)
  const gateway = await startFlakyGateway(t, url)
  const { client, notices } = retryingClient(gateway.url, adminToken, 3)

  const invalid = await client
    // biome-ignore lint/suspicious/noExplicitAny: sending what the spec forbids on purpose.
    .post('/v1/rings', { body: { name: 'Not A Name', order: -1 } as any })
    .catch((error: unknown) => error)
  t.type(invalid, RingmasterProblem)
  t.equal((invalid as RingmasterProblem).status, 400)
  const missing = await client
    .get('/v1/releases/{id}', { params: { path: { id: 424242 } } })
    .catch((error: unknown) => error)
  t.equal((missing as RingmasterProblem).status, 404)
  t.equal(gateway.requests.length, 2, 'each was sent once')
  t.same(notices, [])
})

t.test('a 500 is a bug, not an outage: it is not retried', async (t) => {
  let calls = 0
  const client = createRingmasterClient({
    baseUrl: 'http://ringmaster.invalid',
    token: 'x',
    retry: { retries: 3, minDelayMs: 1 },
    fetch: async () => {
      calls += 1
      return Response.json(
        {
          type: '/problems/internal',
          title: 'Internal server error',
          status: 500,
          detail: 'something broke',
          instance: '/v1/services',
          requestId: 'r1',
        },
        { status: 500, headers: { 'content-type': 'application/problem+json' } },
      )
    },
  })
  const error = await client.get('/v1/services').catch((error: unknown) => error)
  t.equal((error as RingmasterProblem).status, 500)
  t.equal(calls, 1)
})

t.test('which failures are transient', async (t) => {
  const answered = (status: number) =>
    new RingmasterRequestError('x', { method: 'GET', url: 'http://x/', status })
  const problem = (status: number) =>
    new RingmasterProblem({
      type: '/problems/x',
      title: 'x',
      status,
      detail: 'x',
      instance: '/',
      requestId: 'r',
    })
  const cases: [string, unknown, boolean][] = [
    ['no answer', new RingmasterRequestError('x', { method: 'GET', url: 'http://x/' }), true],
    ['a gateway 502', answered(502), true],
    ['a gateway 503', answered(503), true],
    ['a gateway 504', answered(504), true],
    ['a 429 page', answered(429), true],
    ['a 200 that is not JSON', answered(200), false],
    ['a 503 problem', problem(503), true],
    ['a 429 problem', problem(429), true],
    ['a 400 problem', problem(400), false],
    ['a 409 problem', problem(409), false],
    ['a 500 problem', problem(500), false],
    ['some other error', new Error('x'), false],
  ]
  for (const [what, error, transient] of cases) t.equal(isTransientFailure(error), transient, what)
})

t.test('the event stream connects through a gateway that is not ready yet', async (t) => {
  const { client: admin, url, adminToken } = await startControlPlane(t)
  const { service } = await createTopology(admin)
  const release = await admin.post('/v1/releases', { body: { service, version: '6.0.0' } })
  const gateway = await startFlakyGateway(t, url)

  gateway.fail('GET', '/v1/events/stream', 'unavailable', 2)
  const { client, notices } = retryingClient(gateway.url, adminToken, 3)
  const stop = new AbortController()
  const seen: AuditEvent[] = []
  for await (const event of client.events({
    after: 0,
    subject: `release:${release.id}`,
    signal: stop.signal,
  })) {
    seen.push(event)
    stop.abort()
  }
  t.equal(seen[0]?.action, 'release.created')
  t.same(
    notices.map((notice) => [notice.attempt, notice.method]),
    [
      [1, 'GET'],
      [2, 'GET'],
    ],
  )

  gateway.fail('GET', '/v1/events/stream', 'unavailable', 1)
  const withoutRetries = createRingmasterClient({ baseUrl: gateway.url, token: adminToken })
  const error = await (async () => {
    for await (const _event of withoutRetries.events({ after: 0 })) return undefined
  })().catch((error: unknown) => error)
  t.equal((error as RingmasterRequestError).status, 503, 'without a policy a failed connect throws')
})

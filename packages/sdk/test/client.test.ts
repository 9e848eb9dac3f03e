import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  createRingmasterClient,
  newIdempotencyKey,
  RingmasterProblem,
  RingmasterRequestError,
} from '../src/index.js'
import { createTopology, startControlPlane, uniqueName } from './helpers/control-plane.js'

t.test('creates a release and reads it back, typed, over real HTTP', async (t) => {
  const { client } = await startControlPlane(t)
  const { service, rings } = await createTopology(client)

  const created = await client.post('/v1/releases', {
    body: { service, version: '1.4.0', notes: 'from the sdk tests' },
  })
  t.equal(created.service, service)
  t.equal(created.version, '1.4.0')
  t.equal(created.kind, 'standard')

  const read = await client.get('/v1/releases/{id}', { params: { path: { id: created.id } } })
  t.equal(read.id, created.id)
  t.equal(read.notes, 'from the sdk tests')
  t.equal(read.ringFrom, rings[0])
  t.equal(read.ringTo, rings[1])

  const { data, error, response } = await client.raw.GET('/v1/releases/{id}', {
    params: { path: { id: created.id } },
  })
  t.equal(response.status, 200)
  t.equal(error, undefined)
  t.equal(data?.version, '1.4.0')

  const page = await client.get('/v1/releases', { params: { query: { service } } })
  t.same(
    page.releases.map((release) => release.id),
    [created.id],
  )

  const events = await client.get('/v1/events', { params: { query: { after: 0 } } })
  const creation = events.events.find(
    (event) => event.action === 'release.created' && event.subject === `release:${created.id}`,
  )
  t.ok(creation, 'the creation is in the audit trail')
  t.equal(creation?.actor, read.requester)
})

t.test('a retried create with the same Idempotency-Key is answered, not repeated', async (t) => {
  const { client, url, adminToken } = await startControlPlane(t)
  const { service } = await createTopology(client)
  const body = { service, version: '2.0.0' }

  const idempotencyKey = newIdempotencyKey()
  const first = await client.post('/v1/releases', { body, idempotencyKey })
  const retried = await client.post('/v1/releases', { body, idempotencyKey })
  t.equal(retried.id, first.id, 'the retry gets the first answer')

  const replay = await fetch(`${url}/v1/releases`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${adminToken}`,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify(body),
  })
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.equal(((await replay.json()) as { id: number }).id, first.id)

  const another = await client.post('/v1/releases', { body })
  t.not(another.id, first.id, 'a call without a key gets a fresh one and creates another')

  const conflict = await client
    .post('/v1/releases', { body: { ...body, version: '2.0.1' }, idempotencyKey })
    .catch((error: unknown) => error)
  t.type(conflict, RingmasterProblem, 'the same key with another body is refused')
  t.equal((conflict as RingmasterProblem).status, 409)

  const page = await client.get('/v1/releases', { params: { query: { service } } })
  t.equal(page.releases.length, 2, 'exactly two releases exist')
})

t.test('every command sends an Idempotency-Key, reads do not', async (t) => {
  const seen: Array<{ method: string; key: string | null; authorization: string | null }> = []
  const client = createRingmasterClient({
    baseUrl: 'http://ringmaster.invalid/',
    token: 'secret-token',
    fetch: async (input, init) => {
      const request = new Request(input, init)
      seen.push({
        method: request.method,
        key: request.headers.get('idempotency-key'),
        authorization: request.headers.get('authorization'),
      })
      return Response.json({ id: 1 }, { status: request.method === 'POST' ? 201 : 200 })
    },
  })
  await client.get('/v1/services')
  await client.post('/v1/services', { body: { name: 'checkout' } })
  await client.post('/v1/services', { body: { name: 'checkout' } })
  await client.post('/v1/services', { body: { name: 'checkout' }, idempotencyKey: 'step-42' })
  await client.raw.POST('/v1/services', { body: { name: 'checkout' } })
  await client.raw.POST('/v1/services', {
    body: { name: 'checkout' },
    params: { header: { 'idempotency-key': 'step-43' } },
  })

  t.equal(seen[0]?.key, null)
  const keys = seen.slice(1).map((request) => request.key)
  t.match(keys[0], /^[0-9a-f-]{36}$/)
  t.not(keys[0], keys[1], 'each call gets its own key')
  t.equal(keys[2], 'step-42')
  t.match(keys[3], /^[0-9a-f-]{36}$/, 'the raw client gets keys too')
  t.equal(keys[4], 'step-43', "a key in the spec's header parameter is kept")
  t.ok(seen.every((request) => request.authorization === 'Bearer secret-token'))
})

t.test('a 400 surfaces as a RingmasterProblem with every invalid field', async (t) => {
  const { client } = await startControlPlane(t)
  const error = await client
    .post('/v1/rings', {
      // biome-ignore lint/suspicious/noExplicitAny: sending what the spec forbids on purpose.
      body: { name: 'Not A Name', order: -1, colour: 'red' } as any,
    })
    .catch((error: unknown) => error)

  t.type(error, RingmasterProblem)
  const problem = error as RingmasterProblem
  t.equal(problem.type, '/problems/validation-failed')
  t.equal(problem.status, 400)
  t.equal(problem.title, 'Bad request')
  t.equal(problem.instance, '/v1/rings')
  t.match(problem.requestId, /.+/)
  t.ok(problem.errors?.some((field) => field.path === 'body/colour'))
  t.equal(problem.body.type, '/problems/validation-failed')
  t.match(problem.message, /validation-failed/)
})

t.test('a 404 surfaces as a RingmasterProblem', async (t) => {
  const { client } = await startControlPlane(t)
  const error = await client
    .get('/v1/releases/{id}', { params: { path: { id: 987654 } } })
    .catch((error: unknown) => error)
  t.type(error, RingmasterProblem)
  const problem = error as RingmasterProblem
  t.equal(problem.status, 404)
  t.match(problem.type, /^\/problems\//)
  t.equal(problem.instance, '/v1/releases/987654')
  t.equal(problem.errors, undefined)
})

t.test('a wrong token surfaces as a 401 RingmasterProblem', async (t) => {
  const { url } = await startControlPlane(t)
  const client = createRingmasterClient({ baseUrl: url, token: uniqueName('not-a-token') })
  const error = await client.get('/v1/services').catch((error: unknown) => error)
  t.type(error, RingmasterProblem)
  t.equal((error as RingmasterProblem).status, 401)
})

t.test('an unreachable server surfaces as a RingmasterRequestError', async (t) => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise((resolve) => closed.close(resolve))

  const client = createRingmasterClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'x' })
  const error = await client.get('/v1/services').catch((error: unknown) => error)
  t.type(error, RingmasterRequestError)
  const requestError = error as RingmasterRequestError
  t.equal(requestError.method, 'GET')
  t.equal(requestError.url, `http://127.0.0.1:${port}/v1/services`)
  t.equal(requestError.status, undefined)
  t.ok(requestError.cause, 'the network error is kept as the cause')
})

t.test('an answer that is not JSON surfaces as a RingmasterRequestError', async (t) => {
  const html = '<html><body>502 Bad Gateway</body></html>'
  for (const status of [200, 502]) {
    const client = createRingmasterClient({
      baseUrl: 'http://ringmaster.invalid',
      token: 'x',
      fetch: async () => new Response(html, { status, headers: { 'content-type': 'text/html' } }),
    })
    const error = await client.get('/v1/services').catch((error: unknown) => error)
    t.type(error, RingmasterRequestError, `status ${status}`)
    t.equal((error as RingmasterRequestError).status, status)
    t.equal((error as RingmasterRequestError).body, html)
  }
})

import t from 'tap'
import { build } from '../helpers/build.js'

t.test('a retried create with the same Idempotency-Key returns the first answer', async (t) => {
  const { request } = await build(t)
  const send = () =>
    request({
      method: 'POST',
      url: '/v1/rings',
      body: { name: 'ring-0', order: 0 },
      headers: { 'idempotency-key': 'create-ring-0' },
    })
  const first = await send()
  const retry = await send()
  t.equal(first.status, 201)
  t.equal(retry.status, 201)
  t.same(retry.body, first.body)
  t.equal(first.headers['idempotent-replayed'], undefined)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  const events = (await request({ method: 'GET', url: '/v1/events' })).body.events
  t.equal(
    events.filter((event: { action: string }) => event.action === 'ring.created').length,
    1,
    'the work was done once',
  )
})

t.test('the same key with a different body is a 409 and changes nothing', async (t) => {
  const { request } = await build(t)
  const headers = { 'idempotency-key': 'k-1' }
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 }, headers })
  const reused = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-1', order: 1 },
    headers,
  })
  t.equal(reused.status, 409)
  t.equal(reused.body.type, '/problems/idempotency-key-reused')
  t.equal((await request({ method: 'GET', url: '/v1/rings/ring-1' })).status, 404)
})

t.test('keys belong to the token that sent them', async (t) => {
  const { request, tokenFor } = await build(t)
  const other = await tokenFor('admin')
  const headers = { 'idempotency-key': 'shared-key' }
  const mine = await request({
    method: 'POST',
    url: '/v1/services',
    body: { name: 'alpha' },
    headers,
  })
  const theirs = await request({
    method: 'POST',
    url: '/v1/services',
    token: other,
    body: { name: 'beta' },
    headers,
  })
  t.equal(mine.status, 201)
  t.equal(theirs.status, 201)
  t.equal(theirs.body.name, 'beta')
})

t.test('a failed request does not use up its key', async (t) => {
  const { request } = await build(t)
  const headers = { 'idempotency-key': 'unit-1' }
  const body = { name: 'weu-1', region: 'westeurope', ring: 'ring-0' }
  const failed = await request({ method: 'POST', url: '/v1/scale-units', body, headers })
  t.equal(failed.status, 400)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const retried = await request({ method: 'POST', url: '/v1/scale-units', body, headers })
  t.equal(retried.status, 201)
  t.equal(retried.headers['idempotent-replayed'], undefined)
})

t.test('concurrent retries with one key create one thing', async (t) => {
  const { request } = await build(t)
  const attempts = await Promise.all(
    Array.from({ length: 6 }, () =>
      request({
        method: 'POST',
        url: '/v1/services',
        body: { name: 'racer' },
        headers: { 'idempotency-key': 'race' },
      }),
    ),
  )
  t.same(
    attempts.map((attempt) => attempt.status),
    [201, 201, 201, 201, 201, 201],
  )
  for (const attempt of attempts) t.same(attempt.body, attempts[0]!.body)
  t.equal(attempts.filter((attempt) => attempt.headers['idempotent-replayed'] === 'true').length, 5)
  const events = (await request({ method: 'GET', url: '/v1/events' })).body.events
  t.equal(
    events.filter((event: { action: string }) => event.action === 'service.created').length,
    1,
  )
})

t.test('a token create retried with its key does not mint a second token', async (t) => {
  const { request } = await build(t)
  const send = () =>
    request({
      method: 'POST',
      url: '/v1/tokens',
      body: { name: 'ci', role: 'pipeline', subject: 'ci' },
      headers: { 'idempotency-key': 'mint-ci' },
    })
  const first = await send()
  const retry = await send()
  t.equal(first.status, 201)
  t.equal(retry.status, 409)
  t.equal(retry.body.type, '/problems/token-already-issued')
  t.equal(retry.body.tokenId, first.body.token.id)
  t.notMatch(JSON.stringify(retry.body), first.body.secret)
  const tokens = (await request({ method: 'GET', url: '/v1/tokens' })).body.tokens
  t.equal(tokens.filter((token: { name: string }) => token.name === 'ci').length, 1)
})

t.test('an invalid Idempotency-Key is a 400', async (t) => {
  const { request } = await build(t)
  const response = await request({
    method: 'POST',
    url: '/v1/services',
    body: { name: 'x' },
    headers: { 'idempotency-key': 'has spaces in it' },
  })
  t.equal(response.status, 400)
  t.equal(response.body.errors[0].path, 'headers/idempotency-key')
})

import { createHash } from 'node:crypto'
import t from 'tap'
import { build } from '../helpers/build.js'

t.test('a token is returned once, listed without its secret, and works', async (t) => {
  const { app, request } = await build(t)
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'checkout-pipeline', role: 'pipeline', subject: 'checkout-ci' },
  })
  t.equal(created.status, 201)
  t.equal(created.headers['cache-control'], 'no-store')
  const { token, secret } = created.body
  t.match(secret, /^rm_[A-Za-z0-9_-]{43}$/)
  t.match(token, {
    name: 'checkout-pipeline',
    role: 'pipeline',
    subject: 'checkout-ci',
    prefix: secret.slice(0, 12),
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
  })

  const listed = await request({ method: 'GET', url: '/v1/tokens' })
  t.same(
    listed.body.tokens.map((listedToken: { name: string }) => listedToken.name),
    ['bootstrap-admin', 'checkout-pipeline'],
  )
  t.notMatch(JSON.stringify(listed.body), secret, 'the list never carries a secret')
  t.notMatch(JSON.stringify(listed.body), /secretHash|secret_hash/)

  const used = await request({ method: 'GET', url: '/v1/services', token: secret })
  t.equal(used.status, 200)
  const relisted = await request({ method: 'GET', url: '/v1/tokens' })
  const usedToken = relisted.body.tokens.find((entry: { id: string }) => entry.id === token.id)
  t.type(usedToken.lastUsedAt, 'string', 'last use is recorded')

  // At rest: only the SHA-256 of the secret, never the secret.
  const [stored] = await app.store.read.apiTokens.findLiveByPrefix(token.prefix)
  t.equal(stored?.secretHash, createHash('sha256').update(secret).digest('hex'))
  t.notMatch(JSON.stringify(stored), secret)
})

t.test('token creation is audited without the secret', async (t) => {
  const { request } = await build(t)
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'jane', role: 'approver', subject: 'jane@example.com' },
  })
  const events = (await request({ method: 'GET', url: '/v1/events' })).body.events
  const event = events.find(
    (entry: { subject: string }) => entry.subject === `token:${created.body.token.id}`,
  )
  t.equal(event.action, 'token.created')
  t.equal(event.data.after.subject, 'jane@example.com')
  t.notMatch(JSON.stringify(events), created.body.secret)
})

t.test('expired tokens are refused; expiry must be in the future', async (t) => {
  const { request } = await build(t)
  const past = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'old', role: 'viewer', subject: 'x', expiresAt: '2020-01-01T00:00:00Z' },
  })
  t.equal(past.status, 400)
  t.equal(past.body.type, '/problems/invalid-expiry')

  const soon = new Date(Date.now() + 1500).toISOString()
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'brief', role: 'viewer', subject: 'x', expiresAt: soon },
  })
  t.equal(created.body.token.expiresAt, soon)
  t.equal(
    (await request({ method: 'GET', url: '/v1/rings', token: created.body.secret })).status,
    200,
  )
  await new Promise((resolve) => setTimeout(resolve, 1600))
  const expired = await request({ method: 'GET', url: '/v1/rings', token: created.body.secret })
  t.equal(expired.status, 401)
  t.equal(expired.body.type, '/problems/token-expired')
})

t.test('the last admin token cannot be revoked; revoking twice is harmless', async (t) => {
  const { request, tokenFor } = await build(t)
  const tokens = (await request({ method: 'GET', url: '/v1/tokens' })).body.tokens
  const bootstrap = tokens.find((token: { name: string }) => token.name === 'bootstrap-admin')
  const refused = await request({ method: 'DELETE', url: `/v1/tokens/${bootstrap.id}` })
  t.equal(refused.status, 409)
  t.equal(refused.body.type, '/problems/last-admin-token')

  const second = await tokenFor('admin', 'ops@example.com')
  const revoked = await request({
    method: 'DELETE',
    url: `/v1/tokens/${bootstrap.id}`,
    token: second,
  })
  t.equal(revoked.status, 200)
  const again = await request({
    method: 'DELETE',
    url: `/v1/tokens/${bootstrap.id}`,
    token: second,
  })
  t.equal(again.status, 200)
  t.equal(again.body.revokedAt, revoked.body.revokedAt)
  const missing = await request({
    method: 'DELETE',
    url: '/v1/tokens/00000000-0000-4000-8000-000000000000',
    token: second,
  })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/token-not-found')
  const badId = await request({ method: 'DELETE', url: '/v1/tokens/not-a-uuid', token: second })
  t.equal(badId.status, 400)
  t.equal(badId.body.errors[0].path, 'params/id')
})

t.test('token validation', async (t) => {
  const { request } = await build(t)
  for (const [label, body, path] of [
    ['unknown role', { name: 'a', role: 'root', subject: 's' }, 'body/role'],
    ['unknown field', { name: 'a', role: 'viewer', subject: 's', scopes: [] }, 'body/scopes'],
    ['empty subject', { name: 'a', role: 'viewer', subject: '' }, 'body/subject'],
    ['subject too long', { name: 'a', role: 'viewer', subject: 's'.repeat(201) }, 'body/subject'],
    [
      'expiry not a date',
      { name: 'a', role: 'viewer', subject: 's', expiresAt: 'soon' },
      'body/expiresAt',
    ],
  ] as const) {
    const response = await request({ method: 'POST', url: '/v1/tokens', body })
    t.equal(response.status, 400, label)
    t.equal(response.body.errors[0].path, path, label)
  }
  const roleMessage = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'a', role: 'root', subject: 's' },
  })
  t.match(roleMessage.body.errors[0].message, 'must be one of "admin", "approver"')
})

t.test('secrets never reach the log', async (t) => {
  const lines: string[] = []
  const { request, adminToken } = await build(t, {
    logging: { level: 'trace', stream: { write: (line: string) => lines.push(line) } },
  })
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'ci', role: 'pipeline', subject: 'ci' },
  })
  await request({ method: 'GET', url: '/v1/rings', token: created.body.secret })
  await request({ method: 'GET', url: '/v1/rings', token: `${created.body.secret}x` })
  const log = lines.join('')
  t.ok(lines.length > 4, 'the requests were logged')
  t.notMatch(log, created.body.secret)
  t.notMatch(log, adminToken)
})

t.test('SDK tokens are bound to one ring and reach only SDK routes', async (t) => {
  const { request } = await build(t)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })

  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'checkout-server', role: 'client', subject: 'checkout', ring: 'ring-0' },
  })
  t.equal(created.status, 201)
  t.match(created.body.token, { role: 'client', ring: 'ring-0', subject: 'checkout' })

  const adminRoute = await request({
    method: 'GET',
    url: '/v1/services',
    token: created.body.secret,
  })
  t.equal(adminRoute.status, 403, 'an SDK token is authenticated, then refused by role')
  t.equal(adminRoute.body.type, '/problems/role-not-allowed')
  t.match(adminRoute.body.detail, "role 'client' may not call this route")

  const withoutRing = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'web', role: 'frontend', subject: 'web' },
  })
  t.equal(withoutRing.status, 400)
  t.equal(withoutRing.body.type, '/problems/sdk-token-needs-ring')
  t.match(withoutRing.body.detail, 'name it in "ring"')

  const unknownRing = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'web', role: 'frontend', subject: 'web', ring: 'ring-9' },
  })
  t.equal(unknownRing.status, 400)
  t.equal(unknownRing.body.type, '/problems/unknown-ring')

  const ringOnPipeline = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'ci', role: 'pipeline', subject: 'ci', ring: 'ring-0' },
  })
  t.equal(ringOnPipeline.status, 400)
  t.equal(ringOnPipeline.body.type, '/problems/ring-only-for-sdk-tokens')

  const listed = await request({ method: 'GET', url: '/v1/tokens' })
  t.same(
    listed.body.tokens.map((token: { name: string; ring: string | null }) => [
      token.name,
      token.ring,
    ]),
    [
      ['bootstrap-admin', null],
      ['checkout-server', 'ring-0'],
    ],
    'refused requests created nothing',
  )
})

t.test('a revoked SDK token stops working at once, though SDK tokens are cached', async (t) => {
  const { request } = await build(t)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'web', role: 'frontend', subject: 'web', ring: 'ring-0' },
  })
  const poll = () =>
    request({
      method: 'GET',
      url: '/api/frontend?userId=u1',
      token: null,
      // Browser SDKs send the bare token; only SDK routes accept it without "Bearer ".
      headers: { authorization: created.body.secret },
    })
  const before = await poll()
  t.equal(before.status, 200)
  t.same(before.body, { toggles: [] })
  const revoked = await request({ method: 'DELETE', url: `/v1/tokens/${created.body.token.id}` })
  t.equal(revoked.status, 200)
  const after = await poll()
  t.equal(after.status, 401)
  t.equal(after.body.type, '/problems/invalid-token')
})

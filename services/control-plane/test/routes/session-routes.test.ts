import { randomUUID } from 'node:crypto'
import { schema } from '@ringmaster/db'
import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { createRelease, createTopology, ManualClock } from '../helpers/release-fixtures.js'

// Console sign-in: POST/GET/DELETE /v1/session, the session cookie on every /v1 route, CSRF.

interface SignedIn {
  /** The Cookie header value that carries the session. */
  cookie: string
  csrfToken: string
  setCookie: string
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field.
  body: any
}

async function signIn(
  api: TestApp,
  token: string,
  headers: Record<string, string> = {},
): Promise<SignedIn> {
  const response = await api.app.inject({
    method: 'POST',
    url: '/v1/session',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ token }),
  })
  if (response.statusCode !== 201) throw new Error(`sign-in failed: ${response.body}`)
  const setCookie = String(response.headers['set-cookie'])
  return {
    cookie: setCookie.split(';')[0]!,
    csrfToken: response.json().csrfToken,
    setCookie,
    body: response.json(),
  }
}

/** A request with the session cookie and no Authorization header, as the console sends it. */
function withCookie(
  api: TestApp,
  session: { cookie: string },
  init: { method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; url: string; body?: unknown },
  headers: Record<string, string> = {},
) {
  return api.request({
    ...init,
    token: null,
    headers: { cookie: session.cookie, ...headers },
  })
}

const attributes = (setCookie: string) =>
  setCookie
    .split(';')
    .slice(1)
    .map((part) => part.trim())
    .sort()

t.test('signing in sets the session cookie and answers the session', async (t) => {
  const api = await build(t, { traceUrlTemplate: 'https://jaeger.example/trace/{traceId}' })
  const subject = uniqueName('jane')
  const token = await api.tokenFor('approver', subject)
  const session = await signIn(api, token)

  t.match(session.cookie, /^ringmaster_session=[^;]+$/)
  t.same(attributes(session.setCookie), ['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Strict'])
  t.match(session.body, {
    subject,
    role: 'approver',
    tokenName: 'approver-token',
    csrfToken: /^[A-Za-z0-9_-]{43}$/,
    console: { traceUrlTemplate: 'https://jaeger.example/trace/{traceId}' },
  })
  t.equal(
    Date.parse(session.body.expiresAt) - Date.parse(session.body.signedInAt),
    8 * 3_600_000,
    'eight hours by default, from sign-in',
  )
  t.notMatch(session.setCookie, token, 'the cookie does not carry the token')

  const current = await withCookie(api, session, { method: 'GET', url: '/v1/session' })
  t.equal(current.status, 200)
  t.same(current.body, session.body, 'GET /v1/session answers the same session')
  t.equal(current.headers['cache-control'], 'no-store')
  t.equal(current.headers['set-cookie'], undefined, 'reading does not re-issue the cookie')

  const events = (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
  const started = events.filter((e: { action: string }) => e.action === 'console-session.started')
  t.equal(started.length, 1)
  t.equal(started[0].actor, subject)
  const rows = await api.app.database.db.select().from(schema.consoleSessions)
  t.equal(rows.length, 1, 'the session is a row')
  t.match(rows[0]!.secretHash, /^[0-9a-f]{64}$/, 'holding only a hash')
})

t.test('the cookie is Secure when the request came over HTTPS', async (t) => {
  const proxied = await build(t, { trustProxy: true })
  const token = await proxied.tokenFor('viewer')
  const behindTls = await signIn(proxied, token, { 'x-forwarded-proto': 'https' })
  t.ok(attributes(behindTls.setCookie).includes('Secure'), 'a trusted proxy says https')
  const plain = await signIn(proxied, token)
  t.notOk(attributes(plain.setCookie).includes('Secure'), 'plain http')

  const direct = await build(t)
  const spoofed = await signIn(direct, await direct.tokenFor('viewer'), {
    'x-forwarded-proto': 'https',
  })
  t.notOk(
    attributes(spoofed.setCookie).includes('Secure'),
    'without RINGMASTER_TRUST_PROXY the header is not believed',
  )
})

t.test('a wrong token, an SDK token or no body is refused, and sets no cookie', async (t) => {
  const api = await build(t)
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const cases = [
    { body: { token: `rm_${randomUUID()}` }, status: 401, type: '/problems/invalid-token' },
    {
      body: { token: await api.tokenFor('frontend', undefined, 'ring-0') },
      status: 403,
      type: '/problems/role-not-allowed',
    },
    { body: {}, status: 400, type: '/problems/validation-failed' },
  ]
  for (const { body, status, type } of cases) {
    const response = await api.request({ method: 'POST', url: '/v1/session', token: null, body })
    t.equal(response.status, status, type)
    t.equal(response.body.type, type)
    t.equal(response.headers['set-cookie'], undefined)
  }
  const none = await api.request({ method: 'GET', url: '/v1/session', token: null })
  t.equal(none.status, 401)
  t.equal(none.body.type, '/problems/unauthenticated')
  const forged = await api.request({
    method: 'GET',
    url: '/v1/rings',
    token: null,
    headers: { cookie: 'ringmaster_session=bm90IHNlYWxlZA%3D%3D%3Bbm9uY2U%3D' },
  })
  t.equal(forged.status, 401, 'a cookie the server did not seal is no session')
  t.equal(forged.body.type, '/problems/missing-token')
})

t.test('the cookie reads, and writes only with the CSRF token', async (t) => {
  const api = await build(t)
  const subject = uniqueName('ann')
  const session = await signIn(api, await api.tokenFor('admin', subject))

  const read = await withCookie(api, session, { method: 'GET', url: '/v1/rings' })
  t.equal(read.status, 200)

  const ring = { name: uniqueName('ring'), order: 7 }
  const post = { method: 'POST' as const, url: '/v1/rings', body: ring }
  const missing = await withCookie(api, session, post)
  t.equal(missing.status, 403)
  t.equal(missing.body.type, '/problems/csrf-token-invalid')
  t.match(missing.body.detail, 'X-CSRF-Token')
  const wrong = await withCookie(api, session, post, { 'x-csrf-token': 'x'.repeat(43) })
  t.equal(wrong.status, 403)
  t.equal(wrong.body.type, '/problems/csrf-token-invalid')
  t.equal(
    (await api.request({ method: 'GET', url: `/v1/rings/${ring.name}` })).status,
    404,
    'nothing was written',
  )

  const done = await withCookie(api, session, post, { 'x-csrf-token': session.csrfToken })
  t.equal(done.status, 201)
  const events = (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
  const created = events.find((e: { action: string }) => e.action === 'ring.created')
  t.equal(created.actor, subject, 'the change is the token subject’s')

  const other = await signIn(api, await api.tokenFor('admin'))
  const crossed = await withCookie(
    api,
    session,
    { method: 'DELETE', url: `/v1/rings/${ring.name}` },
    { 'x-csrf-token': other.csrfToken },
  )
  t.equal(crossed.status, 403, "another session's CSRF token does not do")
})

t.test('the bearer header wins over the cookie; SDK routes ignore cookies', async (t) => {
  const api = await build(t)
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const viewer = await signIn(api, await api.tokenFor('viewer'))
  const asAdmin = await api.request({
    method: 'POST',
    url: '/v1/services',
    body: { name: uniqueName('svc') },
    headers: { cookie: viewer.cookie },
  })
  t.equal(asAdmin.status, 201, 'the admin bearer token acts, and needs no CSRF token')

  const sdk = await withCookie(api, viewer, { method: 'GET', url: '/api/client/features' })
  t.equal(sdk.status, 401)
  t.equal(sdk.body.type, '/problems/missing-token')
  const frontend = await withCookie(api, viewer, { method: 'GET', url: '/api/frontend' })
  t.equal(frontend.status, 401)
})

t.test("a viewer's cookie cannot approve or promote", async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [
    { scaleUnits: 1, policy: { preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 } } },
  ])
  const pipeline = await api.tokenFor('pipeline')
  const release = await createRelease(api, pipeline, {
    service: topology.service,
    version: '1.0.0',
  })
  const viewer = await signIn(api, await api.tokenFor('viewer'))
  const csrf = { 'x-csrf-token': viewer.csrfToken }
  const approve = await withCookie(
    api,
    viewer,
    {
      method: 'POST',
      url: `/v1/releases/${release.body.id}/stages/${topology.rings[0]}/approvals`,
      body: { decision: 'approve' },
    },
    csrf,
  )
  t.equal(approve.status, 403)
  t.notOk(approve.body.type === '/problems/csrf-token-invalid', approve.body.type)
  const promote = await withCookie(
    api,
    viewer,
    { method: 'POST', url: `/v1/releases/${release.body.id}/promote`, body: { reason: 'no' } },
    csrf,
  )
  t.equal(promote.status, 403)
  t.equal(promote.body.type, '/problems/role-not-allowed')

  const approver = await signIn(api, await api.tokenFor('approver'))
  const approved = await withCookie(
    api,
    approver,
    {
      method: 'POST',
      url: `/v1/releases/${release.body.id}/stages/${topology.rings[0]}/approvals`,
      body: { decision: 'approve' },
    },
    { 'x-csrf-token': approver.csrfToken },
  )
  t.equal(approved.status, 201, "an approver's cookie approves")
})

t.test('signing out ends the session at once', async (t) => {
  const api = await build(t)
  const session = await signIn(api, await api.tokenFor('sre'))
  const noCsrf = await withCookie(api, session, { method: 'DELETE', url: '/v1/session' })
  t.equal(noCsrf.status, 403)
  t.equal(noCsrf.body.type, '/problems/csrf-token-invalid')

  const out = await api.app.inject({
    method: 'DELETE',
    url: '/v1/session',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
  })
  t.equal(out.statusCode, 204)
  const cleared = String(out.headers['set-cookie'])
  t.match(cleared, /^ringmaster_session=;/)
  t.match(cleared, /Max-Age=0/)

  const after = await withCookie(api, session, { method: 'GET', url: '/v1/rings' })
  t.equal(after.status, 401)
  t.equal(after.body.type, '/problems/session-invalid')
  t.match(after.headers['set-cookie'], /^ringmaster_session=;/, 'the browser is told to forget it')
  const current = await withCookie(api, session, { method: 'GET', url: '/v1/session' })
  t.equal(current.status, 401)
  const events = (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
  t.ok(events.some((e: { action: string }) => e.action === 'console-session.ended'))
  const rows = await api.app.database.db.select().from(schema.consoleSessions)
  t.equal(rows.length, 0, 'the row is gone')
})

t.test('a session expires after its time to live, however much it is used', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock, sessionTtlMs: 60 * 60_000 })
  const session = await signIn(api, await api.tokenFor('viewer'))
  t.same(attributes(session.setCookie), ['HttpOnly', 'Max-Age=3600', 'Path=/', 'SameSite=Strict'])
  clock.advanceMinutes(59)
  t.equal((await withCookie(api, session, { method: 'GET', url: '/v1/rings' })).status, 200)
  clock.advanceMinutes(1)
  const expired = await withCookie(api, session, { method: 'GET', url: '/v1/rings' })
  t.equal(expired.status, 401, 'absolute: use did not extend it')
  t.equal(expired.body.type, '/problems/session-expired')
  const current = await withCookie(api, session, { method: 'GET', url: '/v1/session' })
  t.equal(current.body.type, '/problems/session-expired')
})

t.test('a session ends no later than its token', async (t) => {
  const clock = new ManualClock()
  const api = await build(t, { clock })
  const created = await api.request({
    method: 'POST',
    url: '/v1/tokens',
    body: {
      name: 'short',
      role: 'viewer',
      subject: 'sam',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
  })
  const session = await signIn(api, created.body.secret)
  t.ok(Date.parse(session.body.expiresAt) <= Date.parse(created.body.token.expiresAt))
})

t.test('revoking the token ends its sessions', async (t) => {
  const api = await build(t)
  const created = await api.request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'laptop', role: 'approver', subject: 'jane' },
  })
  const first = await signIn(api, created.body.secret)
  const second = await signIn(api, created.body.secret)
  t.equal((await withCookie(api, first, { method: 'GET', url: '/v1/rings' })).status, 200)
  const revoked = await api.request({
    method: 'DELETE',
    url: `/v1/tokens/${created.body.token.id}`,
  })
  t.equal(revoked.status, 200)
  for (const session of [first, second]) {
    const refused = await withCookie(api, session, { method: 'GET', url: '/v1/rings' })
    t.equal(refused.status, 401)
    t.equal(refused.body.type, '/problems/session-invalid')
  }
})

t.test(
  'replicas on one database share sessions, sign-outs and the cookie key',
  {
    skip:
      testDatabaseKind === 'pglite' &&
      'needs PostgreSQL: PGlite is one process, so there is no second replica on its database',
  },
  async (t) => {
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    const first = await build(t, { database: database.target })
    const second = await build(t, { database: database.target })
    const session = await signIn(first, await first.tokenFor('admin'))
    const seen = await withCookie(second, session, { method: 'GET', url: '/v1/session' })
    t.equal(seen.status, 200, 'a cookie sealed by one replica opens on the other')
    t.equal(seen.body.csrfToken, session.csrfToken)
    const write = await withCookie(
      second,
      session,
      { method: 'POST', url: '/v1/services', body: { name: uniqueName('svc') } },
      { 'x-csrf-token': session.csrfToken },
    )
    t.equal(write.status, 201)
    const out = await withCookie(
      first,
      session,
      { method: 'DELETE', url: '/v1/session' },
      { 'x-csrf-token': session.csrfToken },
    )
    t.equal(out.status, 204)
    const after = await withCookie(second, session, { method: 'GET', url: '/v1/rings' })
    t.equal(after.status, 401, 'signed out on one, refused on the other at once')
  },
)

t.test('a configured key seals the cookie; another key cannot open it', async (t) => {
  const key = `console-key-${randomUUID()}`
  const api = await build(t, { sessionKey: key })
  const session = await signIn(api, await api.tokenFor('viewer'))
  t.equal((await withCookie(api, session, { method: 'GET', url: '/v1/session' })).status, 200)
  const rows = await api.app.database.db.select().from(schema.serverSecrets)
  t.same(rows, [], 'no key was generated')
})

t.test('no token, cookie, CSRF token or key reaches the log', async (t) => {
  const lines: string[] = []
  const key = `console-key-${randomUUID()}`
  const api = await build(t, {
    sessionKey: key,
    logging: { level: 'trace', stream: { write: (line) => lines.push(line) } },
  })
  const token = await api.tokenFor('admin')
  const session = await signIn(api, token)
  await withCookie(api, session, { method: 'GET', url: '/v1/rings' })
  await withCookie(
    api,
    session,
    { method: 'POST', url: '/v1/services', body: { name: uniqueName('svc') } },
    { 'x-csrf-token': session.csrfToken },
  )
  await withCookie(
    api,
    session,
    { method: 'DELETE', url: '/v1/session' },
    { 'x-csrf-token': session.csrfToken },
  )
  const log = lines.join('')
  t.ok(lines.length > 5, `${lines.length} log lines`)
  const cookieValue = session.cookie.split('=').slice(1).join('=')
  for (const [what, secret] of [
    ['token', token],
    ['cookie', cookieValue],
    ['cookie, decoded', decodeURIComponent(cookieValue)],
    ['CSRF token', session.csrfToken],
    ['key', key],
  ] as const) {
    t.notOk(log.includes(secret), `no ${what} in the log`)
  }
})

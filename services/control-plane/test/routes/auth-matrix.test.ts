import { randomUUID } from 'node:crypto'
import { anyRole, isSdkRole, type Role, roles } from '@ringmaster/domain'
import type { RouteOptions } from 'fastify'
import t from 'tap'
import type { RouteAccess } from '../../src/plugins/infra/auth.js'
import { build } from '../helpers/build.js'

// Every route × every role, from the routes the app really registered: a new route is covered the
// moment it exists, and a route that forgets to declare its roles fails the app at start-up.

const expectedPublicRoutes = [
  // Console sign-in and sign-out read the session cookie themselves (session-routes.ts).
  'DELETE /v1/session',
  // The web console's files, and its page for every path the API does not claim.
  'GET /*',
  // The CLI bundle: the same code anyone can read, fetched by pipelines before they have a token.
  'GET /cli/ringmaster.mjs',
  'GET /healthz',
  'GET /openapi.json',
  'GET /readyz',
  'GET /v1/session',
  // CORS preflights of the browser-facing flag APIs.
  'OPTIONS /api/frontend',
  'OPTIONS /api/frontend/*',
  'OPTIONS /ofrep/*',
  'POST /v1/session',
]

t.test('every route declares who may call it', async (t) => {
  const { routes } = await build(t)
  const undeclared = routes
    .filter((route) => !route.url.startsWith('/docs'))
    .filter((route) => route.config?.access === undefined)
    .map((route) => `${route.method} ${route.url}`)
  t.same(undeclared, [])
  const publicRoutes = routes
    .filter((route) => route.config?.access === 'public' && route.method !== 'HEAD')
    .map((route) => `${route.method} ${route.url}`)
    .sort()
  t.same(publicRoutes, expectedPublicRoutes)
})

t.test('auth matrix: no token, a bad token, and every role on every protected route', async (t) => {
  const { routes, request, tokenFor } = await build(t)
  const tokens = new Map<Role, string>()
  const ring = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-0', order: 0 },
  })
  t.equal(ring.status, 201)
  for (const role of roles) {
    tokens.set(role, await tokenFor(role, undefined, isSdkRole(role) ? 'ring-0' : undefined))
  }

  const protectedRoutes = routes.filter(
    (route) => Array.isArray(route.config?.access) && route.method !== 'HEAD',
  )
  t.ok(protectedRoutes.length >= 17, `found ${protectedRoutes.length} protected routes`)

  for (const route of protectedRoutes) {
    const method = route.method as 'GET' | 'POST' | 'PATCH' | 'DELETE'
    const access = route.config!.access as Exclude<RouteAccess, 'public'>
    const url = route.url.replace(':id', randomUUID()).replace(':name', 'no-such-thing')
    const body = method === 'POST' || method === 'PATCH' ? {} : undefined
    const label = `${method} ${route.url}`
    // inject waits for a response to end and an event stream never does; a malformed
    // Last-Event-ID makes the stream's handler answer 400, after authentication and roles.
    const headers = isEventStream(route) ? { 'last-event-id': 'not-an-id' } : undefined

    const anonymous = await request({ method, url, token: null, body, headers })
    t.equal(anonymous.status, 401, `${label} without a token`)
    t.equal(anonymous.body.type, '/problems/missing-token', `${label} without a token: type`)
    t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="ringmaster"')

    const forged = await request({ method, url, token: `rm_${randomUUID()}`, body, headers })
    t.equal(forged.status, 401, `${label} with a forged token`)
    t.equal(forged.body.type, '/problems/invalid-token', `${label} with a forged token: type`)

    for (const role of roles) {
      const response = await request({ method, url, token: tokens.get(role)!, body, headers })
      if (access.includes(role)) {
        t.not(response.status, 401, `${label} as ${role} is authenticated`)
        t.not(response.status, 403, `${label} as ${role} is allowed`)
      } else {
        t.equal(response.status, 403, `${label} as ${role} is refused`)
        t.equal(response.body.type, '/problems/role-not-allowed')
        t.match(response.body.detail, `role '${role}' may not call this route`)
      }
    }
  }
})

t.test('auth matrix through the console cookie: the same roles, and CSRF on writes', async (t) => {
  const { app, routes, request, tokenFor } = await build(t)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const sessions = new Map<Role, { cookie: string; csrfToken: string }>()
  for (const role of ['admin', 'viewer'] as const) {
    const signIn = await app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ token: await tokenFor(role) }),
    })
    t.equal(signIn.statusCode, 201)
    sessions.set(role, {
      cookie: String(signIn.headers['set-cookie']).split(';')[0]!,
      csrfToken: signIn.json().csrfToken,
    })
  }
  const cookieRoutes = routes.filter(
    (route) =>
      Array.isArray(route.config?.access) &&
      route.method !== 'HEAD' &&
      !(route.config.access as readonly Role[]).some(isSdkRole),
  )
  for (const route of cookieRoutes) {
    const method = route.method as 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
    const access = route.config!.access as readonly Role[]
    const url = route.url.replace(':id', randomUUID()).replace(':name', 'no-such-thing')
    const body = method === 'POST' || method === 'PATCH' ? {} : undefined
    const label = `${method} ${route.url}`
    const headers: Record<string, string> = isEventStream(route)
      ? { 'last-event-id': 'not-an-id' }
      : {}
    for (const [role, session] of sessions) {
      const writes = method !== 'GET'
      if (writes) {
        const forged = await request({
          method,
          url,
          token: null,
          body,
          headers: { ...headers, cookie: session.cookie },
        })
        t.equal(forged.status, 403, `${label} by ${role}'s cookie without CSRF`)
        t.equal(forged.body.type, '/problems/csrf-token-invalid')
      }
      const response = await request({
        method,
        url,
        token: null,
        body,
        headers: { ...headers, cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      })
      if (access.includes(role)) {
        t.not(response.status, 401, `${label} by ${role}'s cookie is authenticated`)
        t.not(response.status, 403, `${label} by ${role}'s cookie is allowed`)
      } else {
        t.equal(response.status, 403, `${label} by ${role}'s cookie is refused`)
        t.equal(response.body.type, '/problems/role-not-allowed')
      }
    }
  }
})

function isEventStream(route: RouteOptions): boolean {
  const ok = (route.schema?.response as Record<string, { content?: object }> | undefined)?.[200]
  return ok?.content !== undefined && 'text/event-stream' in ok.content
}

// Who may call what, as the README's role table says it; an operation not listed is open to every
// control-plane role (reads, approvals the ring's policy decides, the event stream). Changing a
// route's roles means changing this table and the README together.
const expectedRoles: Record<string, readonly Role[]> = {
  // admin: everything, including tokens, topology, flags, segments, webhooks, freeze overrides
  createToken: ['admin'],
  listTokens: ['admin'],
  revokeToken: ['admin'],
  createRing: ['admin'],
  updateRing: ['admin'],
  deleteRing: ['admin'],
  createScaleUnit: ['admin'],
  updateScaleUnit: ['admin'],
  deleteScaleUnit: ['admin'],
  overrideFreeze: ['admin'],
  putFlag: ['admin'],
  archiveFlag: ['admin'],
  setFlagRingEnabled: ['admin'],
  putFlagRingStrategies: ['admin'],
  importFlags: ['admin'],
  putSegment: ['admin'],
  deleteSegment: ['admin'],
  createWebhook: ['admin'],
  disableWebhook: ['admin'],
  // pipeline: register services, create and cancel releases, executor calls
  createService: ['admin', 'pipeline'],
  createRelease: ['admin', 'pipeline'],
  cancelRelease: ['admin', 'pipeline', 'sre'],
  startDeployment: ['admin', 'pipeline', 'sre'],
  completeDeployment: ['admin', 'pipeline', 'sre'],
  reportHealth: ['admin', 'pipeline', 'sre'],
  // approver: promote
  promoteRelease: ['admin', 'approver'],
  // sre: resume, roll back, retry, lift halts, freezes, webhooks' deliveries
  resumeRelease: ['admin', 'sre'],
  rollBackRelease: ['admin', 'sre'],
  retryDeployment: ['admin', 'sre'],
  liftHalt: ['admin', 'sre'],
  createFreezeWindow: ['admin', 'sre'],
  deleteFreezeWindow: ['admin', 'sre'],
  listWebhooks: ['admin', 'sre'],
  getWebhook: ['admin', 'sre'],
  listWebhookDeliveries: ['admin', 'sre'],
  redeliverWebhookDelivery: ['admin', 'sre'],
  // Any person stops the line and declares incidents; only responders change an incident (MTTR).
  haltRelease: ['admin', 'approver', 'sre', 'viewer'],
  createHalt: ['admin', 'approver', 'sre', 'viewer'],
  createIncident: ['admin', 'approver', 'sre', 'viewer'],
  updateIncident: ['admin', 'approver', 'sre'],
  mitigateIncident: ['admin', 'approver', 'sre'],
  resolveIncident: ['admin', 'approver', 'sre'],
  // Everyone reads their own inbox: what it holds depends on the token's subject and role.
  getInbox: anyRole,
  // SDK tokens reach their own APIs only.
  getClientFeatures: ['client'],
  getClientFeaturesDelta: ['client'],
  registerClient: ['client'],
  postClientMetrics: ['client'],
  streamClientFeatures: ['client'],
  getFrontendToggles: ['frontend'],
  postFrontendToggles: ['frontend'],
  postFrontendMetrics: ['frontend'],
  registerFrontendClient: ['frontend'],
  ofrepEvaluateFlag: ['client', 'frontend'],
  ofrepEvaluateFlags: ['client', 'frontend'],
}

t.test('each route allows the roles the README names, and the OpenAPI says so', async (t) => {
  const { app, routes } = await build(t)
  const document = app.swagger() as unknown as {
    paths: Record<string, Record<string, { operationId: string; description?: string }>>
  }
  const described = new Map<string, string>()
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      described.set(operation.operationId, operation.description ?? '')
    }
  }
  const seen = new Set<string>()
  for (const route of routes) {
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId
    const access = route.config?.access
    if (operationId === undefined || !Array.isArray(access) || route.method === 'HEAD') continue
    seen.add(operationId)
    const expected = expectedRoles[operationId] ?? anyRole
    t.same([...access].sort(), [...expected].sort(), `${operationId}: roles in code`)
    t.match(
      described.get(operationId),
      new RegExp(`\\n\\nRoles: ${access.join(', ')}\\.$|^Roles: ${access.join(', ')}\\.$`),
      `${operationId}: roles in the OpenAPI document`,
    )
  }
  t.same(
    Object.keys(expectedRoles).filter((operationId) => !seen.has(operationId)),
    [],
    'every operation in the table exists',
  )
})

t.test('a viewer declares an incident but cannot change its times or text', async (t) => {
  const { request, tokenFor } = await build(t)
  const service = `svc-${randomUUID().slice(0, 8)}`
  t.equal(
    (await request({ method: 'POST', url: '/v1/services', body: { name: service } })).status,
    201,
  )
  const viewer = await tokenFor('viewer', 'vic')
  const declared = await request({
    method: 'POST',
    url: '/v1/incidents',
    token: viewer,
    body: { service, severity: 'sev3', title: 'slow checkout' },
  })
  t.equal(declared.status, 201, 'any person may declare')
  const id = declared.body.id as number
  const attempts = [
    { method: 'PATCH' as const, url: `/v1/incidents/${id}`, body: { title: 'never mind' } },
    { method: 'POST' as const, url: `/v1/incidents/${id}/mitigate`, body: {} },
    { method: 'POST' as const, url: `/v1/incidents/${id}/resolve`, body: {} },
  ]
  for (const attempt of attempts) {
    const refused = await request({ ...attempt, token: viewer })
    t.equal(refused.status, 403, `${attempt.method} ${attempt.url} as viewer`)
    t.equal(refused.body.type, '/problems/role-not-allowed')
    t.match(refused.body.detail, "role 'viewer' may not call this route")
  }
  const after = await request({ method: 'GET', url: `/v1/incidents/${id}`, token: viewer })
  t.match(after.body, { title: 'slow checkout', mitigatedAt: null, resolvedAt: null })
  const events = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body.events as {
    action: string
    subject: string
  }[]
  t.same(
    events.filter((e) => e.subject === `incident:${id}`).map((e) => e.action),
    ['incident.created'],
    'nothing but the declaration was recorded',
  )

  // A responder can: the refusal is about the role, not the incident.
  const sre = await tokenFor('sre', 'sam')
  for (const attempt of attempts) {
    const done = await request({ ...attempt, token: sre })
    t.equal(done.status, 200, `${attempt.method} ${attempt.url} as sre`)
  }
  const resolved = await request({ method: 'GET', url: `/v1/incidents/${id}`, token: viewer })
  t.equal(resolved.body.title, 'never mind')
  t.type(resolved.body.resolvedAt, 'string')
})

t.test('a revoked token stops working at once', async (t) => {
  const { request } = await build(t)
  const created = await request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'short-lived', role: 'viewer', subject: 'sam' },
  })
  const secret = created.body.secret as string
  t.equal((await request({ method: 'GET', url: '/v1/rings', token: secret })).status, 200)
  const revoked = await request({ method: 'DELETE', url: `/v1/tokens/${created.body.token.id}` })
  t.equal(revoked.status, 200)
  t.type(revoked.body.revokedAt, 'string')
  const after = await request({ method: 'GET', url: '/v1/rings', token: secret })
  t.equal(after.status, 401)
  t.equal(after.body.type, '/problems/invalid-token')
})

t.test('the Authorization header must be a bearer token', async (t) => {
  const { app, adminToken } = await build(t)
  for (const authorization of [adminToken, `Basic ${adminToken}`, 'Bearer', 'Bearer a b']) {
    const response = await app.inject({
      method: 'GET',
      url: '/v1/rings',
      headers: { authorization },
    })
    t.equal(response.statusCode, 401, `Authorization: ${authorization.slice(0, 12)}…`)
    t.equal(response.json().type, '/problems/missing-token')
  }
  const lowercase = await app.inject({
    method: 'GET',
    url: '/v1/rings',
    headers: { authorization: `bearer ${adminToken}` },
  })
  t.equal(lowercase.statusCode, 200, 'the scheme is case-insensitive (RFC 7235)')
})

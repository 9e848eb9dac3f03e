import t from 'tap'
import { build } from '../helpers/build.js'

const problemType = /^application\/problem\+json/

t.test('unknown routes are problem+json 404s', async (t) => {
  const { request } = await build(t)
  const response = await request({ method: 'GET', url: '/v1/nothing-here?x=1', token: null })
  t.equal(response.status, 404)
  t.match(response.headers['content-type'], problemType)
  t.same(response.body, {
    type: '/problems/route-not-found',
    title: 'Not found',
    status: 404,
    detail: 'no route GET /v1/nothing-here; the API is described at /docs',
    instance: '/v1/nothing-here',
    requestId: response.headers['x-request-id'],
  })
})

t.test('the caller’s X-Request-Id is kept and echoed', async (t) => {
  const { request } = await build(t)
  const response = await request({
    method: 'GET',
    url: '/v1/rings/missing',
    headers: { 'x-request-id': 'pipeline-run-42' },
  })
  t.equal(response.headers['x-request-id'], 'pipeline-run-42')
  t.equal(response.body.requestId, 'pipeline-run-42')
  const odd = await request({
    method: 'GET',
    url: '/v1/rings/missing',
    headers: { 'x-request-id': 'has spaces<script>' },
  })
  t.not(odd.body.requestId, 'has spaces<script>', 'an unsafe id is replaced')
  t.match(odd.body.requestId, /^[0-9a-f-]{36}$/)
})

t.test('transport mistakes are 4xx problems with stable types', async (t) => {
  const { app, adminToken } = await build(t)
  const authorization = `Bearer ${adminToken}`
  const cases = [
    {
      label: 'malformed JSON',
      headers: { authorization, 'content-type': 'application/json' },
      payload: '{"name": ',
      status: 400,
      type: '/problems/malformed-json',
    },
    {
      label: 'wrong media type',
      headers: { authorization, 'content-type': 'text/plain' },
      payload: 'name=ring-0',
      status: 415,
      type: '/problems/unsupported-media-type',
    },
    {
      label: 'body too large',
      headers: { authorization, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'r', order: 0, description: 'x'.repeat(1024 * 1024) }),
      status: 413,
      type: '/problems/body-too-large',
    },
    {
      label: 'JSON that is not an object',
      headers: { authorization, 'content-type': 'application/json' },
      payload: '[1,2]',
      status: 400,
      type: '/problems/validation-failed',
    },
  ]
  for (const { label, headers, payload, status, type } of cases) {
    const response = await app.inject({ method: 'POST', url: '/v1/rings', headers, payload })
    t.equal(response.statusCode, status, label)
    t.match(response.headers['content-type'], problemType, label)
    t.equal(response.json().type, type, label)
  }
  const wrongType = await app.inject({
    method: 'POST',
    url: '/v1/rings',
    headers: { authorization, 'content-type': 'text/plain' },
    payload: 'x',
  })
  t.equal(
    wrongType.json().detail,
    "content type 'text/plain' is not accepted; send JSON with Content-Type: application/json",
  )
})

t.test('a server fault is a 500 that tells nothing of the inside', async (t) => {
  const lines: string[] = []
  const { app, request } = await build(t, {
    logging: { level: 'error', stream: { write: (line: string) => lines.push(line) } },
  })
  // A fault of ours, not of the database's availability (which is a 503 of its own): a table the
  // code reads is gone.
  await app.database.db.execute('drop table rings cascade')
  const response = await request({ method: 'GET', url: '/v1/rings' })
  t.equal(response.status, 500)
  t.match(response.headers['content-type'], problemType)
  t.equal(response.body.type, '/problems/internal-error')
  t.equal(
    response.body.detail,
    'The server could not complete the request. Quote the requestId when reporting it.',
  )
  t.notMatch(JSON.stringify(response.body), /pglite|postgres|relation|does not exist|stack|at /i)
  t.ok(
    lines.some((line) => line.includes(response.body.requestId)),
    'the details are in the log, under the request id',
  )
})

t.test('the OpenAPI document and Swagger UI are served', async (t) => {
  const { app } = await build(t)
  const document = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(document.statusCode, 200)
  const spec = document.json()
  t.equal(spec.openapi, '3.1.0')
  t.ok(spec.paths['/v1/rings'].post, 'routes are documented')
  t.equal(spec.paths['/v1/rings'].post.operationId, 'createRing')
  t.match(spec.paths['/v1/rings'].post.description, 'Roles: admin.')
  t.same(spec.security, [{ bearerToken: [] }], 'a token is needed unless an operation says not')
  t.equal(spec.paths['/v1/rings'].post.security, undefined, 'createRing needs the token')
  t.same(spec.paths['/healthz'].get.security, [], 'a public operation needs none')
  t.ok(spec.components.schemas.Problem, 'the problem schema is shared')
  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})

import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../../helpers/build.js'

// What the fuzz found, one case each: every answer is a problem document with a 4xx, whatever
// was sent, and nothing was written. The fuzz itself (test/fuzz/openapi-fuzz.test.ts) covers
// every operation; these name the cases.

function isProblem(
  t: Parameters<typeof build>[0],
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  type: string,
) {
  t.equal(response.statusCode, status, `${type}: status`)
  t.match(
    String(response.headers['content-type']),
    /^application\/problem\+json/,
    `${type}: media type`,
  )
  const problem = JSON.parse(response.body)
  t.equal(problem.type, `/problems/${type}`)
  t.equal(problem.status, status)
  t.type(problem.detail, 'string')
  return problem
}

const admin = (api: TestApp) => ({ authorization: `Bearer ${api.adminToken}` })

t.test('errors raised before the error handler are problems', async (t) => {
  const api = await build(t)
  const badUrl = await api.app.inject({
    method: 'GET',
    url: '/v1/services/%zz',
    headers: admin(api),
  })
  const problem = isProblem(t, badUrl, 400, 'bad-url')
  t.equal(problem.requestId, badUrl.headers['x-request-id'] ?? problem.requestId)
  t.match(problem.detail, /percent-encoding/)

  const longParam = await api.app.inject({
    method: 'GET',
    url: `/v1/services/${'a'.repeat(101)}`,
    headers: admin(api),
  })
  isProblem(t, longParam, 414, 'path-parameter-too-long')
})

t.test('integer ids past 2^53, Infinity and 1e309 are validation problems', async (t) => {
  const api = await build(t)
  for (const url of [
    '/v1/releases/99999999999999999999999',
    '/v1/releases/9223372036854775808',
    '/v1/releases/Infinity',
    '/v1/releases/1e309',
    '/v1/releases/-Infinity',
    '/v1/releases?before=1e309',
    '/v1/events?after=99999999999999999999',
    '/v1/incidents/18446744073709551616',
    'DELETE /v1/halts/1e400',
  ]) {
    const [method, path] = url.startsWith('DELETE ')
      ? ['DELETE' as const, url.slice(7)]
      : ['GET' as const, url]
    const response = await api.app.inject({ method, url: path, headers: admin(api) })
    const problem = isProblem(t, response, 400, 'validation-failed')
    t.ok(problem.errors.length > 0, `${url}: names the parameter`)
  }
  const body = await api.app.inject({
    method: 'POST',
    url: '/v1/scale-units',
    headers: { ...admin(api), 'content-type': 'application/json' },
    payload: '{"name":"su-1","region":"westus2","ring":"r","trafficWeight":1e309}',
  })
  const problem = isProblem(t, body, 400, 'validation-failed')
  t.ok(
    problem.errors.some(
      (error: { path: string; message: string }) =>
        error.path === 'body/trafficWeight' && error.message === 'must be a finite number',
    ),
    'names the field and says why',
  )
})

t.test('NUL, control characters and unpaired surrogates in text are refused', async (t) => {
  const api = await build(t)
  const post = (url: string, payload: unknown, method: 'POST' | 'PATCH' = 'POST') =>
    api.app.inject({
      method,
      url,
      headers: { ...admin(api), 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    })
  const service = uniqueName('svc')
  for (const [name, description] of [
    ['NUL', 'a\u0000b'],
    ['escape', 'red \u001b[31m'],
    ['C1 control', 'x\u0085'],
    ['unpaired high surrogate', 'x\ud800'],
    ['unpaired low surrogate', '\udc00x'],
  ] as const) {
    const response = await post('/v1/services', { name: service, description })
    const problem = isProblem(t, response, 400, 'validation-failed')
    t.match(problem.errors, [{ path: 'body/description' }], name)
  }
  const listed = await api.request({ method: 'GET', url: '/v1/services' })
  t.notOk(
    listed.body.services.some((item: { name: string }) => item.name === service),
    'nothing was created',
  )

  const fine = await post('/v1/services', {
    name: service,
    description: 'tabs\tand\nnewlines, accents é, emoji 🚀 (a surrogate pair)',
  })
  t.equal(fine.statusCode, 201, 'text with tab, newline and astral characters is fine')

  const incident = await api.request({
    method: 'POST',
    url: '/v1/incidents',
    body: { service, severity: 'sev3', title: 'checkout slow' },
  })
  t.equal(incident.status, 201)
  const patched = await post(`/v1/incidents/${incident.body.id}`, { title: 'x\ud800y' }, 'PATCH')
  isProblem(t, patched, 400, 'validation-failed')
  const after = await api.request({ method: 'GET', url: `/v1/incidents/${incident.body.id}` })
  t.equal(after.body.title, 'checkout slow', 'the incident is unchanged')

  const keyed = await post('/v1/services', { name: uniqueName('svc'), ['owner\u0000']: 'x' })
  const keyProblem = isProblem(t, keyed, 400, 'validation-failed')
  t.match(JSON.stringify(keyProblem.errors), /field name/)
})

t.test('over real HTTP: a request line and headers over 16 kB get a 431 problem', async (t) => {
  const api = await build(t)
  await api.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = api.app.server.address() as AddressInfo
  const response = await new Promise<{ status: number; type: string; body: string }>(
    (resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: `/v1/services?q=${'x'.repeat(17_000)}`,
          headers: admin(api),
        },
        (incoming) => {
          let body = ''
          incoming.setEncoding('utf8')
          incoming.on('data', (chunk) => {
            body += chunk
          })
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              type: String(incoming.headers['content-type']),
              body,
            }),
          )
        },
      )
      outgoing.on('error', reject)
      outgoing.end()
    },
  )
  t.equal(response.status, 431)
  t.match(response.type, /^application\/problem\+json/)
  t.match(JSON.parse(response.body), { type: '/problems/headers-too-large', status: 431 })
})

import { compileFlags, evaluate, type UnleashContext } from '@ringmaster/flag-evaluator'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { type AdminCall, sampleContexts, seedFlags } from '../helpers/flag-fixtures.js'

// The frontend API over inject: the context from the query (properties[x]=y) or the body, only
// flags that are on, ETags, metrics, and CORS for browsers on other origins.

const adminCall =
  (api: TestApp): AdminCall =>
  async (method, url, body) => {
    const response = await api.request({ method, url, body })
    return { status: response.status, body: response.body }
  }

async function ringWithFlags(t: Parameters<typeof build>[0]) {
  const api = await build(t)
  const ring = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
  await seedFlags(adminCall(api), ring)
  const frontend = await api.tokenFor('frontend', undefined, ring)
  const client = await api.tokenFor('client', undefined, ring)
  return { api, ring, frontend, client }
}

/** The query string unleash-proxy-client builds from a context. */
function contextQuery(context: UnleashContext): string {
  const params = new URLSearchParams()
  for (const [field, value] of Object.entries(context)) {
    if (field === 'properties') {
      for (const [name, property] of Object.entries(value as Record<string, string>)) {
        params.append(`properties[${name}]`, property)
      }
    } else params.append(field, String(value))
  }
  return params.toString()
}

t.test('the answer lists the flags on for the context, as the evaluator decides', async (t) => {
  const { api, frontend, client } = await ringWithFlags(t)
  const features = await api.app.inject({
    method: 'GET',
    url: '/api/client/features',
    headers: { authorization: client, 'unleash-client-spec': '5.2.0' },
  })
  const compiled = compileFlags(features.json())
  for (const context of sampleContexts(24)) {
    const full = { ...context, appName: 'web', environment: 'default' }
    const viaGet = await api.app.inject({
      method: 'GET',
      url: `/api/frontend?${contextQuery(full)}`,
      headers: { authorization: frontend },
    })
    t.equal(viaGet.statusCode, 200)
    const expected = [...compiled.flags.keys()]
      .map((name) => ({ name, ...evaluate(compiled, name, full) }))
      .filter((result) => result.enabled)
    t.same(
      viaGet
        .json()
        .toggles.map((toggle: { name: string; variant: unknown }) => [toggle.name, toggle.variant]),
      expected.map((result) => [result.name, result.variant]),
      `GET for ${context.userId}`,
    )
    const viaPost = await api.app.inject({
      method: 'POST',
      url: '/api/frontend',
      headers: { authorization: frontend, 'content-type': 'application/json' },
      payload: JSON.stringify({ context: full }),
    })
    t.equal(viaPost.body, viaGet.body, `POST for ${context.userId}`)
    t.equal(viaPost.headers.etag, viaGet.headers.etag)
  }
  const everyone = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    headers: { authorization: frontend },
  })
  t.match(
    everyone.json().toggles.find((toggle: { name: string }) => toggle.name === 'everyone'),
    {
      enabled: true,
      impressionData: true,
      variant: { name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true },
    },
  )
})

t.test('remoteAddress defaults to the caller; ETags give 304s', async (t) => {
  const { api, frontend } = await ringWithFlags(t)
  const fromOffice = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    remoteAddress: '10.20.30.40',
    headers: { authorization: frontend },
  })
  t.ok(
    fromOffice.json().toggles.some((toggle: { name: string }) => toggle.name === 'office-network'),
    "the caller's address is the context's remoteAddress",
  )
  const stated = await api.app.inject({
    method: 'GET',
    url: '/api/frontend?remoteAddress=172.16.0.1',
    remoteAddress: '10.20.30.40',
    headers: { authorization: frontend },
  })
  t.notOk(
    stated.json().toggles.some((toggle: { name: string }) => toggle.name === 'office-network'),
    'an address in the context wins',
  )
  const again = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    remoteAddress: '10.20.30.40',
    headers: { authorization: frontend, 'if-none-match': fromOffice.headers.etag as string },
  })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.not(stated.headers.etag, fromOffice.headers.etag, 'another answer has another ETag')
  const otherAnswer = await api.app.inject({
    method: 'GET',
    url: '/api/frontend?remoteAddress=172.16.0.1',
    headers: { authorization: frontend, 'if-none-match': fromOffice.headers.etag as string },
  })
  t.equal(otherAnswer.statusCode, 200, "an ETag of one answer does not stand for another's")
  t.same(otherAnswer.json(), stated.json())
})

t.test('frontend metrics and registration', async (t) => {
  const { api, ring, frontend } = await ringWithFlags(t)
  const sent = await api.app.inject({
    method: 'POST',
    url: '/api/frontend/client/metrics',
    headers: { authorization: frontend, 'content-type': 'application/json' },
    payload: JSON.stringify({
      appName: 'web',
      instanceId: 'browser',
      bucket: {
        start: new Date().toISOString(),
        stop: new Date().toISOString(),
        toggles: {
          colours: { yes: 2, no: 0, variants: { red: 1, blue: 1 } },
          'not-a-flag': { yes: 0, no: 4, variants: {} },
        },
      },
      impactMetrics: [],
    }),
  })
  t.equal(sent.statusCode, 202)
  const registered = await api.app.inject({
    method: 'POST',
    url: '/api/frontend/client/register',
    headers: { authorization: frontend, 'content-type': 'application/json' },
    payload: JSON.stringify({
      appName: 'web',
      instanceId: 'browser',
      sdkVersion: 'unleash-client-js:3.8.2',
    }),
  })
  t.equal(registered.statusCode, 202)
  const shown = await api.request({ method: 'GET', url: `/v1/flags/colours/metrics?ring=${ring}` })
  t.same(shown.body.totals, { yes: 2, no: 0, variants: { red: 1, blue: 1 } })
  t.match(await api.app.store.read.sdkRegistrations.list({ ring, kind: 'frontend' }), [
    { appName: 'web', instanceId: 'browser', sdkVersion: 'unleash-client-js:3.8.2' },
  ])
})

t.test('browsers on other origins: preflights and exposed headers', async (t) => {
  const { api, frontend } = await ringWithFlags(t)
  for (const url of ['/api/frontend', '/api/frontend/client/metrics', '/ofrep/v1/evaluate/flags']) {
    const preflight = await api.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin: 'https://shop.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, unleash-sdk, x-evil',
      },
    })
    t.equal(preflight.statusCode, 204, `preflight ${url}`)
    t.equal(preflight.headers['access-control-allow-origin'], '*')
    t.match(preflight.headers['access-control-allow-methods'], 'POST')
    const allowed = String(preflight.headers['access-control-allow-headers']).split(', ')
    for (const header of ['authorization', 'content-type', 'if-none-match', 'unleash-sdk']) {
      t.ok(allowed.includes(header), `${url} allows ${header}`)
    }
    t.notOk(allowed.includes('x-evil'))
  }
  const answer = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    headers: { authorization: frontend, origin: 'https://shop.example.com' },
  })
  t.equal(answer.headers['access-control-allow-origin'], '*')
  t.match(answer.headers['access-control-expose-headers'], 'ETag')
  const refused = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    headers: { authorization: 'nope', origin: 'https://shop.example.com' },
  })
  t.equal(refused.statusCode, 401)
  t.equal(refused.headers['access-control-allow-origin'], '*', 'a browser can read the 401')
  const admin = await api.app.inject({
    method: 'OPTIONS',
    url: '/v1/flags',
    headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'GET' },
  })
  t.equal(
    admin.headers['access-control-allow-origin'],
    undefined,
    'the admin API stays same-origin',
  )
})

t.test('frontend tokens only', async (t) => {
  const { api, client, frontend } = await ringWithFlags(t)
  const asClient = await api.app.inject({
    method: 'GET',
    url: '/api/frontend',
    headers: { authorization: client },
  })
  t.equal(asClient.statusCode, 403)
  const invalid = await api.app.inject({
    method: 'POST',
    url: '/api/frontend',
    headers: { authorization: frontend, 'content-type': 'application/json' },
    payload: JSON.stringify({ context: { userId: 'u1', nested: { no: 'objects' } } }),
  })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { type: '/problems/invalid-context', detail: /nested/ })
})

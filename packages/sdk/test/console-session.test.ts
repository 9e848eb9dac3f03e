import t from 'tap'
import { createRingmasterClient, RingmasterProblem } from '../src/index.js'
import { startControlPlane, uniqueName } from './helpers/control-plane.js'

// The web console's use of the client: no token, the session cookie the browser keeps, and the
// CSRF token on every change.

t.test('a client without a token signs in, works with the cookie and signs out', async (t) => {
  const { url, adminToken } = await startControlPlane(t)
  // What the browser does for the console: keep the cookie, send it back to the same origin.
  let cookie: string | undefined
  const seen: Request[] = []
  const browserFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    seen.push(request.clone())
    const headers = new Headers(request.headers)
    if (cookie !== undefined) headers.set('cookie', cookie)
    const response = await fetch(new Request(request, { headers }))
    const setCookie = response.headers.get('set-cookie')
    if (setCookie !== null) {
      const pair = setCookie.split(';')[0]!
      cookie = pair.endsWith('=') ? undefined : pair
    }
    return response
  }
  let csrfToken: string | undefined
  const console = createRingmasterClient({
    baseUrl: url,
    fetch: browserFetch,
    csrfToken: () => csrfToken,
  })

  const session = await console.post('/v1/session', { body: { token: adminToken } })
  t.equal(session.role, 'admin')
  t.match(session.console, { traceUrlTemplate: null })
  t.ok(cookie?.startsWith('ringmaster_session='), 'the server set the session cookie')
  csrfToken = session.csrfToken

  const service = await console.post('/v1/services', { body: { name: uniqueName('svc') } })
  t.equal(service.owner, null)
  t.equal((await console.get('/v1/session')).subject, session.subject)

  const write = seen.find((request) => request.url.endsWith('/v1/services'))!
  t.equal(write.headers.get('authorization'), null, 'no bearer token is sent')
  t.equal(write.headers.get('x-csrf-token'), session.csrfToken, 'the CSRF token goes with changes')
  t.equal(write.credentials, 'same-origin')
  const read = seen.find((request) => request.method === 'GET')!
  t.equal(read.headers.get('x-csrf-token'), null, 'reads need none')

  t.equal(await console.delete('/v1/session'), undefined)
  const after = await console.get('/v1/session').catch((error: unknown) => error)
  t.ok(after instanceof RingmasterProblem)
  t.equal((after as RingmasterProblem).type, '/problems/unauthenticated')
})

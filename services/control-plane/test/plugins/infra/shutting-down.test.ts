import t from 'tap'
import { build } from '../../helpers/build.js'

// A shutdown takes as long as its slowest preClose hook (a promotion round, a webhook delivery in
// flight); this test holds one open to see what a request gets meanwhile.

t.test('while the app shuts down, a request is answered 503 /problems/shutting-down', async (t) => {
  let entered!: () => void
  const closeBegan = new Promise<void>((resolve) => {
    entered = resolve
  })
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const api = await build(t, {
    onPreClose: async () => {
      entered()
      await held
    },
  })
  const url = await api.app.listen({ host: '127.0.0.1', port: 0 })
  const call = (method: string, body?: unknown) =>
    fetch(`${url}/v1/services`, {
      method,
      headers: {
        authorization: `Bearer ${api.adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })

  const before = await call('POST', { name: 'before-close' })
  t.equal(before.status, 201, 'served while open')
  t.equal(((await before.json()) as { name: string }).name, 'before-close')

  const closed = api.app.close()
  await closeBegan
  const during = await call('GET')
  t.equal(during.status, 503)
  t.match(during.headers.get('content-type'), /^application\/problem\+json/)
  t.equal(during.headers.get('retry-after'), '1', 'says when to come back')
  t.equal(during.headers.get('connection'), 'close', 'and not on this connection')
  const problem = (await during.json()) as Record<string, unknown>
  t.match(problem, {
    type: '/problems/shutting-down',
    status: 503,
    detail: 'the control plane is shutting down; try again in a moment',
    instance: '/v1/services',
  })
  t.equal(
    problem.requestId,
    during.headers.get('x-request-id'),
    'the request id, as on any problem',
  )

  const write = await call('POST', { name: 'during-close' })
  t.equal(write.status, 503, 'a write is turned away before its handler runs')
  t.equal(((await write.json()) as { type: string }).type, '/problems/shutting-down')

  release()
  await closed
  await t.rejects(call('GET'), 'nothing listens once it has closed')
})

import t from 'tap'
import { build } from '../helpers/build.js'

t.test('events page forward with after and limit', async (t) => {
  const { request } = await build(t)
  for (let index = 0; index < 5; index += 1) {
    await request({ method: 'POST', url: '/v1/services', body: { name: `svc-${index}` } })
  }
  const all = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body
  const serviceEvents = all.events.filter(
    (event: { action: string }) => event.action === 'service.created',
  )
  t.equal(serviceEvents.length, 5)
  const ids = all.events.map((event: { id: number }) => event.id)
  t.same(
    ids,
    [...ids].sort((a, b) => a - b),
    'oldest first',
  )
  t.equal(all.nextAfter, ids.at(-1))

  const firstPage = (await request({ method: 'GET', url: '/v1/events?limit=2' })).body
  t.equal(firstPage.events.length, 2)
  const secondPage = (
    await request({ method: 'GET', url: `/v1/events?after=${firstPage.nextAfter}&limit=2` })
  ).body
  t.same(
    secondPage.events.map((event: { id: number }) => event.id),
    ids.slice(2, 4),
  )
  const end = (await request({ method: 'GET', url: `/v1/events?after=${all.nextAfter}` })).body
  t.same(end, { events: [], nextAfter: all.nextAfter }, 'nothing newer keeps the cursor')
})

t.test('event query validation', async (t) => {
  const { request } = await build(t)
  for (const [query, path] of [
    ['after=-1', 'querystring/after'],
    ['after=abc', 'querystring/after'],
    ['limit=0', 'querystring/limit'],
    ['limit=501', 'querystring/limit'],
    ['since=3', 'querystring/since'],
  ] as const) {
    const response = await request({ method: 'GET', url: `/v1/events?${query}` })
    t.equal(response.status, 400, query)
    t.equal(response.body.errors[0].path, path, query)
  }
})

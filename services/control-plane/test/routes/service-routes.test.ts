import t from 'tap'
import { build } from '../helpers/build.js'

t.test('services are registered, listed by name and fetched', async (t) => {
  const { request, tokenFor } = await build(t)
  const pipeline = await tokenFor('pipeline', 'checkout-ci')
  const created = await request({
    method: 'POST',
    url: '/v1/services',
    token: pipeline,
    body: { name: 'checkout', description: 'Takes the money', owner: 'payments' },
  })
  t.equal(created.status, 201)
  t.equal(created.headers.location, '/v1/services/checkout')
  t.match(created.body, { name: 'checkout', description: 'Takes the money', owner: 'payments' })
  await request({ method: 'POST', url: '/v1/services', body: { name: 'basket' } })

  const listed = await request({ method: 'GET', url: '/v1/services' })
  t.same(
    listed.body.services.map((service: { name: string }) => service.name),
    ['basket', 'checkout'],
  )
  t.same(listed.body.services[0], {
    ...listed.body.services[0],
    description: '',
    owner: null,
  })
  const fetched = await request({ method: 'GET', url: '/v1/services/checkout' })
  t.same(fetched.body, created.body)

  const events = (await request({ method: 'GET', url: '/v1/events' })).body.events
  const created_ = events.find((event: { subject: string }) => event.subject === 'service:checkout')
  t.equal(created_.action, 'service.created')
  t.equal(created_.actor, 'checkout-ci')
})

t.test('service errors', async (t) => {
  const { request } = await build(t)
  await request({ method: 'POST', url: '/v1/services', body: { name: 'checkout' } })
  const duplicate = await request({
    method: 'POST',
    url: '/v1/services',
    body: { name: 'checkout' },
  })
  t.equal(duplicate.status, 409)
  t.equal(duplicate.body.type, '/problems/service-exists')
  const missing = await request({ method: 'GET', url: '/v1/services/nope' })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/service-not-found')
  const badParam = await request({ method: 'GET', url: '/v1/services/Not_A_Name' })
  t.equal(badParam.status, 400)
  t.equal(badParam.body.errors[0].path, 'params/name')
  for (const [label, body, path] of [
    ['unknown field', { name: 'x', team: 'y' }, 'body/team'],
    ['owner empty', { name: 'x', owner: '' }, 'body/owner'],
    ['description too long', { name: 'x', description: 'd'.repeat(1001) }, 'body/description'],
    ['name a number', { name: 7 }, 'body/name'],
  ] as const) {
    const response = await request({ method: 'POST', url: '/v1/services', body })
    t.equal(response.status, 400, label)
    t.equal(response.body.errors[0].path, path, label)
  }
})

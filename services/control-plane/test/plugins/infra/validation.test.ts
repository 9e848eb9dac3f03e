import t from 'tap'
import { build } from '../../helpers/build.js'

// Headers schemas that only document optional text headers are not compiled (they can reject
// nothing); every other headers schema is still enforced.

t.test('constrained headers are still validated', async (t) => {
  const { request } = await build(t)
  const response = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-0', order: 0 },
    headers: { 'idempotency-key': 'x'.repeat(256) },
  })
  t.equal(response.status, 400)
  t.equal(response.body.type, '/problems/validation-failed')
  t.match(JSON.stringify(response.body.errors), 'idempotency-key')
  const rings = await request({ method: 'GET', url: '/v1/rings' })
  t.same(rings.body.rings, [], 'nothing was created')
})

t.test('documented SDK headers take any value SDKs send', async (t) => {
  const { request, tokenFor } = await build(t)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const client = await tokenFor('client', 'svc', 'ring-0')
  const response = await request({
    method: 'GET',
    url: '/api/client/features',
    token: client,
    headers: {
      'unleash-interval': 'undefined',
      'unleash-client-spec': 'not a version',
      'unleash-appname': '',
    },
  })
  t.equal(response.status, 200)
  t.same(response.body.features, [])
  t.equal(response.body.query.inlineSegmentConstraints, true, 'an unreadable spec is an old SDK')
})

import t from 'tap'
import { build, uniqueName } from '../helpers/build.js'

const defaultPolicy = {
  preApproval: null,
  postApproval: null,
  bakeMinutes: 0,
  approvalTimeoutMinutes: null,
  maxParallel: 1,
  manualPromotion: false,
  autoRollback: true,
  health: {},
}

const ringZeroPolicy = {
  preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 },
  postApproval: null,
  bakeMinutes: 60,
  approvalTimeoutMinutes: null,
  maxParallel: 1,
  manualPromotion: false,
  autoRollback: true,
  health: { maxErrorRate: 0.01, maxP99Ms: 800 },
}

t.test('a ring created without a policy gets the default policy', async (t) => {
  const { request } = await build(t)
  const name = uniqueName('ring')
  const created = await request({ method: 'POST', url: '/v1/rings', body: { name, order: 3 } })
  t.equal(created.status, 201)
  t.equal(created.headers.location, `/v1/rings/${name}`)
  t.match(created.body, { name, order: 3, description: '', scaleUnits: [] })
  t.same(created.body.policy, defaultPolicy)
  t.ok(Date.parse(created.body.createdAt) > 0)
  const fetched = await request({ method: 'GET', url: `/v1/rings/${name}` })
  t.same(fetched.body, created.body)
})

t.test("ring 0's policy from the model release is stored as given", async (t) => {
  const { request } = await build(t)
  const created = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-0', order: 0, description: 'the team', policy: ringZeroPolicy },
  })
  t.equal(created.status, 201)
  t.same(created.body.policy, ringZeroPolicy)
})

t.test('partial policies fill the rest with defaults', async (t) => {
  const { request } = await build(t)
  const created = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: uniqueName('ring'), order: 1, policy: { bakeMinutes: 30, maxParallel: 4 } },
  })
  t.same(created.body.policy, { ...defaultPolicy, bakeMinutes: 30, maxParallel: 4 })
})

t.test('rings are listed in rollout order', async (t) => {
  const { request } = await build(t)
  for (const [name, order] of [
    ['ring-2', 2],
    ['ring-0', 0],
    ['ring-1', 1],
  ] as const) {
    await request({ method: 'POST', url: '/v1/rings', body: { name, order } })
  }
  const listed = await request({ method: 'GET', url: '/v1/rings' })
  t.same(
    listed.body.rings.map((ring: { name: string }) => ring.name),
    ['ring-0', 'ring-1', 'ring-2'],
  )
})

t.test('duplicate names and orders are 409s that say which ring holds them', async (t) => {
  const { request } = await build(t)
  await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const sameName = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-0', order: 5 },
  })
  t.equal(sameName.status, 409)
  t.equal(sameName.body.type, '/problems/ring-exists')
  const sameOrder = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-x', order: 0 },
  })
  t.equal(sameOrder.status, 409)
  t.equal(sameOrder.body.type, '/problems/ring-order-taken')
  t.match(sameOrder.body.detail, "ring 'ring-0' already has order 0")
  t.equal(sameOrder.body.ring, 'ring-0')
  const listed = await request({ method: 'GET', url: '/v1/rings' })
  t.equal(listed.body.rings.length, 1, 'nothing was written by the refused requests')
})

t.test('PATCH changes only what it is given; policy fields merge', async (t) => {
  const { request } = await build(t)
  await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'ring-0', order: 0, description: 'team', policy: ringZeroPolicy },
  })
  const patched = await request({
    method: 'PATCH',
    url: '/v1/rings/ring-0',
    body: { policy: { bakeMinutes: 120, health: { maxErrorRate: 0.05 } } },
  })
  t.equal(patched.status, 200)
  t.equal(patched.body.description, 'team')
  t.same(patched.body.policy, {
    ...ringZeroPolicy,
    bakeMinutes: 120,
    health: { maxErrorRate: 0.05 },
  })
  const reordered = await request({ method: 'PATCH', url: '/v1/rings/ring-0', body: { order: 7 } })
  t.equal(reordered.body.order, 7)
  t.equal(reordered.body.policy.bakeMinutes, 120)
  const missing = await request({ method: 'PATCH', url: '/v1/rings/nope', body: { order: 1 } })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/ring-not-found')
})

t.test(
  'deleting a ring with scale units is a 409 naming them; an empty ring deletes',
  async (t) => {
    const { request } = await build(t)
    await request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-1', order: 1 } })
    for (const name of ['weu-1', 'neu-1']) {
      await request({
        method: 'POST',
        url: '/v1/scale-units',
        body: { name, region: 'europe', ring: 'ring-1' },
      })
    }
    const refused = await request({ method: 'DELETE', url: '/v1/rings/ring-1' })
    t.equal(refused.status, 409)
    t.equal(refused.body.type, '/problems/ring-has-scale-units')
    t.match(refused.body.detail, "ring 'ring-1' still has scale units: neu-1, weu-1")
    t.same(refused.body.scaleUnits, ['neu-1', 'weu-1'])

    for (const name of ['weu-1', 'neu-1']) {
      t.equal((await request({ method: 'DELETE', url: `/v1/scale-units/${name}` })).status, 204)
    }
    const deleted = await request({ method: 'DELETE', url: '/v1/rings/ring-1' })
    t.equal(deleted.status, 204)
    t.equal(deleted.body, undefined)
    t.equal((await request({ method: 'GET', url: '/v1/rings/ring-1' })).status, 404)
  },
)

t.test('every ring change is audited with who, what, before and after', async (t) => {
  const { request, tokenFor } = await build(t)
  const adminSecret = await tokenFor('admin', 'jane@example.com')
  const created = await request({
    method: 'POST',
    url: '/v1/rings',
    token: adminSecret,
    body: { name: 'ring-0', order: 0 },
    headers: { 'x-request-id': 'req-create-ring-0' },
  })
  await request({
    method: 'PATCH',
    url: '/v1/rings/ring-0',
    token: adminSecret,
    body: { description: 'the team' },
  })
  await request({ method: 'DELETE', url: '/v1/rings/ring-0', token: adminSecret })

  const page = await request({ method: 'GET', url: '/v1/events?limit=500' })
  const ringEvents = page.body.events.filter(
    (event: { subject: string }) => event.subject === 'ring:ring-0',
  )
  t.same(
    ringEvents.map((event: { action: string }) => event.action),
    ['ring.created', 'ring.updated', 'ring.deleted'],
  )
  for (const event of ringEvents) t.equal(event.actor, 'jane@example.com')
  t.equal(ringEvents[0].requestId, 'req-create-ring-0')
  t.same(ringEvents[0].data.after, created.body)
  t.equal(ringEvents[1].data.before.description, '')
  t.equal(ringEvents[1].data.after.description, 'the team')
  t.equal(ringEvents[2].data.before.name, 'ring-0')
})

t.test('ring validation names each problem', async (t) => {
  const { request } = await build(t)
  const cases: [string, unknown, string[]][] = [
    ['unknown top-level field', { name: 'r', order: 0, colour: 'red' }, ['body/colour']],
    ['unknown policy field', { name: 'r', order: 0, policy: { bake: 5 } }, ['body/policy/bake']],
    [
      'unknown gate field',
      {
        name: 'r',
        order: 0,
        policy: { preApproval: { role: 'approver', minApprovals: 1, ttlHours: 1, who: 'x' } },
      },
      ['body/policy/preApproval/who'],
    ],
    ['order as a string', { name: 'r', order: '1' }, ['body/order']],
    ['negative order', { name: 'r', order: -1 }, ['body/order']],
    ['fractional order', { name: 'r', order: 1.5 }, ['body/order']],
    ['missing order', { name: 'r' }, ['body/order']],
    ['name too long', { name: 'r'.repeat(64), order: 0 }, ['body/name']],
    ['name with capitals', { name: 'Ring-0', order: 0 }, ['body/name']],
    [
      'maxParallel 0',
      { name: 'r', order: 0, policy: { maxParallel: 0 } },
      ['body/policy/maxParallel'],
    ],
    [
      'minApprovals 0',
      {
        name: 'r',
        order: 0,
        policy: { preApproval: { role: 'approver', minApprovals: 0, ttlHours: 1 } },
      },
      ['body/policy/preApproval/minApprovals'],
    ],
    [
      'pipeline cannot be an approval role',
      {
        name: 'r',
        order: 0,
        policy: { preApproval: { role: 'pipeline', minApprovals: 1, ttlHours: 1 } },
      },
      ['body/policy/preApproval/role'],
    ],
    [
      'error rate above 1',
      { name: 'r', order: 0, policy: { health: { maxErrorRate: 2 } } },
      ['body/policy/health/maxErrorRate'],
    ],
    ['two mistakes at once', { name: 'r', order: 'x', extra: true }, ['body/extra', 'body/order']],
    [
      'description too long',
      { name: 'r', order: 0, description: 'd'.repeat(1001) },
      ['body/description'],
    ],
  ]
  for (const [label, body, paths] of cases) {
    const response = await request({ method: 'POST', url: '/v1/rings', body })
    t.equal(response.status, 400, label)
    t.equal(response.body.type, '/problems/validation-failed', label)
    t.same(
      [...new Set(response.body.errors.map((error: { path: string }) => error.path))].sort(),
      paths,
      label,
    )
    for (const path of paths) t.match(response.body.detail, path, `${label}: detail names ${path}`)
  }
  const unknown = await request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: 'r', order: 0, colour: 1 },
  })
  t.equal(unknown.body.errors[0].message, "unknown field 'colour' is not allowed")
  const emptyPatch = await request({ method: 'PATCH', url: '/v1/rings/whatever', body: {} })
  t.equal(emptyPatch.status, 400)
  const listed = await request({ method: 'GET', url: '/v1/rings' })
  t.same(listed.body.rings, [], 'no refused request wrote anything')
})

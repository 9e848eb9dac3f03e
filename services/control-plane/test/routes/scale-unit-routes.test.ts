import t from 'tap'
import { build, type TestApp } from '../helpers/build.js'

async function withRings(testApp: TestApp, ...names: string[]) {
  for (const [order, name] of names.entries()) {
    await testApp.request({ method: 'POST', url: '/v1/rings', body: { name, order } })
  }
}

t.test('a scale unit is created in a ring and listed there', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-0')
  const created = await request({
    method: 'POST',
    url: '/v1/scale-units',
    body: { name: 'team-1', region: 'westus2', ring: 'ring-0', labels: { tier: 'canary' } },
  })
  t.equal(created.status, 201)
  t.equal(created.headers.location, '/v1/scale-units/team-1')
  t.match(created.body, {
    name: 'team-1',
    region: 'westus2',
    ring: 'ring-0',
    pairedWith: null,
    labels: { tier: 'canary' },
  })
  const ring = await request({ method: 'GET', url: '/v1/rings/ring-0' })
  t.same(ring.body.scaleUnits, ['team-1'])
  const fetched = await request({ method: 'GET', url: '/v1/scale-units/team-1' })
  t.same(fetched.body, created.body)
})

t.test('a scale unit must name an existing ring', async (t) => {
  const { request } = await build(t)
  const response = await request({
    method: 'POST',
    url: '/v1/scale-units',
    body: { name: 'weu-1', region: 'westeurope', ring: 'ring-9' },
  })
  t.equal(response.status, 400)
  t.equal(response.body.type, '/problems/unknown-ring')
  t.match(response.body.detail, "ring 'ring-9' does not exist")
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/weu-1' })).status, 404)
})

t.test('list filters by ring and by region, in ring order', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-0', 'ring-1')
  for (const [name, region, ring] of [
    ['weu-2', 'westeurope', 'ring-1'],
    ['weu-1', 'westeurope', 'ring-0'],
    ['eus-1', 'eastus', 'ring-1'],
  ]) {
    await request({ method: 'POST', url: '/v1/scale-units', body: { name, region, ring } })
  }
  const names = async (query: string) =>
    (await request({ method: 'GET', url: `/v1/scale-units${query}` })).body.scaleUnits.map(
      (unit: { name: string }) => unit.name,
    )
  t.same(await names(''), ['weu-1', 'eus-1', 'weu-2'])
  t.same(await names('?ring=ring-1'), ['eus-1', 'weu-2'])
  t.same(await names('?region=westeurope'), ['weu-1', 'weu-2'])
  t.same(await names('?ring=ring-1&region=westeurope'), ['weu-2'])
  t.same(await names('?ring=ring-7'), [])
  const bad = await request({ method: 'GET', url: '/v1/scale-units?colour=red' })
  t.equal(bad.status, 400)
  t.equal(bad.body.errors[0].path, 'querystring/colour')
})

t.test('region pairs are mutual and exclusive', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-1')
  const create = (name: string, pairedWith?: string) =>
    request({
      method: 'POST',
      url: '/v1/scale-units',
      body: { name, region: name.slice(0, 3), ring: 'ring-1', ...(pairedWith && { pairedWith }) },
    })
  await create('eus-1')
  const paired = await create('wus-1', 'eus-1')
  t.equal(paired.body.pairedWith, 'eus-1')
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/eus-1' })).body.pairedWith, 'wus-1')

  const taken = await create('cus-1', 'eus-1')
  t.equal(taken.status, 409)
  t.equal(taken.body.type, '/problems/scale-unit-already-paired')
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/cus-1' })).status, 404)

  const self = await request({
    method: 'PATCH',
    url: '/v1/scale-units/eus-1',
    body: { pairedWith: 'eus-1' },
  })
  t.equal(self.status, 400)
  t.equal(self.body.type, '/problems/invalid-pair')

  await create('cus-1')
  const unpaired = await request({
    method: 'PATCH',
    url: '/v1/scale-units/wus-1',
    body: { pairedWith: null },
  })
  t.equal(unpaired.body.pairedWith, null)
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/eus-1' })).body.pairedWith, null)

  await request({ method: 'PATCH', url: '/v1/scale-units/wus-1', body: { pairedWith: 'cus-1' } })
  await request({ method: 'DELETE', url: '/v1/scale-units/wus-1' })
  t.equal(
    (await request({ method: 'GET', url: '/v1/scale-units/cus-1' })).body.pairedWith,
    null,
    'deleting a unit unpairs its partner',
  )
})

t.test('moving a scale unit to another ring is a PATCH, audited as a move', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-1', 'ring-2')
  await request({
    method: 'POST',
    url: '/v1/scale-units',
    body: { name: 'neu-1', region: 'northeurope', ring: 'ring-1' },
  })
  const moved = await request({
    method: 'PATCH',
    url: '/v1/scale-units/neu-1',
    body: { ring: 'ring-2' },
  })
  t.equal(moved.status, 200)
  t.equal(moved.body.ring, 'ring-2')
  t.same((await request({ method: 'GET', url: '/v1/rings/ring-1' })).body.scaleUnits, [])
  t.same((await request({ method: 'GET', url: '/v1/rings/ring-2' })).body.scaleUnits, ['neu-1'])

  const relabelled = await request({
    method: 'PATCH',
    url: '/v1/scale-units/neu-1',
    body: { labels: { tier: 'broad' } },
  })
  t.same(relabelled.body.labels, { tier: 'broad' })

  const events = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body.events.filter(
    (event: { subject: string }) => event.subject === 'scale-unit:neu-1',
  )
  t.same(
    events.map((event: { action: string }) => event.action),
    ['scale-unit.created', 'scale-unit.moved', 'scale-unit.updated'],
  )
  t.equal(events[1].data.before.ring, 'ring-1')
  t.equal(events[1].data.after.ring, 'ring-2')

  const nowhere = await request({
    method: 'PATCH',
    url: '/v1/scale-units/neu-1',
    body: { ring: 'ring-9' },
  })
  t.equal(nowhere.status, 400)
  t.equal(nowhere.body.type, '/problems/unknown-ring')
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/neu-1' })).body.ring, 'ring-2')
})

t.test('scale unit validation', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-0')
  const cases: [string, unknown, string][] = [
    ['unknown field', { name: 'a', region: 'r', ring: 'ring-0', zone: 1 }, 'body/zone'],
    ['missing region', { name: 'a', ring: 'ring-0' }, 'body/region'],
    [
      'label value not a string',
      { name: 'a', region: 'r', ring: 'ring-0', labels: { tier: 1 } },
      'body/labels/tier',
    ],
    [
      'bad label key',
      { name: 'a', region: 'r', ring: 'ring-0', labels: { '-x': 'y' } },
      'body/labels',
    ],
    ['ring as a number', { name: 'a', region: 'r', ring: 0 }, 'body/ring'],
    ['name too long', { name: 'a'.repeat(70), region: 'r', ring: 'ring-0' }, 'body/name'],
  ]
  for (const [label, body, path] of cases) {
    const response = await request({ method: 'POST', url: '/v1/scale-units', body })
    t.equal(response.status, 400, label)
    t.ok(
      response.body.errors.some((error: { path: string }) => error.path.startsWith(path)),
      `${label}: names ${path} in ${JSON.stringify(response.body.errors)}`,
    )
  }
  const empty = await request({ method: 'PATCH', url: '/v1/scale-units/a', body: {} })
  t.equal(empty.status, 400)
  t.same((await request({ method: 'GET', url: '/v1/scale-units' })).body.scaleUnits, [])
})

t.test('a traffic weight (default 1) weighs a scale unit in the reliability figures', async (t) => {
  const testApp = await build(t)
  const { request } = testApp
  await withRings(testApp, 'ring-0')
  const plain = await request({
    method: 'POST',
    url: '/v1/scale-units',
    body: { name: 'weu-1', region: 'westeurope', ring: 'ring-0' },
  })
  t.equal(plain.body.trafficWeight, 1)
  const heavy = await request({
    method: 'POST',
    url: '/v1/scale-units',
    body: { name: 'weu-2', region: 'westeurope', ring: 'ring-0', trafficWeight: 2.5 },
  })
  t.equal(heavy.status, 201)
  t.equal(heavy.body.trafficWeight, 2.5)
  const patched = await request({
    method: 'PATCH',
    url: '/v1/scale-units/weu-1',
    body: { trafficWeight: 7 },
  })
  t.equal(patched.status, 200)
  t.equal(patched.body.trafficWeight, 7)
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/weu-1' })).body.trafficWeight, 7)
  const events = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body.events.filter(
    (event: { subject: string; action: string }) =>
      event.subject === 'scale-unit:weu-1' && event.action === 'scale-unit.updated',
  )
  t.equal(events.length, 1, 'the change is audited')

  for (const trafficWeight of [0, -1, '3', 2_000_000]) {
    const response = await request({
      method: 'PATCH',
      url: '/v1/scale-units/weu-1',
      body: { trafficWeight },
    })
    t.equal(response.status, 400, JSON.stringify(trafficWeight))
    t.equal(response.body.errors[0].path, 'body/trafficWeight')
  }
  t.equal((await request({ method: 'GET', url: '/v1/scale-units/weu-1' })).body.trafficWeight, 7)
})

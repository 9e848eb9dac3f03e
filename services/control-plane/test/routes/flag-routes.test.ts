import t from 'tap'
import { build, type TestApp } from '../helpers/build.js'

async function withRings(t: Parameters<typeof build>[0], names = ['ring-0', 'ring-1']) {
  const api = await build(t)
  for (const [order, name] of names.entries()) {
    const ring = await api.request({ method: 'POST', url: '/v1/rings', body: { name, order } })
    t.equal(ring.status, 201, `ring ${name} created`)
  }
  return api
}

const revisionOf = (api: TestApp, ring: string) => api.app.store.read.flagRevisions.current(ring)

async function auditOf(api: TestApp, subject: string) {
  const events = await api.app.store.read.auditLog.listAfter(0, 1000)
  return events.filter((event) => event.subject === subject)
}

const checkoutFlag = {
  description: 'New checkout flow',
  type: 'release',
  owner: 'payments@example.com',
  tags: ['team:payments', 'checkout'],
  variants: [
    { name: 'blue', weight: 500, weightType: 'variable', stickiness: 'default' },
    {
      name: 'green',
      weight: 500,
      weightType: 'variable',
      stickiness: 'default',
      payload: { type: 'json', value: '{"color":"green"}' },
    },
  ],
  rings: {
    'ring-0': {
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '25', stickiness: 'default', groupId: 'new-checkout' },
          constraints: [{ contextName: 'country', operator: 'IN', values: ['NO', 'SE'] }],
        },
      ],
    },
  },
}

t.test('a flag is created, read back, and a repeated put changes nothing', async (t) => {
  const api = await withRings(t)
  const created = await api.request({
    method: 'PUT',
    url: '/v1/flags/new-checkout',
    body: checkoutFlag,
  })
  t.equal(created.status, 201)
  t.equal(created.headers.location, '/v1/flags/new-checkout')
  t.match(created.body, {
    key: 'new-checkout',
    project: 'default',
    type: 'release',
    owner: 'payments@example.com',
    tags: ['checkout', 'team:payments'],
    impressionData: false,
    stale: false,
    archived: false,
    dependencies: [],
  })
  t.same(created.body.rings, [
    {
      ring: 'ring-0',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '25', stickiness: 'default', groupId: 'new-checkout' },
          constraints: [{ contextName: 'country', operator: 'IN', values: ['NO', 'SE'] }],
          segments: [],
          variants: [],
        },
      ],
    },
  ])
  t.same(created.body.variants[1].payload, { type: 'json', value: '{"color":"green"}' })

  const fetched = await api.request({ method: 'GET', url: '/v1/flags/new-checkout' })
  t.same(fetched.body, created.body)

  // A definition change can alter answers in every ring, so every ring gets a revision.
  t.equal(await revisionOf(api, 'ring-0'), 1)
  t.equal(await revisionOf(api, 'ring-1'), 1)
  const changes = await api.app.store.read.flagRevisions.listChanges('ring-1', 0, 10)
  t.match(changes, [{ ring: 'ring-1', revision: 1, kind: 'flag', name: 'new-checkout' }])

  const again = await api.request({
    method: 'PUT',
    url: '/v1/flags/new-checkout',
    body: checkoutFlag,
  })
  t.equal(again.status, 200)
  t.equal(await revisionOf(api, 'ring-0'), 1, 'an identical put is not a change')
  const audit = await auditOf(api, 'flag:new-checkout')
  t.same(
    audit.map((event) => event.action),
    ['flag.created'],
  )
  t.equal(audit[0]?.data.before, null)
  t.match(audit[0]?.data.after, { key: 'new-checkout' })

  const changed = await api.request({
    method: 'PUT',
    url: '/v1/flags/new-checkout',
    body: { ...checkoutFlag, description: 'Checkout v2', rings: undefined },
  })
  t.equal(changed.status, 200)
  t.equal(changed.body.description, 'Checkout v2')
  t.equal(changed.body.rings.length, 1, 'rings left out of the body keep their state')
  t.equal(await revisionOf(api, 'ring-0'), 2)
  const [, updated] = await auditOf(api, 'flag:new-checkout')
  t.equal(updated?.action, 'flag.updated')
  t.match(updated?.data, {
    before: { description: 'New checkout flow' },
    after: { description: 'Checkout v2' },
  })
})

t.test('a ring is switched and given strategies without touching other rings', async (t) => {
  const api = await withRings(t)
  await api.request({ method: 'PUT', url: '/v1/flags/search-v2', body: { type: 'experiment' } })
  const before0 = await revisionOf(api, 'ring-0')
  const before1 = await revisionOf(api, 'ring-1')

  const enabled = await api.request({
    method: 'PATCH',
    url: '/v1/flags/search-v2/rings/ring-1',
    body: { enabled: true },
  })
  t.equal(enabled.status, 200)
  t.same(enabled.body.rings, [{ ring: 'ring-1', enabled: true, strategies: [] }])
  t.equal(await revisionOf(api, 'ring-1'), before1 + 1)
  t.equal(await revisionOf(api, 'ring-0'), before0, 'ring-0 answers cannot change')

  const strategies = await api.request({
    method: 'PUT',
    url: '/v1/flags/search-v2/rings/ring-1/strategies',
    body: { strategies: [{ name: 'userWithId', parameters: { userIds: 'ann,bob' } }] },
  })
  t.equal(strategies.status, 200)
  t.same(strategies.body.rings[0], {
    ring: 'ring-1',
    enabled: true,
    strategies: [
      {
        name: 'userWithId',
        parameters: { userIds: 'ann,bob' },
        constraints: [],
        segments: [],
        variants: [],
      },
    ],
  })
  t.equal(await revisionOf(api, 'ring-1'), before1 + 2)
  const audit = await auditOf(api, 'flag:search-v2:ring-1')
  t.same(
    audit.map((event) => event.action),
    ['flag.ring-changed', 'flag.ring-changed'],
  )
  t.match(audit[1]?.data, { before: { enabled: true, strategies: [] }, after: { enabled: true } })

  const unknownRing = await api.request({
    method: 'PATCH',
    url: '/v1/flags/search-v2/rings/ring-7',
    body: { enabled: true },
  })
  t.equal(unknownRing.status, 404)
  t.equal(unknownRing.body.type, '/problems/ring-not-found')
  const unknownFlag = await api.request({
    method: 'PATCH',
    url: '/v1/flags/nothing-here/rings/ring-1',
    body: { enabled: true },
  })
  t.equal(unknownFlag.status, 404)
  t.equal(unknownFlag.body.type, '/problems/flag-not-found')

  const unknownRingInPut = await api.request({
    method: 'PUT',
    url: '/v1/flags/search-v2',
    body: { rings: { 'ring-9': { enabled: true } } },
  })
  t.equal(unknownRingInPut.status, 404)
  t.equal(unknownRingInPut.body.type, '/problems/ring-not-found')
})

const strategy = (overrides: Record<string, unknown>) => ({
  name: 'flexibleRollout',
  parameters: { rollout: '50', stickiness: 'default', groupId: 'g' },
  ...overrides,
})
const inRing0 = (strategies: unknown[]) => ({
  rings: { 'ring-0': { enabled: true, strategies } },
})

const invalidFlags: [string, unknown, string, RegExp][] = [
  [
    'unknown strategy',
    inRing0([{ name: 'gradualRolloutEveryone' }]),
    'body/rings/ring-0/strategies/0/name',
    /unknown strategy "gradualRolloutEveryone"; use one of default, userWithId/,
  ],
  [
    'unknown operator',
    inRing0([strategy({ constraints: [{ contextName: 'a', operator: 'LIKE', values: ['x'] }] })]),
    'body/rings/ring-0/strategies/0/constraints/0/operator',
    /unknown operator "LIKE"/,
  ],
  [
    'rollout above 100',
    inRing0([strategy({ parameters: { rollout: '150', stickiness: 'default', groupId: 'g' } })]),
    'body/rings/ring-0/strategies/0/parameters/rollout',
    /rollout "150" must be a number from 0 to 100/,
  ],
  [
    'variant weights of zero',
    {
      variants: [
        { name: 'a', weight: 0 },
        { name: 'b', weight: 0 },
      ],
    },
    'body/variants',
    /variant weights add up to 0/,
  ],
  [
    'an invalid regex',
    inRing0([
      strategy({ constraints: [{ contextName: 'email', operator: 'REGEX', value: '(a' }] }),
    ]),
    'body/rings/ring-0/strategies/0/constraints/0/value',
    /regular expression|regex/i,
  ],
  [
    'an invalid semver',
    inRing0([
      strategy({ constraints: [{ contextName: 'version', operator: 'SEMVER_GT', value: '1.x' }] }),
    ]),
    'body/rings/ring-0/strategies/0/constraints/0/value',
    /semver|version/i,
  ],
  [
    'an invalid date',
    inRing0([
      strategy({
        constraints: [{ contextName: 'currentTime', operator: 'DATE_AFTER', value: 'tomorrow' }],
      }),
    ]),
    'body/rings/ring-0/strategies/0/constraints/0/value',
    /date/i,
  ],
  [
    'a missing parent',
    { dependencies: [{ feature: 'no-such-parent' }] },
    'body/dependencies/0/feature',
    /parent flag "no-such-parent" does not exist/,
  ],
  [
    'an unknown segment',
    inRing0([strategy({ segments: ['beta-testers'] })]),
    'body/rings/ring-0/strategies/0/segments/0',
    /segment 'beta-testers' does not exist; create it with PUT \/v1\/segments\/beta-testers/,
  ],
]

t.test(
  'invalid flags are refused with the field and a reason, and nothing is written',
  async (t) => {
    const api = await withRings(t)
    for (const [label, body, path, message] of invalidFlags) {
      const response = await api.request({ method: 'PUT', url: '/v1/flags/bad-flag', body })
      t.equal(response.status, 400, label)
      t.equal(response.body.type, '/problems/invalid-flag', `${label}: type`)
      const problem = response.body.errors?.find((error: { path: string }) => error.path === path)
      t.ok(problem, `${label}: names ${path} (got ${JSON.stringify(response.body.errors)})`)
      t.match(problem?.message ?? '', message, `${label}: message`)
      t.match(response.body.detail, path, `${label}: the detail names the field`)
    }
    const missing = await api.request({ method: 'GET', url: '/v1/flags/bad-flag' })
    t.equal(missing.status, 404, 'no invalid flag was stored')
    t.equal(await revisionOf(api, 'ring-0'), 0)
  },
)

t.test('dependencies stay one level deep, so cycles cannot form', async (t) => {
  const api = await withRings(t)
  t.equal((await api.request({ method: 'PUT', url: '/v1/flags/parent', body: {} })).status, 201)
  const child = await api.request({
    method: 'PUT',
    url: '/v1/flags/child',
    body: { dependencies: [{ feature: 'parent', enabled: true }] },
  })
  t.equal(child.status, 201)
  t.same(child.body.dependencies, [{ feature: 'parent', enabled: true }])

  const cycle = await api.request({
    method: 'PUT',
    url: '/v1/flags/parent',
    body: { dependencies: [{ feature: 'child' }] },
  })
  t.equal(cycle.status, 400)
  t.equal(cycle.body.type, '/problems/invalid-flag')
  t.ok(
    cycle.body.errors.some(
      (error: { message: string }) =>
        error.message === 'dependency cycle: "parent" -> "child" -> "parent"',
    ),
    `the cycle is named (got ${JSON.stringify(cycle.body.errors)})`,
  )
  await api.request({ method: 'PUT', url: '/v1/flags/other', body: {} })
  const parentOfChild = await api.request({
    method: 'PUT',
    url: '/v1/flags/parent',
    body: { dependencies: [{ feature: 'other' }] },
  })
  t.equal(parentOfChild.status, 400, 'a parent cannot get a parent of its own')
  t.match(parentOfChild.body.detail, "flag 'parent' is a parent of 'child'")

  const grandchild = await api.request({
    method: 'PUT',
    url: '/v1/flags/grandchild',
    body: { dependencies: [{ feature: 'child' }] },
  })
  t.equal(grandchild.status, 400)
  t.match(grandchild.body.errors[0].message, 'has dependencies of its own')

  const self = await api.request({
    method: 'PUT',
    url: '/v1/flags/narcissus',
    body: { dependencies: [{ feature: 'narcissus' }] },
  })
  t.equal(self.status, 400)
  t.match(self.body.errors[0].message, 'cannot depend on itself')

  const archiveParent = await api.request({ method: 'DELETE', url: '/v1/flags/parent' })
  t.equal(archiveParent.status, 409)
  t.equal(archiveParent.body.type, '/problems/flag-has-dependents')
  t.same(archiveParent.body.dependents, ['child'])
})

t.test('archiving hides a flag until it is put again', async (t) => {
  const api = await withRings(t)
  await api.request({ method: 'PUT', url: '/v1/flags/old-banner', body: { tags: ['ui'] } })
  const archived = await api.request({ method: 'DELETE', url: '/v1/flags/old-banner' })
  t.equal(archived.status, 200)
  t.equal(archived.body.archived, true)
  t.equal(await revisionOf(api, 'ring-0'), 2, 'SDKs are told the flag is gone')

  const listed = await api.request({ method: 'GET', url: '/v1/flags' })
  t.same(listed.body.flags, [])
  const withArchived = await api.request({ method: 'GET', url: '/v1/flags?archived=true' })
  t.same(
    withArchived.body.flags.map((flag: { key: string }) => flag.key),
    ['old-banner'],
  )
  const ringChange = await api.request({
    method: 'PATCH',
    url: '/v1/flags/old-banner/rings/ring-0',
    body: { enabled: true },
  })
  t.equal(ringChange.status, 404, 'an archived flag cannot be switched on')

  const revived = await api.request({ method: 'PUT', url: '/v1/flags/old-banner', body: {} })
  t.equal(revived.status, 201)
  t.equal(revived.body.archived, false)
  const actions = (await auditOf(api, 'flag:old-banner')).map((event) => event.action)
  t.same(actions, ['flag.created', 'flag.archived', 'flag.created'])
})

t.test('flags are listed by tag, type and state in a ring', async (t) => {
  const api = await withRings(t)
  await api.request({
    method: 'PUT',
    url: '/v1/flags/a-release',
    body: { type: 'release', tags: ['web'], rings: { 'ring-0': { enabled: true } } },
  })
  await api.request({
    method: 'PUT',
    url: '/v1/flags/b-kill',
    body: { type: 'kill-switch', tags: ['web', 'ops'] },
  })
  await api.request({ method: 'PUT', url: '/v1/flags/c-experiment', body: { type: 'experiment' } })
  const keys = async (query: string) => {
    const response = await api.request({ method: 'GET', url: `/v1/flags${query}` })
    t.equal(response.status, 200, query)
    return response.body.flags.map((flag: { key: string }) => flag.key)
  }
  t.same(await keys(''), ['a-release', 'b-kill', 'c-experiment'])
  t.same(await keys('?tag=web'), ['a-release', 'b-kill'])
  t.same(await keys('?tag=ops'), ['b-kill'])
  t.same(await keys('?type=experiment'), ['c-experiment'])
  t.same(await keys('?ring=ring-0&enabled=true'), ['a-release'])
  t.same(await keys('?ring=ring-0&enabled=false'), ['b-kill', 'c-experiment'])
  t.same(await keys('?ring=ring-1&enabled=true'), [])
  const noRing = await api.request({ method: 'GET', url: '/v1/flags?enabled=true' })
  t.equal(noRing.status, 400)
  t.equal(noRing.body.type, '/problems/enabled-needs-ring')
  const badType = await api.request({ method: 'GET', url: '/v1/flags?type=toggle' })
  t.equal(badType.status, 400)
  t.equal(badType.body.type, '/problems/validation-failed')
})

t.test('segments are shared, versioned with the rings, and cannot be deleted in use', async (t) => {
  const api = await withRings(t)
  const segment = await api.request({
    method: 'PUT',
    url: '/v1/segments/beta-testers',
    body: {
      description: 'People who asked for early access',
      constraints: [{ contextName: 'userId', operator: 'IN', values: ['ann', 'bob'] }],
    },
  })
  t.equal(segment.status, 201)
  t.match(segment.body, { name: 'beta-testers', description: 'People who asked for early access' })
  t.type(segment.body.id, 'number')
  t.equal(await revisionOf(api, 'ring-1'), 1)

  const flag = await api.request({
    method: 'PUT',
    url: '/v1/flags/early-access',
    body: inRing0([strategy({ segments: ['beta-testers'] })]),
  })
  t.equal(flag.status, 201)
  t.same(flag.body.rings[0].strategies[0].segments, ['beta-testers'])

  const badConstraint = await api.request({
    method: 'PUT',
    url: '/v1/segments/beta-testers',
    body: { constraints: [{ contextName: 'version', operator: 'SEMVER_EQ', value: 'one' }] },
  })
  t.equal(badConstraint.status, 400)
  t.equal(badConstraint.body.errors[0].path, 'body/constraints/0/value')

  const changed = await api.request({
    method: 'PUT',
    url: '/v1/segments/beta-testers',
    body: { constraints: [{ contextName: 'userId', operator: 'IN', values: ['cy'] }] },
  })
  t.equal(changed.status, 200)
  t.equal(changed.body.id, segment.body.id, 'the id SDKs know stays')
  t.equal(await revisionOf(api, 'ring-1'), 3)

  const inUse = await api.request({ method: 'DELETE', url: '/v1/segments/beta-testers' })
  t.equal(inUse.status, 409)
  t.equal(inUse.body.type, '/problems/segment-in-use')
  t.same(inUse.body.flags, ['early-access'])
  t.match(inUse.body.detail, "still used by 'early-access'")

  await api.request({
    method: 'PUT',
    url: '/v1/flags/early-access/rings/ring-0/strategies',
    body: { strategies: [] },
  })
  const deleted = await api.request({ method: 'DELETE', url: '/v1/segments/beta-testers' })
  t.equal(deleted.status, 204)
  const gone = await api.request({ method: 'GET', url: '/v1/segments/beta-testers' })
  t.equal(gone.status, 404)
  t.equal(gone.body.type, '/problems/segment-not-found')
  const listed = await api.request({ method: 'GET', url: '/v1/segments' })
  t.same(listed.body.segments, [])
})

/** What Unleash's /api/client/features returns, fields we do not keep included. */
const unleashBody = {
  version: 2,
  features: [
    {
      name: 'checkout.new-flow',
      type: 'release',
      enabled: true,
      project: 'shop',
      stale: false,
      impressionData: true,
      description: 'New checkout',
      strategies: [
        {
          id: '9ad3d1ac-b0f3-4b2c-9c4e-1b1e7f3c0a11',
          name: 'flexibleRollout',
          title: 'Nordics',
          disabled: false,
          sortOrder: 0,
          parameters: { rollout: 40, stickiness: 'userId', groupId: 'checkout.new-flow' },
          constraints: [
            {
              contextName: 'country',
              operator: 'IN',
              values: ['NO'],
              caseInsensitive: false,
              inverted: false,
            },
          ],
          segments: [7],
          variants: [],
        },
      ],
      variants: [
        { name: 'a', weight: 1000, weightType: 'variable', stickiness: 'default', overrides: [] },
      ],
      dependencies: [],
    },
    {
      name: 'checkout.express',
      type: 'experiment',
      enabled: false,
      project: 'shop',
      strategies: [],
      dependencies: [{ feature: 'checkout.new-flow', enabled: true }],
    },
  ],
  segments: [
    {
      id: 7,
      name: 'Paying customers',
      constraints: [{ contextName: 'plan', operator: 'IN', values: ['pro'] }],
    },
  ],
  query: { project: ['shop'] },
  meta: { revisionId: 42, etag: '"abc:42"', queryHash: 'abc' },
}

t.test('an Unleash client-features body is imported as is, once', async (t) => {
  const api = await withRings(t)
  const imported = await api.request({
    method: 'POST',
    url: '/v1/flags/import',
    body: { ring: 'ring-1', ...unleashBody },
  })
  t.equal(imported.status, 200, JSON.stringify(imported.body))
  t.same(imported.body, {
    ring: 'ring-1',
    flags: ['checkout.new-flow', 'checkout.express'],
    segments: ['Paying customers'],
    revision: 1,
  })
  const flag = await api.request({ method: 'GET', url: '/v1/flags/checkout.new-flow' })
  t.match(flag.body, {
    key: 'checkout.new-flow',
    project: 'shop',
    type: 'release',
    impressionData: true,
    description: 'New checkout',
  })
  t.same(flag.body.variants, [
    { name: 'a', weight: 1000, weightType: 'variable', stickiness: 'default', overrides: [] },
  ])
  t.same(flag.body.rings, [
    {
      ring: 'ring-1',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '40', stickiness: 'userId', groupId: 'checkout.new-flow' },
          constraints: [
            {
              contextName: 'country',
              operator: 'IN',
              values: ['NO'],
              inverted: false,
              caseInsensitive: false,
            },
          ],
          segments: ['Paying customers'],
          variants: [],
        },
      ],
    },
  ])
  const segment = await api.request({ method: 'GET', url: '/v1/segments/Paying%20customers' })
  t.equal(segment.status, 200)
  t.same(segment.body.constraints, [{ contextName: 'plan', operator: 'IN', values: ['pro'] }])

  const again = await api.request({
    method: 'POST',
    url: '/v1/flags/import',
    body: { ring: 'ring-1', ...unleashBody },
  })
  t.equal(again.status, 200)
  t.same(again.body, { ring: 'ring-1', flags: [], segments: [], revision: 1 }, 'nothing changed')
})

t.test('an import with one bad flag writes nothing', async (t) => {
  const api = await withRings(t)
  const [first, second] = unleashBody.features
  const broken = {
    ring: 'ring-0',
    features: [
      first,
      {
        ...second,
        strategies: [
          { name: 'default', constraints: [{ contextName: 'x', operator: 'REGEX', value: '[' }] },
        ],
      },
    ],
    segments: unleashBody.segments,
  }
  const response = await api.request({ method: 'POST', url: '/v1/flags/import', body: broken })
  t.equal(response.status, 400)
  t.equal(response.body.type, '/problems/invalid-flag')
  t.equal(response.body.errors[0].path, 'body/features/1/strategies/0/constraints/0/value')
  const flags = await api.request({ method: 'GET', url: '/v1/flags' })
  t.same(flags.body.flags, [])
  const segments = await api.request({ method: 'GET', url: '/v1/segments' })
  t.same(segments.body.segments, [])

  const unknownRing = await api.request({
    method: 'POST',
    url: '/v1/flags/import',
    body: { ...unleashBody, ring: 'ring-5' },
  })
  t.equal(unknownRing.status, 404)
  t.equal(unknownRing.body.type, '/problems/ring-not-found')
})

t.test('only admins change flags; every control-plane role reads them', async (t) => {
  const api = await withRings(t)
  const viewer = await api.tokenFor('viewer')
  const refused = await api.request({
    method: 'PUT',
    url: '/v1/flags/x',
    body: {},
    token: viewer,
  })
  t.equal(refused.status, 403)
  await api.request({ method: 'PUT', url: '/v1/flags/x', body: {} })
  const read = await api.request({ method: 'GET', url: '/v1/flags/x', token: viewer })
  t.equal(read.status, 200)
  t.equal(read.body.key, 'x')
  const client = await api.tokenFor('client', 'svc', 'ring-0')
  const sdk = await api.request({ method: 'GET', url: '/v1/flags', token: client })
  t.equal(sdk.status, 403, 'SDK tokens do not reach the admin API')
})

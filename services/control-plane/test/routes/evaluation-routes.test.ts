import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { type AdminCall, seedFlags } from '../helpers/flag-fixtures.js'

// POST /v1/evaluate: the answer an SDK would give, and why.

const adminCall =
  (api: TestApp): AdminCall =>
  async (method, url, body) => {
    const response = await api.request({ method, url, body })
    return { status: response.status, body: response.body }
  }

t.test('each answer says which strategy and constraint decided', async (t) => {
  const api = await build(t)
  const ring = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
  const flags = await seedFlags(adminCall(api), ring)
  const viewer = await api.tokenFor('viewer')

  const all = await api.request({
    method: 'POST',
    url: '/v1/evaluate',
    token: viewer,
    body: { ring, context: { userId: 'u3', properties: { plan: 'free', age: 12 } } },
  })
  t.equal(all.status, 200)
  t.equal(all.body.ring, ring)
  t.equal(all.body.revision, await api.app.store.read.flagRevisions.current(ring))
  t.same(
    all.body.results.map((result: { flag: string }) => result.flag),
    flags,
    'every flag of the ring',
  )
  t.same(all.body.context, { userId: 'u3', properties: { plan: 'free', age: '12' } })
  const byFlag = new Map(all.body.results.map((result: { flag: string }) => [result.flag, result]))
  t.match(byFlag.get('beta-plan'), {
    enabled: false,
    decision: { code: 'NO_STRATEGY_MATCHED' },
    strategies: [
      {
        strategyIndex: 0,
        strategyName: 'default',
        matched: false,
        failure: {
          code: 'CONSTRAINT_FAILED',
          contextName: 'plan',
          operator: 'IN',
          values: ['beta', 'pilot'],
          contextValue: 'free',
        },
      },
    ],
    message: /plan/,
  })
  t.match(byFlag.get('listed-users'), {
    enabled: true,
    decision: { code: 'STRATEGY_MATCHED', strategyName: 'userWithId' },
  })
  t.match(byFlag.get('off-in-ring'), { enabled: false, decision: { code: 'FLAG_DISABLED' } })
  t.match(byFlag.get('beta-child'), {
    enabled: false,
    decision: { code: 'DEPENDENCY_UNMET', parent: 'beta-plan', cause: 'PARENT_DISABLED' },
  })
  t.match(byFlag.get('rollout-30'), {
    strategies: [{ failure: { code: 'ROLLOUT_NOT_REACHED', rollout: 30 } }],
  })

  const some = await api.request({
    method: 'POST',
    url: '/v1/evaluate',
    body: { ring, context: {}, flags: ['colours', 'nope'] },
  })
  t.same(
    some.body.results.map((result: { flag: string; decision: { code: string } }) => [
      result.flag,
      result.decision.code,
    ]),
    [
      ['colours', 'STRATEGY_MATCHED'],
      ['nope', 'FLAG_NOT_FOUND'],
    ],
  )

  const unknownRing = await api.request({
    method: 'POST',
    url: '/v1/evaluate',
    body: { ring: 'no-such-ring', context: {} },
  })
  t.equal(unknownRing.status, 404)
  const client = await api.tokenFor('client', undefined, ring)
  t.equal(
    (await api.request({ method: 'POST', url: '/v1/evaluate', token: client, body: { ring } }))
      .status,
    403,
    'SDK tokens may not',
  )
})

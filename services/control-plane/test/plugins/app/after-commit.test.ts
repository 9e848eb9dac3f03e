import type { Effect } from '@ringmaster/domain'
import Fastify from 'fastify'
import t from 'tap'
import { AfterCommit, afterCommitPlugin } from '../../../src/plugins/app/after-commit.js'
import { build, type TestApp, uniqueName } from '../../helpers/build.js'
import { createRelease, createTopology, expectStatus } from '../../helpers/release-fixtures.js'

// Commands record effects in their transaction; the after-commit outlet hands them to the
// workers once the commit succeeded, never after a rollback (plugins/app/after-commit.ts).

/** Calls of `method` on `target` from now on, its own behaviour kept. */
function spyOn<T extends object, K extends keyof T>(
  target: T,
  method: K,
): T[K] extends (...args: infer A) => unknown ? A[] : never {
  const calls: unknown[][] = []
  const original = target[method] as (...args: unknown[]) => unknown
  target[method] = ((...args: unknown[]) => {
    calls.push(args)
    return original.apply(target, args)
  }) as T[K]
  return calls as never
}

/** The next transaction does all its work, then rolls back as a failed COMMIT would. */
function rollBackNextTransaction(api: TestApp): void {
  const store = api.app.store
  const transaction = store.transaction.bind(store)
  store.transaction = async (work) => {
    store.transaction = transaction
    return transaction(async (tx) => {
      await work(tx)
      throw new Error('rolled back on purpose by the test')
    })
  }
}

t.test('ready() fails, naming the kind, while an effect kind has no subscriber', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(afterCommitPlugin)
  app.afterCommit.subscribe('releases-changed', () => {})
  await t.rejects(async () => app.ready(), {
    message: /no after-commit subscriber for effect kind 'token-revoked', 'flags-changed'/,
  })
})

t.test('ready() succeeds once every effect kind has a subscriber', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(afterCommitPlugin)
  app.afterCommit.subscribe('releases-changed', () => {})
  app.afterCommit.subscribe('token-revoked', () => {})
  app.afterCommit.subscribe('flags-changed', () => {})
  await t.resolves(async () => app.ready())
})

t.test('the whole app subscribes to every effect kind', async (t) => {
  const api = await build(t)
  t.strictSame(api.app.afterCommit.unheardKinds(), [])
})

t.test('dispatch hands each effect to the subscribers of its kind only', async (t) => {
  const errors: unknown[] = []
  const log = { error: (...args: unknown[]) => errors.push(args) }
  const outlet = new AfterCommit(log as never)
  const heard: string[] = []
  outlet.subscribe('releases-changed', (effect) => void heard.push(`kick ${effect.releaseIds}`))
  outlet.subscribe('token-revoked', (effect) => void heard.push(`forget ${effect.tokenId}`))
  outlet.subscribe('token-revoked', () => {
    throw new Error('a cache that fails')
  })
  const effects: Effect[] = [
    { kind: 'token-revoked', tokenId: 'tok-1' },
    { kind: 'releases-changed', releaseIds: [4, 5] },
  ]
  await t.resolves(outlet.dispatch(effects), 'a failing subscriber does not fail the command')
  t.strictSame(heard.sort(), ['forget tok-1', 'kick 4,5'])
  t.equal(errors.length, 1, 'the failure is logged')
})

t.test(
  'releases-changed reaches the promotion worker after commit, not after a rollback',
  async (t) => {
    const api = await build(t)
    const kicks = spyOn(api.app.promotionWorker, 'kick')
    const topology = await createTopology(api, [{ scaleUnits: 1 }])
    const pipeline = await api.tokenFor('pipeline')

    const created = await createRelease(api, pipeline, {
      service: topology.service,
      version: '1.0.0',
    })
    t.strictSame(kicks, [[[created.body.id]]], 'the new release was kicked by the time it answered')
    await api.settle()

    kicks.length = 0
    rollBackNextTransaction(api)
    const failed = await api.request({
      method: 'POST',
      url: '/v1/releases',
      token: pipeline,
      body: { service: topology.service, version: '2.0.0' },
    })
    t.equal(failed.status, 500)
    const releases = await api.app.store.read.releases.list({
      service: topology.service,
      limit: 10,
    })
    t.strictSame(
      releases.map((release) => release.version),
      ['1.0.0'],
      'the second release rolled back',
    )
    t.strictSame(kicks, [], 'and nothing was kicked')

    // A command that records its effect and then refuses: the refusal rolls the effect back too.
    const approver = await api.tokenFor('approver')
    await expectStatus(
      api.request({
        method: 'POST',
        url: `/v1/releases/${created.body.id}/promote`,
        token: approver,
        body: { reason: 'too early' },
      }),
      409,
    )
    t.strictSame(kicks, [], 'a refused promotion kicks nothing')
  },
)

t.test(
  'token-revoked reaches the SDK token cache after commit, not after a rollback',
  async (t) => {
    const api = await build(t)
    const forgotten = spyOn(api.app.sdkTokens, 'forget')
    const ring = uniqueName('ring')
    await expectStatus(
      api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } }),
      201,
    )
    const create = () =>
      expectStatus(
        api.request({
          method: 'POST',
          url: '/v1/tokens',
          body: { name: uniqueName('web'), role: 'frontend', subject: 'web', ring },
        }),
        201,
      )
    const kept = (await create()).body.token.id as string
    rollBackNextTransaction(api)
    const failed = await api.request({ method: 'DELETE', url: `/v1/tokens/${kept}` })
    t.equal(failed.status, 500)
    t.equal((await api.app.store.read.apiTokens.findById(kept))?.revokedAt, null, 'still live')
    t.strictSame(forgotten, [], 'the cache was not told')

    const revoked = (await create()).body.token.id as string
    await expectStatus(api.request({ method: 'DELETE', url: `/v1/tokens/${revoked}` }), 200)
    t.ok(
      forgotten.some(([tokenId]) => tokenId === revoked),
      'the cache forgot it by the time the revocation answered',
    )
    t.notOk(forgotten.some(([tokenId]) => tokenId === kept))
  },
)

t.test(
  'flags-changed refreshes the flag snapshot after commit, not after a rollback',
  async (t) => {
    const api = await build(t)
    const refreshed = spyOn(api.app.flagSnapshots, 'refresh')
    const ring = uniqueName('ring')
    await expectStatus(
      api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } }),
      201,
    )
    const body = { rings: { [ring]: { enabled: true, strategies: [{ name: 'default' }] } } }

    rollBackNextTransaction(api)
    const failed = await api.request({ method: 'PUT', url: '/v1/flags/rolled-back', body })
    t.equal(failed.status, 500)
    t.equal(await api.app.store.read.flags.findByKey('rolled-back'), null, 'no flag was stored')
    t.strictSame(refreshed, [], 'no snapshot was refreshed')

    await expectStatus(api.request({ method: 'PUT', url: '/v1/flags/kept', body }), 201)
    t.ok(
      refreshed.some(([refreshedRing]) => refreshedRing === ring),
      'the ring was refreshed by the time the change answered',
    )
  },
)

import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import t from 'tap'
import { build, type TestApp } from '../../helpers/build.js'

// SDK tokens are cached per replica (credentials/sdk-token-cache.ts). A revocation must still reach every
// replica's cache at once: it is announced with NOTIFY when it commits.

async function frontendToken(api: TestApp) {
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: 'ring-0', order: 0 } })
  const created = await api.request({
    method: 'POST',
    url: '/v1/tokens',
    body: { name: 'web', role: 'frontend', subject: 'web', ring: 'ring-0' },
  })
  return { id: created.body.token.id as string, secret: created.body.secret as string }
}

const poll = (api: TestApp, secret: string) =>
  api.request({ method: 'GET', url: '/api/frontend?userId=u1', token: secret })

/**
 * The token ids whose revocation notice reached this replica's cache. A refused token alone does
 * not show the notice arrived: the cache also lets a token go after 10 s.
 */
function forgottenTokens(api: TestApp): string[] {
  const forgotten: string[] = []
  const cache = api.app.sdkTokens
  const forget = cache.forget.bind(cache)
  cache.forget = (tokenId) => {
    forgotten.push(tokenId)
    forget(tokenId)
  }
  return forgotten
}

async function eventually(check: () => Promise<boolean>, what: string) {
  // Generous for a busy machine; which path refused the token is asserted separately.
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting until ${what}`)
}

t.test('a revocation written by anyone reaches the cache through the notification', async (t) => {
  const api = await build(t)
  const forgotten = forgottenTokens(api)
  const token = await frontendToken(api)
  t.equal((await poll(api, token.secret)).status, 200, 'the token is checked and cached')
  // Straight through the store, as another replica would: the service's own callback never runs.
  await api.app.store.transaction((tx) => tx.apiTokens.revoke(token.id, new Date().toISOString()))
  await eventually(
    async () => (await poll(api, token.secret)).status === 401,
    'the revoked token is refused',
  )
  const refused = await poll(api, token.secret)
  t.equal(refused.body.type, '/problems/invalid-token')
  t.strictSame(forgotten, [token.id], 'the notice dropped it from the cache')
})

t.test(
  'a token revoked on one replica stops working on the other',
  {
    skip:
      testDatabaseKind === 'pglite' &&
      'needs PostgreSQL: PGlite is one process, so there is no other replica (the test above covers the notification path)',
  },
  async (t) => {
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    const first = await build(t, { database: database.target })
    const second = await build(t, { database: database.target })
    const forgotten = forgottenTokens(second)
    const token = await frontendToken(first)
    t.equal((await poll(second, token.secret)).status, 200, 'the second replica cached it')
    const revoked = await first.request({ method: 'DELETE', url: `/v1/tokens/${token.id}` })
    t.equal(revoked.status, 200)
    await eventually(
      async () => (await poll(second, token.secret)).status === 401,
      'the second replica refuses the token',
    )
    const refused = await poll(second, token.secret)
    t.equal(refused.body.type, '/problems/invalid-token', 'the second replica refuses the token')
    t.strictSame(forgotten, [token.id], 'because the notice reached its cache')
  },
)

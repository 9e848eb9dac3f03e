import { type Actor, UnauthenticatedError } from '@ringmaster/domain'
import t from 'tap'
import { SdkTokenCache } from '../../src/credentials/sdk-token-cache.js'

const actor = (role: Actor['role']): Actor => ({
  tokenId: `${role}-id`,
  tokenName: role,
  subject: role,
  role,
  ring: role === 'client' || role === 'frontend' ? 'ring-0' : null,
})

/** An authenticator that counts calls and can be told to fail like a database or like a token. */
function authenticator() {
  const state = { calls: 0, mode: 'ok' as 'ok' | 'database-down' | 'revoked' }
  const authenticate = async (secret: string) => {
    state.calls++
    if (state.mode === 'database-down') throw new Error('connect ECONNREFUSED')
    if (state.mode === 'revoked') throw new UnauthenticatedError('invalid-token', 'not valid')
    return actor(secret.startsWith('client') ? 'client' : 'admin')
  }
  return { state, authenticate }
}

t.test('SDK tokens are checked once per freshness window', async (t) => {
  const { state, authenticate } = authenticator()
  const cache = new SdkTokenCache(authenticate, 60_000)
  for (let i = 0; i < 5; i++) t.equal((await cache.actorFor('client-secret')).role, 'client')
  t.equal(state.calls, 1)
  for (let i = 0; i < 3; i++) await cache.actorFor('admin-secret')
  t.equal(state.calls, 4, 'control-plane tokens are never cached')
})

t.test('database down: a token valid before stays valid; a new one is not', async (t) => {
  const { state, authenticate } = authenticator()
  const cache = new SdkTokenCache(authenticate, 0)
  await cache.actorFor('client-secret')
  state.mode = 'database-down'
  t.equal((await cache.actorFor('client-secret')).role, 'client')
  await t.rejects(async () => cache.actorFor('client-other'), /ECONNREFUSED/)
  await t.rejects(async () => cache.actorFor('admin-secret'), /ECONNREFUSED/)
})

t.test('a revoked token is forgotten once a background re-check sees it', async (t) => {
  const { state, authenticate } = authenticator()
  const cache = new SdkTokenCache(authenticate, 0)
  await cache.actorFor('client-secret')
  state.mode = 'revoked'
  t.equal(
    (cache.actorFor('client-secret') as Actor).role,
    'client',
    'the poll that finds it stale is answered from the cache',
  )
  await cache.settled()
  await t.rejects(async () => cache.actorFor('client-secret'), UnauthenticatedError)
  state.mode = 'database-down'
  await t.rejects(
    async () => cache.actorFor('client-secret'),
    /ECONNREFUSED/,
    'not remembered any more',
  )
})

/** An authenticator whose answers wait until the test lets them go, like a blackholed database. */
function hangingAuthenticator() {
  const waiting: { secret: string; resolve: (actor: Actor) => void; reject: (e: Error) => void }[] =
    []
  let hang = false
  const authenticate = (secret: string) =>
    hang
      ? new Promise<Actor>((resolve, reject) => waiting.push({ secret, resolve, reject }))
      : Promise.resolve(actor('client'))
  return {
    waiting,
    authenticate,
    hangFromNowOn: () => {
      hang = true
    },
  }
}

t.test('a stale token answers at once while its re-check hangs', async (t) => {
  let now = 1_000_000
  const database = hangingAuthenticator()
  const cache = new SdkTokenCache(database.authenticate, 10_000, 100, { now: () => now })
  await cache.actorFor('client-secret')
  database.hangFromNowOn()
  now += 10_000
  for (let poll = 0; poll < 50; poll++) {
    const answer = cache.actorFor('client-secret')
    t.notOk(answer instanceof Promise, `poll ${poll} does not wait`)
    t.equal((answer as Actor).role, 'client')
  }
  t.equal(database.waiting.length, 1, 'one re-check for the token, not one per poll')
  database.waiting[0]!.reject(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'))
  await cache.settled()
  t.equal((cache.actorFor('client-secret') as Actor).role, 'client', 'a failed re-check keeps it')
  t.equal(database.waiting.length, 1, 'and the next re-check waits for the next window')
  now += 10_000
  cache.actorFor('client-secret')
  t.equal(database.waiting.length, 2, 'tried again a window later')
  database.waiting[1]!.resolve(actor('client'))
  await cache.settled()
  now += 9_999
  cache.actorFor('client-secret')
  t.equal(database.waiting.length, 2, 'fresh again after a re-check that answered')
})

t.test('re-checks running at once are bounded, so an outage cannot pile them up', async (t) => {
  let now = 1_000_000
  const database = hangingAuthenticator()
  const cache = new SdkTokenCache(database.authenticate, 10_000, 100, {
    now: () => now,
    maxRevalidations: 3,
  })
  for (let i = 0; i < 10; i++) await cache.actorFor(`client-${i}`)
  database.hangFromNowOn()
  now += 10_000
  for (let i = 0; i < 10; i++) t.equal((cache.actorFor(`client-${i}`) as Actor).role, 'client')
  t.equal(database.waiting.length, 3, 'three re-checks, the other tokens answer without one')
  for (const waiting of database.waiting) waiting.resolve(actor('client'))
  await cache.settled()
  for (let i = 0; i < 10; i++) cache.actorFor(`client-${i}`)
  t.equal(database.waiting.length, 6, 'the next polls start the next ones')
  for (const waiting of database.waiting.slice(3)) waiting.resolve(actor('client'))
  await cache.settled()
})

t.test(
  'a re-check that answers after a revocation notice does not bring the token back',
  async (t) => {
    let now = 1_000_000
    const database = hangingAuthenticator()
    const cache = new SdkTokenCache(database.authenticate, 10_000, 100, { now: () => now })
    await cache.actorFor('client-secret')
    database.hangFromNowOn()
    now += 10_000
    cache.actorFor('client-secret')
    cache.forget('client-id')
    database.waiting[0]!.resolve(actor('client'))
    await cache.settled()
    const next = cache.actorFor('client-secret')
    t.ok(next instanceof Promise, 'the token is checked against the database again')
    t.equal(database.waiting.length, 2)
    database.waiting[1]!.reject(new UnauthenticatedError('invalid-token', 'revoked'))
    await t.rejects(next as Promise<Actor>, UnauthenticatedError)
  },
)

t.test('the cache holds a bounded number of tokens', async (t) => {
  const { state, authenticate } = authenticator()
  const cache = new SdkTokenCache(authenticate, 60_000, 2)
  await cache.actorFor('client-1')
  await cache.actorFor('client-2')
  await cache.actorFor('client-3')
  const before = state.calls
  await cache.actorFor('client-1')
  t.equal(state.calls, before + 1, 'the oldest was dropped')
  await cache.actorFor('client-3')
  t.equal(state.calls, before + 1)
})

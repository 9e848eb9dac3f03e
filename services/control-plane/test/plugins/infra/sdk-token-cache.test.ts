import { type Actor, UnauthenticatedError } from '@ringmaster/domain'
import t from 'tap'
import { SdkTokenCache } from '../../../src/plugins/infra/sdk-token-cache.js'

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

t.test('a revoked token is forgotten as soon as it is checked again', async (t) => {
  const { state, authenticate } = authenticator()
  const cache = new SdkTokenCache(authenticate, 0)
  await cache.actorFor('client-secret')
  state.mode = 'revoked'
  await t.rejects(async () => cache.actorFor('client-secret'), UnauthenticatedError)
  state.mode = 'database-down'
  await t.rejects(
    async () => cache.actorFor('client-secret'),
    /ECONNREFUSED/,
    'not remembered any more',
  )
})

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

import t from 'tap'
import type { RingmasterClient } from '../src/index.js'

/**
 * Never called: `pnpm typecheck` compiles it, and each @ts-expect-error fails the typecheck
 * when the line under it stops being an error, so paths and bodies stay checked against the spec.
 */
export async function typeChecks(client: RingmasterClient) {
  const release = await client.get('/v1/releases/{id}', { params: { path: { id: 1 } } })
  const version: string = release.version
  // @ts-expect-error a release has no `name`
  release.name

  // @ts-expect-error the path is not in the spec
  await client.get('/v1/relaeses')
  // @ts-expect-error POST /v1/releases needs a body
  await client.post('/v1/releases')
  // @ts-expect-error `servic` is not a field of a release
  await client.post('/v1/releases', { body: { servic: 'checkout', version: '1.0.0' } })
  // @ts-expect-error `version` is a string
  await client.post('/v1/releases', { body: { service: 'checkout', version: 1 } })
  // @ts-expect-error the release id is a path parameter, and it is required
  await client.get('/v1/releases/{id}')
  // @ts-expect-error releases cannot be deleted
  await client.delete('/v1/releases/{id}', { params: { path: { id: 1 } } })
  // @ts-expect-error the raw client is typed the same way
  await client.raw.POST('/v1/services', { body: { nme: 'checkout' } })

  const deleted: undefined = await client.delete('/v1/rings/{name}', {
    params: { path: { name: 'ring-0' } },
    idempotencyKey: 'pipeline-step-7',
  })
  return { version, deleted }
}

t.pass('the type checks compile (see pnpm typecheck)')

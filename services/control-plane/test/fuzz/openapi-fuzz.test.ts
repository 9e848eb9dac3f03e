import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { testDatabaseKind } from '@ringmaster/db/testing'
import t from 'tap'
import { build, uniqueName } from '../helpers/build.js'

// A seeded property test over every operation of openapi/control-plane.json: whatever is sent
// (hostile text, huge numbers, wrong types, extra fields, bad JSON, wrong content types, bad
// percent-encoding, over-long parameters and queries), the answer is never a 5xx, and every
// 4xx is application/problem+json with a `type`. The seed is printed; to replay a run:
//   RINGMASTER_FUZZ_SEED=<seed> node ../../packages/db/dist/testing/run-with-databases.js tap test/fuzz/openapi-fuzz.test.ts
// RINGMASTER_FUZZ_REQUESTS sets how many requests a pass sends (default 2,000).

const seed = Number(process.env.RINGMASTER_FUZZ_SEED ?? randomInt(2 ** 31))
const requestCount = Number(process.env.RINGMASTER_FUZZ_REQUESTS ?? 2_000)

/** mulberry32: small, fast and the same on every machine, so a seed replays a run exactly. */
function seededRandom(start: number) {
  let state = start >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
  const int = (below: number) => Math.floor(next() * below)
  return {
    chance: (probability: number) => next() < probability,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
  }
}
type Random = ReturnType<typeof seededRandom>

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON.
type Json = any

const openapi: Json = JSON.parse(
  readFileSync(new URL('../../../../openapi/control-plane.json', import.meta.url), 'utf8'),
)

interface Operation {
  id: string
  method: string
  path: string
  parameters: Json[]
  body: Json | undefined
  streams: boolean
  responses: Json
}

/** A components entry for a `$ref` (#/components/<section>/<name>), or the item itself. */
function component(item: Json): Json {
  const ref = item?.$ref
  if (typeof ref !== 'string') return item
  const [, , section, name] = ref.split('/')
  return openapi.components[section!][name!]
}

const operations: Operation[] = Object.entries(openapi.paths as Record<string, Json>).flatMap(
  ([path, byMethod]) =>
    Object.entries(byMethod as Record<string, Json>).map(([method, operation]) => {
      const responses = Object.fromEntries(
        Object.entries((operation.responses ?? {}) as Record<string, Json>).map(
          ([status, response]) => [status, component(response)],
        ),
      )
      return {
        id: operation.operationId,
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map(component),
        body: operation.requestBody?.content?.['application/json']?.schema,
        streams: JSON.stringify(responses).includes('text/event-stream'),
        responses,
      }
    }),
)

/** A number JSON.stringify cannot write (1e309 parses to Infinity); written into the text as is. */
class RawNumber {
  constructor(readonly text: string) {}
}

const hostileStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u001b[31mred',
  'line\r\nInjected: header',
  '\u0085\u009f',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '🚀 é ß 中文',
  '%zz',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  'null',
  'x'.repeat(10_000),
  'ring-0',
  '2030-01-01T00:00:00Z',
]

const hostileNumbers = [
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  new RawNumber('9223372036854775808'),
  new RawNumber('99999999999999999999999'),
  new RawNumber('1e309'),
  new RawNumber('-1e309'),
  new RawNumber('1e-400'),
]

const hostileTextNumbers = [
  '99999999999999999999999',
  '9223372036854775808',
  'Infinity',
  '-Infinity',
  '1e309',
  'NaN',
  '-1',
  '0',
  '1.5',
  '0x10',
  '',
]

/** The schema itself: references followed, and a model wrapped to add a default unwrapped. */
function resolve(schema: Json): Json {
  if (schema?.$ref) return resolve(component(schema))
  if (schema?.allOf?.length === 1) return resolve(schema.allOf[0])
  return schema
}

/** A value for `schema`: mostly plausible, sometimes hostile, sometimes of the wrong type. */
function valueFor(schema: Json, random: Random, depth = 0): unknown {
  const resolved = resolve(schema) ?? {}
  if (random.chance(0.08)) return wrongType(random)
  const variants = resolved.anyOf ?? resolved.oneOf
  if (variants) return valueFor(random.pick(variants), random, depth + 1)
  if (resolved.enum && random.chance(0.8)) return random.pick(resolved.enum)
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type]
  const type = random.pick(types)
  switch (type) {
    case 'null':
      return null
    case 'boolean':
      return random.chance(0.5)
    case 'integer':
    case 'number':
      if (random.chance(0.4)) return random.pick(hostileNumbers)
      return random.int(5) + (type === 'number' && random.chance(0.5) ? 0.25 : 0)
    case 'string':
      if (random.chance(0.35)) return random.pick(hostileStrings)
      if (resolved.format === 'date-time')
        return new Date(Date.UTC(2030, 0, 1 + random.int(30))).toISOString()
      if (resolved.format === 'uuid') return '00000000-0000-4000-8000-000000000000'
      if (resolved.format === 'uri') return 'https://example.com/hook'
      return random.pick(['ring-0', 'checkout', 'a', 'new-checkout', `x${random.int(1000)}`])
    case 'array': {
      if (depth > 4) return []
      return Array.from({ length: random.int(4) }, () =>
        valueFor(resolved.items ?? {}, random, depth + 1),
      )
    }
    default: {
      if (depth > 4) return {}
      const value: Record<string, unknown> = {}
      const required = new Set<string>(resolved.required ?? [])
      for (const [name, property] of Object.entries(
        (resolved.properties ?? {}) as Record<string, Json>,
      )) {
        if (required.has(name) ? random.chance(0.95) : random.chance(0.5)) {
          value[name] = valueFor(property, random, depth + 1)
        }
      }
      if (random.chance(0.1))
        value[random.pick(['extra', 'owner\u0000', '__proto__x', 'x'.repeat(300)])] = 1
      const additional = resolved.additionalProperties ?? resolved.patternProperties?.['^.*$']
      if (additional && typeof additional === 'object' && random.chance(0.5)) {
        value[random.pick(['k', 'key-1', 'a\u0000', '🚀'])] = valueFor(
          additional,
          random,
          depth + 1,
        )
      }
      return value
    }
  }
}

function wrongType(random: Random): unknown {
  return random.pick([null, true, 0, 'text', [], {}, [1, 'a'], { nested: { deep: [null] } }])
}

/** JSON text of a value, with each RawNumber written as its text. */
function jsonText(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_key, item) => {
    if (item instanceof RawNumber) {
      raws.push(item.text)
      return `\u0001raw${raws.length - 1}\u0001`
    }
    return item
  })
  return (text ?? 'null').replace(
    /"\\u0001raw(\d+)\\u0001"/g,
    (_match, index) => raws[Number(index)]!,
  )
}

/** A path or query value as text: encoded, or left raw to break percent-encoding or length. */
function textValue(schema: Json, random: Random): string {
  const resolved = resolve(schema) ?? {}
  const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type
  if ((type === 'integer' || type === 'number') && random.chance(0.6))
    return random.pick(hostileTextNumbers)
  const value = valueFor(resolved, random)
  const text =
    value instanceof RawNumber
      ? value.text
      : typeof value === 'object'
        ? jsonText(value)
        : String(value)
  try {
    return encodeURIComponent(text)
  } catch {
    // An unpaired surrogate has no UTF-8 form; its CESU-8 bytes are what a careless client sends.
    return '%ED%A0%80'
  }
}

interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string
}

function requestFor(
  operation: Operation,
  random: Random,
  tokens: Record<string, string>,
): FuzzRequest {
  let url = operation.path.replace(/\{([^}]+)\}/g, () => {
    const roll = random.int(20)
    if (roll === 0) return '%zz'
    if (roll === 1) return '%E0%A4%A'
    if (roll === 2) return 'a'.repeat(101 + random.int(200))
    const parameter = operation.parameters.find((item: Json) => item.in === 'path')
    return textValue(parameter?.schema ?? { type: 'string' }, random) || 'x'
  })
  const query: string[] = []
  for (const parameter of operation.parameters.filter((item: Json) => item.in === 'query')) {
    if (random.chance(0.5)) query.push(`${parameter.name}=${textValue(parameter.schema, random)}`)
  }
  if (random.chance(0.1))
    query.push(random.pick(['extra=1', 'a=%zz', `q=${'x'.repeat(20_000)}`, 'limit=1e309']))
  if (query.length > 0) url += `?${query.join('&')}`

  const token = operation.path.startsWith('/api/frontend')
    ? tokens.frontend!
    : operation.path.startsWith('/api/client') || operation.path.startsWith('/ofrep')
      ? tokens.client!
      : tokens.admin!
  const headers: Record<string, string> = {
    authorization: operation.path.startsWith('/v1') ? `Bearer ${token}` : token,
  }
  if (random.chance(0.1)) headers['idempotency-key'] = random.pick(['k-1', 'x'.repeat(300), ' '])

  const hasBody = operation.body !== undefined || random.chance(0.05)
  if (!hasBody || operation.method === 'GET') return { method: operation.method, url, headers }
  const roll = random.int(100)
  let payload: string
  if (roll < 6)
    payload = random.pick(['{', '{"a":', '[]', 'null', '"text"', '1e309', '{"a":1}}', '\u0000'])
  else payload = jsonText(valueFor(operation.body ?? { type: 'object' }, random))
  headers['content-type'] =
    roll >= 6 && roll < 12
      ? random.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/xml',
          'application/json; charset=latin1',
          'multipart/form-data; boundary=x',
        ])
      : 'application/json'
  return { method: operation.method, url, headers, payload }
}

interface Failure {
  request: string
  status: number
  why: string
  body: string
}

/**
 * A 4xx is a problem document, unless the operation documents another shape for that status
 * (OFREP answers its own `errorCode` objects, as the OpenFeature protocol says).
 */
function judge(
  request: FuzzRequest,
  status: number,
  contentType: string,
  body: string,
  operation?: Operation,
): Failure | undefined {
  const summary = `${request.method} ${request.url.slice(0, 160)}`
  const failure = (why: string) => ({ request: summary, status, why, body: body.slice(0, 300) })
  if (status >= 500) return failure('a 5xx')
  if (status < 400) return undefined
  const documented = Object.keys(operation?.responses?.[String(status)]?.content ?? {})
  const mediaType = contentType.split(';')[0]!.trim()
  if (mediaType !== 'application/problem+json' && documented.includes(mediaType)) return undefined
  if (mediaType !== 'application/problem+json') return failure(`content type ${contentType}`)
  try {
    const problem = JSON.parse(body)
    if (typeof problem.type !== 'string' || problem.status !== status)
      return failure('no type or status')
  } catch {
    return failure('not JSON')
  }
  return undefined
}

t.test(
  `every operation, ${requestCount} requests, seed ${seed} (${testDatabaseKind})`,
  async (t) => {
    t.comment(`fuzz seed ${seed}: replay with RINGMASTER_FUZZ_SEED=${seed}`)
    const api = await build(t)
    const ring = uniqueName('ring')
    await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
    await api.request({ method: 'POST', url: '/v1/services', body: { name: 'checkout' } })
    await api.request({
      method: 'PUT',
      url: '/v1/flags/new-checkout',
      body: { rings: { [ring]: { enabled: true, strategies: [{ name: 'default' }] } } },
    })
    const tokens = {
      admin: api.adminToken,
      client: await api.tokenFor('client', undefined, ring),
      frontend: await api.tokenFor('frontend', undefined, ring),
    }
    const random = seededRandom(seed)
    // Server-sent event streams never end, so inject would wait forever: they are sent only
    // requests that fail before the stream opens (a bad token or bad parameters), over real HTTP
    // below. Everything else is sent through inject.
    const injectable = operations.filter((operation) => !operation.streams)
    const failures: Failure[] = []
    const statuses = new Map<number, number>()
    const reached = new Set<string>()
    for (let sent = 0; sent < requestCount; sent++) {
      // Round robin, so every operation gets its share; what is sent is random.
      const operation = injectable[sent % injectable.length]!
      const request = requestFor(operation, random, tokens)
      const response = await api.app.inject({
        method: request.method as 'GET',
        url: request.url,
        headers: request.headers,
        ...(request.payload !== undefined && { payload: request.payload }),
      })
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      if (response.statusCode < 400) reached.add(operation.id)
      const failure = judge(
        request,
        response.statusCode,
        String(response.headers['content-type'] ?? ''),
        response.body,
        operation,
      )
      if (failure) failures.push(failure)
    }

    await api.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = api.app.server.address() as AddressInfo
    const overHttp = [
      `/v1/services?q=${'x'.repeat(17_000)}`,
      `/api/client/features?namePrefix=${'y'.repeat(20_000)}`,
      '/v1/services/%zz',
      `/v1/releases/${'9'.repeat(150)}`,
      '/v1/events/stream?after=1e309',
      '/v1/events/stream?after=99999999999999999999',
      '/v1/events/stream?after=Infinity',
      '/v1/events/stream?after=-1',
      `/v1/events/stream?after=${'1'.repeat(20_000)}`,
      '/api/client/streaming',
    ]
    for (const path of overHttp) {
      // The client stream is sent a token that is not one, so it is refused before it opens.
      const token = path.startsWith('/api/client/streaming')
        ? 'not-a-token'
        : path.startsWith('/api')
          ? tokens.client
          : `Bearer ${tokens.admin}`
      const response = await new Promise<{ status: number; type: string; body: string }>(
        (resolve, reject) => {
          const outgoing = httpRequest(
            { host: '127.0.0.1', port, path, headers: { authorization: token } },
            (incoming) => {
              let body = ''
              incoming.setEncoding('utf8')
              incoming.on('data', (chunk) => {
                body += chunk
              })
              incoming.on('end', () =>
                resolve({
                  status: incoming.statusCode ?? 0,
                  type: String(incoming.headers['content-type']),
                  body,
                }),
              )
            },
          )
          outgoing.on('error', reject)
          outgoing.end()
        },
      )
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      const failure = judge(
        { method: 'GET', url: path, headers: {} },
        response.status,
        response.type,
        response.body,
      )
      if (failure) failures.push(failure)
      t.ok(response.status >= 400, `over HTTP ${path.slice(0, 60)}: refused (${response.status})`)
    }

    t.comment(
      `statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    )
    t.comment(
      `operations that answered 2xx/3xx at least once: ${reached.size} of ${injectable.length}`,
    )
    t.same(
      failures.slice(0, 10),
      [],
      `no 5xx and only problem documents (seed ${seed}; ${failures.length} failures)`,
    )
    t.ok(statuses.get(431), 'a request line over 16 kB reached the parser limit over real HTTP')
    t.ok(
      reached.size >= injectable.length / 3,
      `requests reach the handlers: ${reached.size} operations answered with success`,
    )
    t.equal(
      new Set(injectable.map((operation) => operation.id)).size,
      injectable.length,
      'every operation has its own id',
    )
  },
)

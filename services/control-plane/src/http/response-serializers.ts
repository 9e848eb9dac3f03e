import fastJsonStringify, { type Schema } from 'fast-json-stringify'

type Serializer = (data: unknown) => string
type Schemas = Record<string, unknown>

/** A response schema as fastify hands it to a serializer compiler. */
interface RouteResponseSchema {
  schema?: unknown
}

/** Compiled serializers by what they were compiled from; shared by every app in the process. */
const compiled = new Map<string, Serializer>()

/**
 * Fastify's own serializer compiler, fed less: fast-json-stringify validates and indexes every
 * shared schema it is given on every compile, and fastify gives it all 73 API models for each
 * response code of each route. Handing it only the models a response refers to (transitively)
 * builds the same serializer; the startup profile of a test app spent 12 of its 20 CPU seconds
 * there (docs/benchmarks.md "Test suite").
 *
 * A serializer is a pure function of its schema, the models it reads and the options, so one
 * compiled for the same three is reused by the next app in the process (a test file builds many).
 */
export function buildResponseSerializer(externalSchemas?: unknown, options?: unknown) {
  const shared = (externalSchemas ?? {}) as Schemas
  return ({ schema }: RouteResponseSchema): Serializer => {
    const models = referredModels(schema as object, shared)
    // fastify's compiler drops the schema itself from the shared ones; so does this.
    const id = (schema as { $id?: unknown }).$id
    if (typeof id === 'string') delete models[id]
    const key = JSON.stringify([schema, models, options])
    let serializer = compiled.get(key)
    if (!serializer) {
      serializer = fastJsonStringify(schema as Schema, {
        ...(options as object),
        schema: models as Record<string, Schema>,
      }) as Serializer
      compiled.set(key, serializer)
    }
    return serializer
  }
}

/**
 * The shared schemas `schema` refers to by `$ref`, and those they refer to. A reference this cannot
 * place (an id that is not a shared schema) gets every shared schema, as fastify would give.
 */
function referredModels(schema: object, externalSchemas: Schemas): Schemas {
  const found: Schemas = {}
  const pending: unknown[] = [schema]
  while (pending.length > 0) {
    const node = pending.pop()
    if (Array.isArray(node)) {
      pending.push(...node)
      continue
    }
    if (node === null || typeof node !== 'object') continue
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const id = value.split('#')[0] ?? ''
        if (id === '' || id in found) continue
        if (!(id in externalSchemas)) return { ...externalSchemas }
        found[id] = externalSchemas[id]
        pending.push(externalSchemas[id])
      } else if (typeof value === 'object') {
        pending.push(value)
      }
    }
  }
  return found
}

import { isDeepStrictEqual } from 'node:util'

/** A schema with an `$id`: one named shape of the API (a components/schemas entry). */
export interface ApiModel {
  $id: string
  [keyword: string]: unknown
}

/** Keywords whose values are data, not schemas: a default object is never a model. */
const dataKeywords = new Set(['default', 'enum', 'const', 'examples', 'example'])

/** What a use of a model may add to it: what it means there, and its default there. */
const useKeywords = ['description', 'default'] as const

/**
 * `schema` with every model embedded in it (a TypeBox schema that carries the model's `$id`,
 * possibly made optional, nullable or described anew) replaced by a `$ref` to the model. Routes
 * and models embed each other as TypeBox values, so their static types stay exact; this turns the
 * embeddings into references once, for the validators, the serializers and the OpenAPI document
 * alike. `root` is the id of the model being registered, which stays itself.
 *
 * A copy that changes the model in any other way is a mistake (two shapes under one name) and
 * throws, naming the model.
 */
export function referToModels(
  schema: unknown,
  models: ReadonlyMap<string, ApiModel>,
  root?: string,
): unknown {
  if (Array.isArray(schema)) return schema.map((item) => referToModels(item, models))
  if (schema === null || typeof schema !== 'object') return schema
  const node = schema as Record<string, unknown>
  const id = node.$id
  if (typeof id === 'string' && id !== root) {
    const model = models.get(id)
    if (model === undefined) {
      throw new Error(`schema $id ${id} is not a registered API model (routes/api-models.ts)`)
    }
    return reference(node, model)
  }
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    copy[key] = dataKeywords.has(key) ? value : referToModels(value, models)
  }
  return copy
}

function reference(use: Record<string, unknown>, model: ApiModel): Record<string, unknown> {
  const added: Record<string, unknown> = {}
  for (const keyword of useKeywords) {
    if (use[keyword] !== undefined && !isDeepStrictEqual(use[keyword], model[keyword])) {
      added[keyword] = use[keyword]
    }
  }
  const nullable =
    Array.isArray(use.type) &&
    use.type.length === 2 &&
    use.type[0] === model.type &&
    use.type[1] === 'null'
  const rest = (schema: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(schema).filter(
        ([key]) => key !== 'type' && !(useKeywords as readonly string[]).includes(key),
      ),
    )
  if (
    !isDeepStrictEqual(rest(use), rest(model)) ||
    !(nullable || isDeepStrictEqual(use.type, model.type))
  ) {
    throw new Error(
      `a schema carries the $id ${model.$id} but differs from that model: give it its own $id or use the model as it is`,
    )
  }
  const ref = { $ref: model.$id }
  // A wrapper says what the model is here too, so every property of a shape stays described.
  const described = { description: model.description, ...added }
  if (nullable) return { anyOf: [ref, { type: 'null' }], ...described }
  // OpenAPI tools drop the siblings of a $ref (OpenAPI 3.0 allowed none), so what this use adds
  // wraps the reference instead.
  return Object.keys(added).length > 0 ? { allOf: [ref], ...described } : ref
}

/** The models by `$id`; each must have one, and no two the same. */
export function modelsById(models: readonly object[]): Map<string, ApiModel> {
  const byId = new Map<string, ApiModel>()
  for (const model of models as ApiModel[]) {
    if (typeof model.$id !== 'string') throw new Error('an API model has no $id')
    if (byId.has(model.$id)) throw new Error(`two API models are named ${model.$id}`)
    byId.set(model.$id, model)
  }
  return byId
}

/** Each model with the models it embeds replaced by references, ready to register. */
export function referredModels(byId: ReadonlyMap<string, ApiModel>): ApiModel[] {
  return [...byId.values()].map((model) => referToModels(model, byId, model.$id) as ApiModel)
}

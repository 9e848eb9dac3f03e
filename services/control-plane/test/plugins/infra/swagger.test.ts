import t from 'tap'
import { build } from '../../helpers/build.js'

interface Schema {
  type?: string
  description?: string
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  patternProperties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  $ref?: string
}

/**
 * Every property anywhere in `schema` that has no description, as JSON-pointer-ish paths. A
 * property that is a reference is described by the model it names (each model is walked too).
 */
function undescribed(schema: Schema | undefined, path: string): string[] {
  if (!schema || schema.$ref) return []
  const missing: string[] = []
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (!property.description && !property.$ref) missing.push(`${path}/${name}`)
    missing.push(...undescribed(property, `${path}/${name}`))
  }
  missing.push(...undescribed(schema.items, `${path}[]`))
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    for (const [index, option] of (schema[keyword] ?? []).entries()) {
      missing.push(...undescribed(option, `${path}|${index}`))
    }
  }
  for (const value of Object.values(schema.patternProperties ?? {})) {
    missing.push(...undescribed(value, `${path}/*`))
  }
  if (typeof schema.additionalProperties === 'object') {
    missing.push(...undescribed(schema.additionalProperties, `${path}/*`))
  }
  return missing
}

t.test('the description walker finds an undescribed property wherever it is', async (t) => {
  const described = { type: 'string', description: 'described' }
  const bare = { type: 'string' }
  t.same(undescribed({ properties: { a: described, b: { $ref: '#/x' } } }, 'Ok'), [])
  t.same(
    undescribed(
      {
        properties: {
          top: bare,
          list: {
            description: 'a list',
            items: { properties: { inItem: bare, fine: described } },
          },
          either: {
            description: 'one of two',
            anyOf: [{ properties: { inOption: bare } }, { type: 'null' }],
          },
          wrapped: { description: 'a wrapped model', allOf: [{ properties: { inAll: bare } }] },
          map: { description: 'a map', additionalProperties: { properties: { inMap: bare } } },
        },
      },
      'Shape',
    ),
    [
      'Shape/top',
      'Shape/list[]/inItem',
      'Shape/either|0/inOption',
      'Shape/wrapped|0/inAll',
      'Shape/map/*/inMap',
    ],
  )
})

t.test('every operation is named, summarised, tagged and fully described', async (t) => {
  const { app } = await build(t)
  const spec = app.swagger() as unknown as {
    paths: Record<string, Record<string, Record<string, unknown>>>
    components: {
      schemas: Record<string, Schema>
      parameters: Record<string, { name: string; description?: string; schema: Schema }>
      responses: Record<string, Record<string, unknown>>
    }
    tags: { name: string; description: string }[]
  }
  const component = <T>(section: Record<string, T>, item: T | { $ref: string }): T => {
    const ref = (item as { $ref?: string }).$ref
    return ref === undefined ? (item as T) : section[ref.slice(ref.lastIndexOf('/') + 1)]!
  }
  const declaredTags = new Set(spec.tags.map((tag) => tag.name))
  const operationIds = new Set<string>()
  let operations = 0
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations += 1
      const label = `${method.toUpperCase()} ${path}`
      const operationId = operation.operationId as string
      t.ok(operationId, `${label} has an operationId`)
      t.notOk(operationIds.has(operationId), `${label}: operationId ${operationId} is unique`)
      operationIds.add(operationId)
      t.ok(operation.summary, `${label} has a summary`)
      t.ok((operation.tags as string[] | undefined)?.length, `${label} has tags`)
      for (const tag of (operation.tags as string[] | undefined) ?? []) {
        t.ok(declaredTags.has(tag), `${label}: tag ${tag} is declared with a description`)
      }
      t.match(operation.description, /Roles: |Public: /, `${label} says who may call it`)

      const parameters = ((operation.parameters ?? []) as { $ref: string }[]).map((item) =>
        component(spec.components.parameters, item),
      )
      for (const parameter of parameters) {
        t.ok(parameter.description, `${label} parameter ${parameter.name} is described`)
      }
      const requestBody = operation.requestBody as
        | { content: Record<string, { schema: Schema }> }
        | undefined
      for (const [type, content] of Object.entries(requestBody?.content ?? {})) {
        t.same(undescribed(content.schema, `${label} request ${type}`), [])
      }
      const responses = Object.fromEntries(
        Object.entries(operation.responses as Record<string, { $ref: string }>).map(
          ([status, item]) => [status, component(spec.components.responses, item)],
        ),
      ) as Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>
      t.ok(
        responses['200'] ?? responses['201'] ?? responses['202'] ?? responses['204'],
        `${label} documents success`,
      )
      for (const [status, response] of Object.entries(responses)) {
        t.ok(response.description, `${label} ${status} is described`)
        for (const [type, content] of Object.entries(response.content ?? {})) {
          t.same(undescribed(content.schema, `${label} ${status} ${type}`), [])
          // OFREP defines its own error bodies; everything else speaks problem+json.
          if (Number(status) >= 400 && !path.startsWith('/ofrep/')) {
            t.equal(type, 'application/problem+json', `${label} ${status}`)
          }
        }
      }
    }
  }
  t.ok(operations >= 19, `checked ${operations} operations`)
  const models = Object.entries(spec.components.schemas)
  t.ok(models.length >= 60, `${models.length} named models`)
  for (const [name, model] of models) {
    t.ok(model.description, `model ${name} is described`)
    t.same(undescribed(model, name), [], `every property of ${name} is described`)
  }
  for (const model of ['Release', 'Stage', 'Deployment', 'Ring', 'RingPolicy', 'ScaleUnit']) {
    t.ok(spec.components.schemas[model], `${model} is a named model`)
  }
  for (const model of ['Flag', 'Segment', 'Incident', 'AuditEvent', 'Token', 'Problem']) {
    t.ok(spec.components.schemas[model], `${model} is a named model`)
  }
})

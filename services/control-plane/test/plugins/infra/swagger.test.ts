import t from 'tap'
import { build } from '../../helpers/build.js'

interface Schema {
  description?: string
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  patternProperties?: Record<string, Schema>
  $ref?: string
}

/** Every property anywhere in `schema` that has no description, as JSON-pointer-ish paths. */
function undescribed(schema: Schema | undefined, path: string): string[] {
  if (!schema || schema.$ref) return []
  const missing: string[] = []
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (!property.description && !property.$ref) missing.push(`${path}/${name}`)
    missing.push(...undescribed(property, `${path}/${name}`))
  }
  missing.push(...undescribed(schema.items, `${path}[]`))
  for (const [index, option] of (schema.anyOf ?? []).entries()) {
    missing.push(...undescribed(option, `${path}|${index}`))
  }
  for (const value of Object.values(schema.patternProperties ?? {})) {
    missing.push(...undescribed(value, `${path}/*`))
  }
  return missing
}

t.test('every operation is named, summarised, tagged and fully described', async (t) => {
  const { app } = await build(t)
  const spec = app.swagger() as unknown as {
    paths: Record<string, Record<string, Record<string, unknown>>>
    components: { schemas: Record<string, Schema> }
    tags: { name: string; description: string }[]
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

      const parameters = (operation.parameters ?? []) as { name: string; description?: string }[]
      for (const parameter of parameters) {
        t.ok(parameter.description, `${label} parameter ${parameter.name} is described`)
      }
      const requestBody = operation.requestBody as
        | { content: Record<string, { schema: Schema }> }
        | undefined
      for (const [type, content] of Object.entries(requestBody?.content ?? {})) {
        t.same(undescribed(content.schema, `${label} request ${type}`), [])
      }
      const responses = operation.responses as Record<
        string,
        { description?: string; content?: Record<string, { schema: Schema }> }
      >
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
  t.same(undescribed(spec.components.schemas.Problem, 'Problem'), [])
})

import { isDeepStrictEqual } from 'node:util'

// The document is walked as plain JSON here.
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON.
type Json = any

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('')

/** The model a response's or request body's only content is, if it is one. */
function modelName(message: Json): string | undefined {
  const contents = Object.values(message?.content ?? {}) as Json[]
  const ref = contents.length === 1 ? contents[0]?.schema?.$ref : undefined
  return typeof ref === 'string' ? ref.slice(ref.lastIndexOf('/') + 1) : undefined
}

/**
 * Moves what operations repeat into components, so the document (and the SDK generated from it)
 * names each once: the problem response every operation lists under its error codes becomes
 * components/responses/Problem (and a success response given alike twice is named after its
 * model), a request body two operations take alike that is a model becomes
 * components/requestBodies/<model>, and a parameter two or more operations declare identically becomes
 * a components/parameters entry, named after the parameter (and its first operation's tag when
 * two different parameters share a name).
 */
export function hoistRepeatedComponents(document: Json, problemResponse: Json): Json {
  const operations: Json[] = []
  for (const pathItem of Object.values(document.paths ?? {}) as Json[]) {
    for (const method of methods) if (pathItem[method]) operations.push(pathItem[method])
  }
  // Responses: the problem response, and any response two operations give alike that names a
  // model (a ReleaseDetail for each release action), under that model's name.
  const responses: Record<string, Json> = {}
  const responseUses = new Map<string, { response: Json; uses: [Json, string][] }>()
  for (const operation of operations) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      const name = isDeepStrictEqual(response, problemResponse) ? 'Problem' : modelName(response)
      if (name === undefined) continue
      const key = `${name}\u0000${JSON.stringify(response)}`
      const entry = responseUses.get(key) ?? { response, uses: [] }
      entry.uses.push([operation.responses, status])
      responseUses.set(key, entry)
    }
  }
  for (const [key, { response, uses }] of responseUses) {
    if (uses.length < 2) continue
    // Two responses naming one model differently (their descriptions) stay where they are.
    const name = key.slice(0, key.indexOf('\u0000'))
    if (responses[name]) continue
    responses[name] = response
    for (const [list, status] of uses) list[status] = { $ref: `#/components/responses/${name}` }
  }

  // Request bodies: one that is a model and that two operations take alike (the reason of each
  // release action), under that model's name.
  const requestBodies: Record<string, Json> = {}
  const bodyUses = new Map<string, { body: Json; uses: Json[] }>()
  for (const operation of operations) {
    const name = modelName(operation.requestBody)
    if (name === undefined) continue
    const key = `${name}\u0000${JSON.stringify(operation.requestBody)}`
    const entry = bodyUses.get(key) ?? { body: operation.requestBody, uses: [] }
    entry.uses.push(operation)
    bodyUses.set(key, entry)
  }
  for (const [key, { body, uses }] of bodyUses) {
    const name = key.slice(0, key.indexOf('\u0000'))
    if (uses.length < 2 || requestBodies[name]) continue
    requestBodies[name] = body
    for (const operation of uses)
      operation.requestBody = { $ref: `#/components/requestBodies/${name}` }
  }

  const groups: { parameter: Json; uses: Json[][]; tag: string }[] = []
  for (const operation of operations) {
    for (const [index, parameter] of (operation.parameters ?? []).entries()) {
      // `required: false` is what OpenAPI assumes; saying it on every optional parameter is noise.
      if (parameter.required === false) delete parameter.required
      let group = groups.find((candidate) => isDeepStrictEqual(candidate.parameter, parameter))
      if (!group) {
        group = { parameter, uses: [], tag: operation.tags?.[0] ?? '' }
        groups.push(group)
      }
      group.uses.push([operation.parameters, index])
    }
  }
  const repeated = groups.filter((group) => group.uses.length > 1)
  const parameters: Record<string, Json> = {}
  for (const group of repeated) {
    const shared = repeated.filter((other) => other.parameter.name === group.parameter.name)
    let name = pascal(group.parameter.name)
    if (shared.length > 1) name = pascal(`${group.tag} ${group.parameter.name}`)
    for (let suffix = 2; parameters[name]; suffix++) name = `${name}${suffix}`
    parameters[name] = group.parameter
    for (const [list, index] of group.uses)
      list[index] = { $ref: `#/components/parameters/${name}` }
  }
  return {
    ...document,
    components: {
      ...document.components,
      ...(Object.keys(responses).length > 0 && { responses }),
      ...(Object.keys(requestBodies).length > 0 && { requestBodies }),
      ...(repeated.length > 0 && { parameters }),
    },
  }
}

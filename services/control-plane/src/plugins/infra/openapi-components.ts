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

/**
 * Moves what operations repeat into components, so the document (and the SDK generated from it)
 * names each once: the problem response every operation lists under its error codes becomes
 * components/responses/Problem, and a parameter two or more operations declare identically becomes
 * a components/parameters entry, named after the parameter (and its first operation's tag when
 * two different parameters share a name).
 */
export function hoistRepeatedComponents(document: Json, problemResponse: Json): Json {
  const operations: Json[] = []
  for (const pathItem of Object.values(document.paths ?? {}) as Json[]) {
    for (const method of methods) if (pathItem[method]) operations.push(pathItem[method])
  }
  const problem = { $ref: '#/components/responses/Problem' }
  let problems = 0
  for (const operation of operations) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (isDeepStrictEqual(response, problemResponse)) {
        operation.responses[status] = problem
        problems += 1
      }
    }
  }

  const groups: { parameter: Json; uses: Json[][]; tag: string }[] = []
  for (const operation of operations) {
    for (const [index, parameter] of (operation.parameters ?? []).entries()) {
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
      ...(problems > 0 && { responses: { Problem: problemResponse } }),
      ...(repeated.length > 0 && { parameters }),
    },
  }
}

import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const sourceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative imports of one file, type-only ones included: a type cycle is still a cycle to read. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/^(?:import|export)[^'"]*?from '(\.[^']+)\.js'/gms)) {
    found.push(resolve(dirname(file), `${match[1]}.ts`))
  }
  return found
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file]
    state.set(file, 'open')
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    path.pop()
    state.set(file, 'done')
    return null
  }
  for (const file of graph.keys()) {
    const cycle = visit(file)
    if (cycle) return cycle
  }
  return null
}

t.test('the domain package has no import cycle between its files', async (t) => {
  const files = sourceFiles(sourceRoot).filter((file) => !file.endsWith('index.ts'))
  const graph = new Map(files.map((file) => [file, importsOf(file)]))
  t.ok(
    [...graph.values()].some((imports) => imports.length > 0),
    'the import scan finds imports at all',
  )
  const cycle = findCycle(graph)
  t.equal(cycle?.map((file) => relative(sourceRoot, file)).join(' > ') ?? null, null)
})

t.test('the cycle finder reports a cycle it is given', async (t) => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
  ])
  t.same(findCycle(graph), ['a', 'b', 'c', 'a'])
})

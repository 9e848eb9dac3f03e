import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

/**
 * The client's types, checked by the TypeScript compiler: each case is a few lines of code
 * against the client, compiled with the package's tsconfig. A valid call must compile; a wrong
 * one must fail for the reason it states (a bare @ts-expect-error would accept any error).
 */
const cases: { name: string; code: string; error?: RegExp }[] = [
  {
    name: 'a release read by id is typed from the spec',
    code: `const release = await client.get('/v1/releases/{id}', { params: { path: { id: 1 } } })
      const version: string = release.version
      const deleted: undefined = await client.delete('/v1/rings/{name}', {
        params: { path: { name: 'ring-0' } },
        idempotencyKey: 'pipeline-step-7',
      })
      return { version, deleted }`,
  },
  {
    name: 'a release has no `name`',
    code: `const release = await client.get('/v1/releases/{id}', { params: { path: { id: 1 } } })
      return release.name`,
    error: /Property 'name' does not exist/,
  },
  {
    name: 'a path that is not in the spec',
    code: `await client.get('/v1/relaeses')`,
    error: /'"\/v1\/relaeses"'/,
  },
  {
    name: 'POST /v1/releases needs a body',
    code: `await client.post('/v1/releases')`,
    error: /Expected 2 arguments, but got 1/,
  },
  {
    name: '`servic` is not a field of a release',
    code: `await client.post('/v1/releases', { body: { servic: 'checkout', version: '1.0.0' } })`,
    error: /'servic' does not exist/,
  },
  {
    name: '`version` is a string',
    code: `await client.post('/v1/releases', { body: { service: 'checkout', version: 1 } })`,
    error: /Type 'number' is not assignable to type 'string'/,
  },
  {
    name: 'the release id is a path parameter, and it is required',
    code: `await client.get('/v1/releases/{id}')`,
    error: /Expected 2 arguments, but got 1/,
  },
  {
    name: 'releases cannot be deleted',
    code: `await client.delete('/v1/releases/{id}', { params: { path: { id: 1 } } })`,
    error: /'"\/v1\/releases\/\{id\}"' is not assignable/,
  },
  {
    name: 'a query parameter an operation does not declare is refused',
    code: `await client.get('/v1/releases/{id}', { params: { path: { id: 1 }, query: { limit: 5 } } })`,
    error: /'query' does not exist/,
  },
  {
    name: 'an operation that takes no parameters refuses them',
    code: `await client.get('/v1/rings', { params: { query: { limit: 5 } } })`,
    error: /Type '\{ limit: number; \}' is not assignable to type 'undefined'/,
  },
  {
    name: 'a GET takes no body',
    code: `await client.get('/v1/rings', { body: { name: 'ring-0' } })`,
    error: /'body' does not exist|not assignable to type 'undefined'/,
  },
  {
    name: 'the models are named types, the same as the answers',
    code: `const release: ReleaseDetail = await client.get('/v1/releases/{id}', { params: { path: { id: 1 } } })
      const summary: Release = release
      const ring: Ring = (await client.get('/v1/rings')).rings[0]!
      const policy: RingPolicy = defaultRingPolicy
      return { release, summary, ring, policy }`,
  },
  {
    name: 'a release list item is not the detail',
    code: `const releases = await client.get('/v1/releases')
      const detail: ReleaseDetail = releases.releases[0]!
      return detail`,
    error: /is missing the following properties from type .*: stages, blockedBy/,
  },
  {
    name: 'the raw client is typed the same way',
    code: `await client.raw.POST('/v1/services', { body: { nme: 'checkout' } })`,
    error: /'nme' does not exist/,
  },
]

const here = dirname(fileURLToPath(import.meta.url))
const fileOf = (index: number) => join(here, `client-types-case-${index}.ts`)
const sourceOf = (code: string) =>
  `import { defaultRingPolicy, type Release, type ReleaseDetail, type Ring, type RingPolicy, type RingmasterClient } from '../src/index.js'\n` +
  `export async function check(client: RingmasterClient) {\n${code}\n}\n`

t.test('the client types accept what the spec allows and refuse the rest', async (t) => {
  const config = ts.getParsedCommandLineOfConfigFile(join(here, '..', 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    },
  })
  if (!config) throw new Error('could not read tsconfig.json')
  // The cases exist only in memory, as files next to this one.
  const sources = new Map(cases.map((c, index) => [fileOf(index), sourceOf(c.code)]))
  const host = ts.createCompilerHost(config.options)
  const readFromDisk = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, ...rest) => {
    const text = sources.get(name)
    return text === undefined
      ? readFromDisk(name, language, ...rest)
      : ts.createSourceFile(name, text, language)
  }
  const existsOnDisk = host.fileExists.bind(host)
  host.fileExists = (name) => sources.has(name) || existsOnDisk(name)
  const program = ts.createProgram({
    rootNames: [...sources.keys()],
    options: { ...config.options, noEmit: true },
    host,
  })

  for (const [index, { name, code, error }] of cases.entries()) {
    const file = program.getSourceFile(fileOf(index))
    const messages = [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ].map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    if (error === undefined) {
      t.strictSame(messages, [], `compiles: ${name}`)
    } else {
      t.equal(messages.length, 1, `one error: ${name}`, { code, messages })
      t.match(messages[0], error, `refused: ${name}`)
    }
  }
})

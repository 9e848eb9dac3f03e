import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

// The import rules between the rooms (docs/architecture.md), read from the source itself with
// the TypeScript parser, so every form counts: import, import type, export … from, import(),
// require() and `import('x').T` in a type.

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** A source file by its path from the repository root, with `/` separators. */
interface SourceFile {
  path: string
  text: string
}

interface Violation {
  path: string
  line: number
  specifier: string
  rule: string
}

// Modules that reach outside the process: files, sockets, processes, the terminal, other threads.
const nodeIoModules = new Set([
  'child_process',
  'cluster',
  'dgram',
  'dns',
  'dns/promises',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'process',
  'readline',
  'readline/promises',
  'repl',
  'tls',
  'tty',
  'v8',
  'vm',
  'worker_threads',
])

/** The name a specifier imports a Node built-in by (`node:fs` and `fs` alike), if it is one. */
function nodeBuiltin(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return specifier.slice('node:'.length)
  return nodeIoModules.has(specifier) ? specifier : undefined
}

/** Packages that are I/O or a framework for it; `@opentelemetry/api` is only an interface. */
function isIoPackage(specifier: string): boolean {
  return (
    /^@ringmaster\/(db|telemetry|control-plane|sdk|cli)(\/|$)/.test(specifier) ||
    /^(postgres|pg|drizzle-orm|drizzle-kit|fastify|fastify-plugin|close-with-grace)(\/|$)/.test(
      specifier,
    ) ||
    /^@(electric-sql|fastify)\//.test(specifier) ||
    (/^@opentelemetry\//.test(specifier) && !/^@opentelemetry\/api(\/|$)/.test(specifier))
  )
}

/** Where a relative specifier points, from the repository root; undefined for a package name. */
function resolved(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined
  return posix.normalize(posix.join(posix.dirname(from), specifier))
}

const inside = (path: string, folder: string) => path.startsWith(`${folder}/`)

/** The rule `specifier`, imported by the file at `path`, breaks; undefined when it is allowed. */
function brokenRule(path: string, specifier: string): string | undefined {
  const target = resolved(path, specifier)
  if (inside(path, 'packages/domain/src')) {
    const builtin = nodeBuiltin(specifier)
    if ((builtin !== undefined && nodeIoModules.has(builtin)) || isIoPackage(specifier)) {
      return 'domain imports nothing with I/O'
    }
    if (target && !inside(target, 'packages/domain/src')) return 'domain imports nothing with I/O'
  }
  if (inside(path, 'packages/flag-evaluator/src')) {
    // It runs in browsers and edge runtimes: no Node built-in at all.
    if (nodeBuiltin(specifier) !== undefined || isIoPackage(specifier)) {
      return 'flag-evaluator imports nothing with I/O and no Node built-in'
    }
  }
  if (inside(path, 'packages/sdk/src')) {
    // The console runs it in browsers.
    if (nodeBuiltin(specifier) !== undefined) return 'the SDK imports no Node built-in'
  }
  if (inside(path, 'services/console/src')) {
    // Static files in a browser: it speaks HTTP through the SDK, nothing else of ours.
    if (nodeBuiltin(specifier) !== undefined) return 'the console imports no Node built-in'
    if (/^@ringmaster\//.test(specifier) && !/^@ringmaster\/sdk$/.test(specifier)) {
      return 'the console imports only @ringmaster/sdk of ours'
    }
    if (target && !inside(target, 'services/console/src')) {
      return 'the console imports only @ringmaster/sdk of ours'
    }
  }
  if (inside(path, 'services/control-plane/src/routes')) {
    if (/^@ringmaster\/db(\/|$)/.test(specifier) || (target && inside(target, 'packages/db'))) {
      return 'routes never import @ringmaster/db'
    }
  }
  if (inside(path, 'packages')) {
    if (
      /^@ringmaster\/control-plane(\/|$)/.test(specifier) ||
      (target && inside(target, 'services'))
    ) {
      return 'no package imports a service'
    }
  }
  return undefined
}

/** Every module specifier in `file`, with its line. */
function specifiersOf(file: SourceFile): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true)
  const found: { specifier: string; line: number }[] = []
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      found.push({ specifier: node.text, line })
    }
  }
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier)
    else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        add(node.moduleReference.expression)
      }
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require'
      if (isImport || isRequire) add(node.arguments[0])
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function importViolations(files: SourceFile[]): Violation[] {
  return files.flatMap((file) =>
    specifiersOf(file).flatMap(({ specifier, line }) => {
      const rule = brokenRule(file.path, specifier)
      return rule ? [{ path: file.path, line, specifier, rule }] : []
    }),
  )
}

/** The TypeScript and JavaScript sources under `folder` (from the repository root). */
function sourcesUnder(folder: string): SourceFile[] {
  const files: SourceFile[] = []
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue
      const full = join(directory, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push({
          path: relative(repoRoot, full).split(sep).join('/'),
          text: readFileSync(full, 'utf8'),
        })
      }
    }
  }
  walk(join(repoRoot, folder))
  return files
}

/** The source of every package (not its tests: SDK and CLI tests start the real service). */
function repositorySources(): SourceFile[] {
  const packages = readdirSync(join(repoRoot, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) =>
      ['src', 'scripts']
        .map((folder) => `packages/${entry.name}/${folder}`)
        .filter((folder) => existsSync(join(repoRoot, folder)))
        .flatMap(sourcesUnder),
    )
  return [
    ...packages,
    ...sourcesUnder('services/control-plane/src'),
    ...sourcesUnder('services/console/src'),
  ]
}

t.test('the repository keeps the import rules', async (t) => {
  const files = repositorySources()
  const count = (folder: string) => files.filter((file) => inside(file.path, folder)).length
  // A walk that found nothing would pass: make sure each room was read.
  t.ok(count('packages/domain/src') > 20, 'the domain sources were read')
  t.ok(count('packages/flag-evaluator/src') > 3, 'the flag evaluator sources were read')
  t.ok(count('services/control-plane/src/routes') > 20, 'the route modules were read')
  t.ok(count('packages/sdk/src') > 0 && count('packages/cli/src') > 0, 'the SDK and CLI were read')
  t.ok(count('services/console/src') > 10, 'the console sources were read')
  t.strictSame(importViolations(files), [], 'no import breaks a rule')
})

t.test('each rule reports a violation', async (t) => {
  const cases: { path: string; text: string; specifier: string; rule: string }[] = [
    {
      path: 'packages/domain/src/release/sneaky.ts',
      text: "import { readFileSync } from 'node:fs'",
      specifier: 'node:fs',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "import { request } from 'http'",
      specifier: 'http',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "import type { DatabaseConnection } from '@ringmaster/db'",
      specifier: '@ringmaster/db',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "export { sql } from 'drizzle-orm'",
      specifier: 'drizzle-orm',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "const postgres = await import('postgres')",
      specifier: 'postgres',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "const app: import('fastify').FastifyInstance | undefined = undefined",
      specifier: 'fastify',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "const sdk = require('@opentelemetry/sdk-node')",
      specifier: '@opentelemetry/sdk-node',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "import { attributes } from '@ringmaster/telemetry'",
      specifier: '@ringmaster/telemetry',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/domain/src/sneaky.ts',
      text: "import { DrizzleStore } from '../../db/src/drizzle-store.js'",
      specifier: '../../db/src/drizzle-store.js',
      rule: 'domain imports nothing with I/O',
    },
    {
      path: 'packages/flag-evaluator/src/sneaky.ts',
      text: "import { createHash } from 'node:crypto'",
      specifier: 'node:crypto',
      rule: 'flag-evaluator imports nothing with I/O and no Node built-in',
    },
    {
      path: 'services/control-plane/src/routes/health/sneaky-routes.ts',
      text: "import { migrationStatus } from '@ringmaster/db'",
      specifier: '@ringmaster/db',
      rule: 'routes never import @ringmaster/db',
    },
    {
      path: 'services/control-plane/src/routes/health/sneaky-routes.ts',
      text: "import type { MigrationStatus } from '@ringmaster/db/testing'",
      specifier: '@ringmaster/db/testing',
      rule: 'routes never import @ringmaster/db',
    },
    {
      path: 'services/control-plane/src/routes/sneaky-routes.ts',
      text: "import { migrationStatus } from '../../../../packages/db/src/migrations.js'",
      specifier: '../../../../packages/db/src/migrations.js',
      rule: 'routes never import @ringmaster/db',
    },
    {
      path: 'packages/cli/src/sneaky.ts',
      text: "import { buildApp } from '@ringmaster/control-plane'",
      specifier: '@ringmaster/control-plane',
      rule: 'no package imports a service',
    },
    {
      path: 'packages/sdk/src/sneaky.ts',
      text: "import { problemResponses } from '../../../services/control-plane/src/schemas/problem.js'",
      specifier: '../../../services/control-plane/src/schemas/problem.js',
      rule: 'no package imports a service',
    },
    {
      path: 'packages/sdk/src/sneaky.ts',
      text: "import { randomUUID } from 'node:crypto'",
      specifier: 'node:crypto',
      rule: 'the SDK imports no Node built-in',
    },
    {
      path: 'services/console/src/pages/sneaky-page.tsx',
      text: "import { readFileSync } from 'node:fs'",
      specifier: 'node:fs',
      rule: 'the console imports no Node built-in',
    },
    {
      path: 'services/console/src/pages/sneaky-page.tsx',
      text: "import type { Release } from '@ringmaster/domain'",
      specifier: '@ringmaster/domain',
      rule: 'the console imports only @ringmaster/sdk of ours',
    },
    {
      path: 'services/console/src/pages/sneaky-page.tsx',
      text: "import { policyInWords } from '../../../../packages/domain/src/ring-policy.js'",
      specifier: '../../../../packages/domain/src/ring-policy.js',
      rule: 'the console imports only @ringmaster/sdk of ours',
    },
  ]
  for (const { path, text, specifier, rule } of cases) {
    t.strictSame(
      importViolations([{ path, text: `// a line first\n${text}\n` }]),
      [{ path, line: 2, specifier, rule }],
      `${path}: ${text}`,
    )
  }
})

t.test('what each room may import is not reported', async (t) => {
  const allowed: SourceFile[] = [
    {
      path: 'packages/domain/src/a.ts',
      text: "import { compileFlags } from '@ringmaster/flag-evaluator'",
    },
    { path: 'packages/domain/src/a.ts', text: "import type { Tracer } from '@opentelemetry/api'" },
    { path: 'packages/domain/src/release/a.ts', text: "import { audit } from '../command.js'" },
    { path: 'packages/db/src/a.ts', text: "import { sql } from 'drizzle-orm'\nimport 'node:fs'" },
    {
      path: 'services/control-plane/src/routes/a/a.ts',
      text: "import { ReleaseService } from '@ringmaster/domain'",
    },
    {
      path: 'services/control-plane/src/plugins/infra/a.ts',
      text: "import { migrationStatus } from '@ringmaster/db'",
    },
    {
      path: 'services/control-plane/src/a.ts',
      text: "import { tokenSecrets } from './credentials/token-secrets.js'",
    },
    {
      path: 'packages/cli/src/a.ts',
      text: "import { createRingmasterClient } from '@ringmaster/sdk'",
    },
    {
      path: 'services/console/src/pages/a-page.tsx',
      text: "import type { Release } from '@ringmaster/sdk'\nimport { useQuery } from '@tanstack/react-query'\nimport { may } from '../access.js'",
    },
  ]
  t.strictSame(importViolations(allowed), [])
})

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { testDatabaseKind } from '../src/testing/test-database.js'

// The runner is run as `pnpm test` runs it: the built file (turbo builds before testing).
const runner = fileURLToPath(new URL('../dist/testing/run-with-databases.js', import.meta.url))

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** Which database passes ran the command, in order. */
  passes: string[]
}

/** Runs the runner on a command that records each pass's RINGMASTER_TEST_DATABASE. */
async function runRunner(
  env: Record<string, string | undefined>,
  runnerFlags: string[] = [],
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'ringmaster-runner-'))
  try {
    const log = join(dir, 'passes')
    const record = `require('node:fs').appendFileSync(${JSON.stringify(log)}, process.env.RINGMASTER_TEST_DATABASE + '\\n')`
    const child = spawn(
      process.execPath,
      [runner, ...runnerFlags, process.execPath, '-e', record],
      {
        env: { ...process.env, CI: undefined, RINGMASTER_TEST_DATABASES: undefined, ...env },
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const passes = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
    return { code, stdout, stderr, passes }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('under CI=true an unreachable PostgreSQL fails the run before any pass', async (t) => {
  const port = await closedPort()
  const run = await runRunner({
    CI: 'true',
    RINGMASTER_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
  })
  t.not(run.code, 0, 'the run fails')
  t.strictSame(run.passes, [], 'nothing ran, not even the PGlite pass')
  t.match(run.stderr, `PostgreSQL pass required (CI=true), but 127.0.0.1:${port} unreachable (`)
  t.match(run.stdout, `# databases: postgres: required under CI, 127.0.0.1:${port} unreachable`)
})

// Each run below migrates a PGlite template, which takes a while; what it shows does not depend
// on the database of the pass running this file, so the PGlite pass runs them.
const pglitePassShows = testDatabaseKind === 'postgres' && 'shown once, by the PGlite pass'

t.test(
  'without CI an unreachable PostgreSQL runs PGlite and says so loudly',
  { skip: pglitePassShows },
  async (t) => {
    const port = await closedPort()
    const run = await runRunner({
      RINGMASTER_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
    })
    t.equal(run.code, 0, 'a developer without PostgreSQL can still run the tests')
    t.strictSame(run.passes, ['pglite'])
    t.match(run.stderr, `PostgreSQL not reachable: 127.0.0.1:${port} unreachable (`)
    t.match(run.stderr, 'Only the PGlite pass runs; tests that need PostgreSQL are skipped.')
    t.match(
      run.stderr,
      `PostgreSQL pass NOT RUN: 127.0.0.1:${port} unreachable`,
      'again at the end',
    )
    t.match(
      run.stdout,
      new RegExp(
        `# databases: pglite: passed in \\d+ s; postgres: NOT RUN, 127\\.0\\.0\\.1:${port}`,
      ),
    )
  },
)

t.test(
  'RINGMASTER_TEST_DATABASES=pglite runs PGlite only, also under CI',
  { skip: pglitePassShows },
  async (t) => {
    const port = await closedPort()
    const run = await runRunner({
      CI: 'true',
      RINGMASTER_TEST_DATABASES: 'pglite',
      RINGMASTER_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
    })
    t.equal(run.code, 0)
    t.strictSame(run.passes, ['pglite'])
    t.match(
      run.stdout,
      /# databases: pglite: passed in \d+ s; postgres: not run \(RINGMASTER_TEST_DATABASES=pglite\)/,
    )
    t.notMatch(run.stderr, 'unreachable', 'the server is not asked')
  },
)

t.test(
  'under CI=true a reachable PostgreSQL runs both passes',
  { skip: testDatabaseKind === 'pglite' && 'needs PostgreSQL: the server this pass runs on' },
  async (t) => {
    const run = await runRunner({ CI: 'true' })
    t.equal(run.code, 0)
    t.strictSame(run.passes, ['pglite', 'postgres'])
    t.match(run.stdout, /# databases: pglite: passed in \d+ s; postgres: passed in \d+ s/)
    t.notMatch(run.stderr, 'NOT RUN')
  },
)

t.test(
  '--one-database runs the PostgreSQL pass alone when PostgreSQL answers',
  { skip: testDatabaseKind === 'pglite' && 'needs PostgreSQL: the server this pass runs on' },
  async (t) => {
    const run = await runRunner({ CI: 'true' }, ['--one-database'])
    t.equal(run.code, 0)
    t.strictSame(run.passes, ['postgres'])
    t.match(
      run.stdout,
      /# databases: pglite: not run \(--one-database, and PostgreSQL answers\); postgres: passed in \d+ s/,
    )
  },
)

t.test(
  '--one-database runs PGlite when no PostgreSQL answers (outside CI)',
  { skip: pglitePassShows },
  async (t) => {
    const port = await closedPort()
    const run = await runRunner(
      { RINGMASTER_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres` },
      ['--one-database'],
    )
    t.equal(run.code, 0)
    t.strictSame(run.passes, ['pglite'])
    t.match(run.stdout, /# databases: pglite: passed in \d+ s; postgres: NOT RUN/)
  },
)

t.test(
  'a failing tap run leaves its digest, named after the package, for the root test command',
  { skip: pglitePassShows },
  async (t) => {
    // Inside this package, so the failing file finds tap the way a package's tests do.
    const packageDir = mkdtempSync(join(fileURLToPath(new URL('..', import.meta.url)), '.digest-'))
    t.teardown(() => rmSync(packageDir, { recursive: true, force: true }))
    const digests = join(packageDir, 'digests')
    writeFileSync(join(packageDir, 'package.json'), '{"name":"@example/fails","type":"module"}')
    mkdirSync(join(packageDir, 'test'))
    writeFileSync(
      join(packageDir, 'test', 'fails.test.js'),
      "import t from 'tap'\nt.equal(1, 2, 'one is two')\n",
    )
    const tapBin = fileURLToPath(new URL('../node_modules/.bin', import.meta.url))
    const child = spawn(process.execPath, [runner, 'tap'], {
      cwd: packageDir,
      env: {
        ...process.env,
        CI: undefined,
        NODE_OPTIONS: undefined,
        RINGMASTER_TEST_DATABASES: 'pglite',
        RINGMASTER_TEST_DIGEST_DIR: digests,
        PATH: `${tapBin}:${process.env.PATH ?? ''}`,
      },
      stdio: 'ignore',
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    t.equal(code, 1, 'the run fails')
    const digest = readFileSync(join(digests, '_example_fails.txt'), 'utf8')
    t.match(digest, /^@example\/fails\n# failed in the pglite pass/)
    t.match(digest, '# test/fails.test.js\n# not ok: one is two')
  },
)

#!/usr/bin/env node
/**
 * Runs a test command (default `tap`) once on PGlite and once more on PostgreSQL when the test
 * server answers. Each pass migrates one template; every test database is a copy of it.
 *
 *   node packages/db/dist/testing/run-with-databases.js [--one-database] [command args…]
 *
 * --one-database runs a single pass, on PostgreSQL when it answers and on PGlite otherwise: for a
 * package whose tests drive the server from outside (the CLI, the console in a browser), where the database underneath is
 * the control plane's concern and its own suite runs on both.
 *
 * RINGMASTER_TEST_POSTGRES_URL picks the server (default postgres://postgres@127.0.0.1:5432/postgres);
 * RINGMASTER_TEST_DATABASES=pglite runs the PGlite pass only. RINGMASTER_TEST_DIGEST_DIR, set by
 * scripts/run-tests.mjs, also gets the failure digest as <package>.txt, so the root command can say
 * it again after every other package's output.
 *
 * When the server does not answer, a developer's run goes on with PGlite and says loudly that the
 * PostgreSQL pass did not run; under CI=true it fails before running anything, since the tests
 * that need PostgreSQL (locks, NOTIFY, several replicas) are only skips on PGlite.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import postgres from 'postgres'
import { openDatabase } from '../database.js'
import { migrateDatabase } from '../migrations.js'
import { failedResults } from './tap-failures.js'
import { migratedPgliteDump, testPostgresUrl, withDatabase } from './test-database.js'

const oneDatabase = process.argv[2] === '--one-database'
const [command = 'tap', ...args] = process.argv.slice(oneDatabase ? 3 : 2)
const outcomes: string[] = []
/** What failed in each pass, said again at the end: a CI log shows its tail only. */
const failureDigests: string[] = []
/** Past this many failures in a pass, the rest are only counted. */
const digestLimit = 20
let failed = false

function pass(kind: string, env: Record<string, string>): void {
  process.stdout.write(`\n# ── ${kind} ─────────────────────────────────────────────\n`)
  // tap keeps each file's TAP in .tap/test-results; the ones written from now on are this pass's.
  const started = Date.now()
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    shell: process.platform === 'win32',
    env: {
      ...process.env,
      // The package's own tools (tap) are found as they are under `pnpm test`.
      PATH: `${join(process.cwd(), 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
      RINGMASTER_TEST_DATABASE: kind,
      ...env,
    },
  })
  if (result.error) process.stderr.write(`could not run ${command}: ${result.error.message}\n`)
  const ok = result.status === 0
  failed ||= !ok
  if (!ok && command === 'tap') {
    const results = failedResults(join(process.cwd(), '.tap', 'test-results'), started)
    if (results.length > 0) {
      const lines = [`failed in the ${kind} pass (the whole output is above):`]
      let counted = 0
      for (const { file, failures } of results) {
        lines.push(file, ...failures.slice(0, Math.max(0, digestLimit - counted)))
        counted += failures.length
      }
      if (counted > digestLimit) lines.push(`… and ${counted - digestLimit} more failures`)
      const text = lines.flatMap((line) => line.split('\n')).map((line) => `# ${line}`)
      failureDigests.push(text.join('\n'))
    }
  }
  const seconds = Math.round((Date.now() - started) / 1000)
  outcomes.push(
    `${kind}: ${ok ? 'passed' : `failed (exit ${result.status ?? result.signal})`} in ${seconds} s`,
  )
}

/** CI=true (GitHub Actions, GitLab, and `.ci/run` set it) makes the PostgreSQL pass required. */
const inCi = /^(true|1)$/i.test(process.env.CI ?? '')
const postgresWanted = process.env.RINGMASTER_TEST_DATABASES !== 'pglite'
const server = testPostgresUrl()

/** Why the test server cannot be used, or undefined when it answers. */
async function postgresUnreachable(): Promise<string | undefined> {
  const probe = postgres(server, { max: 1, onnotice: () => {}, connect_timeout: 3 })
  try {
    await probe`select 1`
    return undefined
  } catch (error) {
    return `${new URL(server).host} unreachable (${(error as Error).message})`
  } finally {
    await probe.end({ timeout: 1 }).catch(() => {})
  }
}

function shout(lines: string[]): void {
  const rule = '#'.repeat(78)
  process.stderr.write(`\n${rule}\n${lines.map((line) => `# ${line}`).join('\n')}\n${rule}\n`)
}

const unreachable = postgresWanted ? await postgresUnreachable() : undefined
if (unreachable && inCi) {
  shout([
    `PostgreSQL pass required (CI=true), but ${unreachable}.`,
    'Start PostgreSQL there, or point RINGMASTER_TEST_POSTGRES_URL at one; nothing was run.',
  ])
  process.stdout.write(`\n# databases: postgres: required under CI, ${unreachable}\n`)
  process.exit(1)
}
if (unreachable) {
  shout([
    `PostgreSQL not reachable: ${unreachable}.`,
    'Only the PGlite pass runs; tests that need PostgreSQL are skipped. CI=true fails here.',
  ])
}

const scratch = mkdtempSync(join(tmpdir(), 'ringmaster-test-'))
try {
  if (oneDatabase && postgresWanted && !unreachable) {
    outcomes.push('pglite: not run (--one-database, and PostgreSQL answers)')
  } else {
    const dumpFile = join(scratch, 'pglite-template.tar')
    writeFileSync(dumpFile, Buffer.from(await (await migratedPgliteDump()).arrayBuffer()))
    pass('pglite', { RINGMASTER_TEST_PGLITE_DUMP: dumpFile })
  }

  if (!postgresWanted) {
    outcomes.push('postgres: not run (RINGMASTER_TEST_DATABASES=pglite)')
  } else if (unreachable) {
    outcomes.push(`postgres: NOT RUN, ${unreachable}`)
  } else {
    const template = `ringmaster_template_${process.pid}_${Date.now()}`
    const admin = postgres(server, { max: 1, onnotice: () => {}, connect_timeout: 3 })
    try {
      await admin.unsafe(`create database "${template}"`)
      const connection = await openDatabase({
        kind: 'postgres',
        url: withDatabase(server, template),
      })
      await migrateDatabase(connection)
      await connection.close()
      pass('postgres', { RINGMASTER_TEST_POSTGRES_TEMPLATE: template })
    } finally {
      await admin.unsafe(`drop database if exists "${template}" with (force)`)
      await admin.end({ timeout: 5 })
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

for (const digest of failureDigests) process.stdout.write(`\n${digest}\n`)
writeDigestFile()
process.stdout.write(`\n# databases: ${outcomes.join('; ')}\n`)
if (unreachable) shout([`PostgreSQL pass NOT RUN: ${unreachable}.`])
process.exit(failed ? 1 : 0)

/** The digest for scripts/run-tests.mjs, named after the package that ran (its package.json). */
function writeDigestFile(): void {
  const directory = process.env.RINGMASTER_TEST_DIGEST_DIR
  if (!directory || failureDigests.length === 0) return
  const { name } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
    name: string
  }
  mkdirSync(directory, { recursive: true })
  writeFileSync(
    join(directory, `${name.replace(/[^a-z0-9-]+/gi, '_')}.txt`),
    `${name}\n${failureDigests.join('\n')}\n`,
  )
}

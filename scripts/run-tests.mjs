#!/usr/bin/env node
// The README's test command: every package's tests through turbo, then how long each took.
//
//   node scripts/run-tests.mjs [extra turbo args, e.g. --filter=@ringmaster/db]
//
// RINGMASTER_TEST_CONCURRENCY sets how many packages test at once (default 1). Each package's tap
// runs files in parallel already; on two cores a second package made the run slower (38 min
// against 32, docs/benchmarks.md "Test suite") and the replica race tests flakier.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const loader = pathToFileURL(join(root, 'scripts', 'test', 'tsx-for-tap.mjs')).href
const concurrency = process.env.RINGMASTER_TEST_CONCURRENCY ?? '1'
const started = Date.now()
// Each package's run-with-databases leaves its failure digest here; they are printed again last.
const digests = mkdtempSync(join(tmpdir(), 'ringmaster-test-digests-'))

const result = spawnSync(
  'turbo',
  [
    'run',
    'test',
    `--concurrency=${concurrency}`,
    '--continue',
    '--summarize',
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    env: {
      ...process.env,
      PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${loader}`.trim(),
      RINGMASTER_TEST_DIGEST_DIR: digests,
    },
  },
)

printDigests()
printTimes()
process.exit(result.status ?? 1)

/** What failed, per package, after all output: the package that failed may not be the last. */
function printDigests() {
  const files = readdirSync(digests).sort()
  for (const file of files) process.stdout.write(`\n${readFileSync(join(digests, file), 'utf8')}`)
  rmSync(digests, { recursive: true, force: true })
}

/** Wall time per package from turbo's run summary: the end of a CI log is what people read. */
function printTimes() {
  const runs = join(root, '.turbo', 'runs')
  if (!existsSync(runs)) return
  const newest = readdirSync(runs)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(runs, name))
    .filter((path) => statSync(path).mtimeMs >= started)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  if (!newest) return
  const summary = JSON.parse(readFileSync(newest, 'utf8'))
  const rows = summary.tasks
    .filter((task) => task.task === 'test' && task.execution)
    .map((task) => ({
      name: task.package,
      seconds: (task.execution.endTime - task.execution.startTime) / 1000,
      exitCode: task.execution.exitCode,
    }))
    .sort((a, b) => b.seconds - a.seconds)
  const width = Math.max(...rows.map((row) => row.name.length))
  const lines = rows.map(
    (row) =>
      `# ${row.name.padEnd(width)}  ${row.seconds.toFixed(0).padStart(5)} s  ${row.exitCode === 0 ? 'passed' : `failed (exit ${row.exitCode})`}`,
  )
  const total = ((Date.now() - started) / 1000).toFixed(0)
  process.stdout.write(
    `\n# test time per package (wall; ${concurrency} at once; the PGlite and PostgreSQL passes are in run-with-databases' lines above)\n${lines.join('\n')}\n# all tests: ${total} s\n`,
  )
}

#!/usr/bin/env node
// The README's test command: builds everything once, runs every package's tests, then says what
// failed and how long each package took.
//
//   node scripts/run-tests.mjs [--filter=<package name>]…
//
// RINGMASTER_TEST_CONCURRENCY sets how many packages test at once (default 2). On a quiet 2-core
// machine one package at a time left 0.86 of the cores idle, mostly while tests waited on real
// server processes, timers and PostgreSQL (docs/benchmarks.md, "Test suite"). The packages are
// started longest first, so the control plane (half of the whole) runs beside all the others
// instead of after them. Each package's output is printed whole when it ends, so two packages'
// TAP never interleave; a line says when each starts and ends.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const loader = pathToFileURL(join(root, 'scripts', 'test', 'tsx-for-tap.mjs')).href
const concurrency = Math.max(1, Number(process.env.RINGMASTER_TEST_CONCURRENCY ?? '2') || 1)
const started = Date.now()

// Wall seconds of each package's tests alone on a quiet machine (docs/benchmarks.md): the order
// packages start in. A package not listed starts last.
const expectedSeconds = {
  '@ringmaster/control-plane': 920,
  '@ringmaster/cli': 495,
  '@ringmaster/db': 209,
  '@ringmaster/sdk': 105,
  '@ringmaster/console': 55,
  '@ringmaster/domain': 31,
  '@ringmaster/telemetry': 27,
  '@ringmaster/flag-evaluator': 16,
}

const filters = process.argv
  .slice(2)
  .filter((arg) => arg.startsWith('--filter='))
  .map((arg) => arg.slice('--filter='.length))
const unknownArgs = process.argv.slice(2).filter((arg) => !arg.startsWith('--filter='))
if (unknownArgs.length > 0) {
  process.stderr.write(`run-tests: unknown arguments ${unknownArgs.join(' ')}\n`)
  process.stderr.write('usage: node scripts/run-tests.mjs [--filter=<package name>]…\n')
  process.exit(2)
}

const packages = workspacePackages()
  .filter((pkg) => pkg.testScript !== undefined)
  .filter((pkg) => filters.length === 0 || filters.includes(pkg.name))
  .sort((a, b) => (expectedSeconds[b.name] ?? 0) - (expectedSeconds[a.name] ?? 0))
if (packages.length === 0) {
  process.stderr.write(`run-tests: no package with tests matches ${filters.join(', ')}\n`)
  process.exit(2)
}

// Tests run the built packages (the CLI starts the built server, the console is served built).
process.stdout.write('# building every package (turbo)\n')
const build = spawnSync('turbo', ['run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: withTools(process.env, root),
})
if (build.status !== 0) {
  process.stderr.write('run-tests: the build failed; no test was run\n')
  process.exit(build.status ?? 1)
}

// Each package's run-with-databases leaves its failure digest here; they are printed again last.
const digests = mkdtempSync(join(tmpdir(), 'ringmaster-test-digests-'))
const results = await runAll(packages, concurrency)
printDigests()
printTimes(results)
process.exit(results.every((result) => result.exitCode === 0) ? 0 : 1)

/** The workspace's packages with their test script, from pnpm-workspace.yaml's two folders. */
function workspacePackages() {
  return ['services', 'packages'].flatMap((folder) =>
    readdirSync(join(root, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => {
        const dir = join(root, folder, entry.name)
        try {
          const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
          return [{ name: manifest.name, dir, testScript: manifest.scripts?.test }]
        } catch {
          return []
        }
      }),
  )
}

/** PATH with the package's and the root's tools first, as under `pnpm test`. */
function withTools(env, dir) {
  const bins = [join(dir, 'node_modules', '.bin'), join(root, 'node_modules', '.bin')]
  return { ...env, PATH: `${[...new Set(bins)].join(':')}:${env.PATH ?? ''}` }
}

/** Runs the packages `lanes` at a time, each next package on the first lane free. */
async function runAll(queue, lanes) {
  const pending = [...queue]
  const done = []
  const lane = async () => {
    for (let pkg = pending.shift(); pkg !== undefined; pkg = pending.shift()) {
      done.push(await runPackage(pkg))
    }
  }
  await Promise.all(Array.from({ length: Math.min(lanes, queue.length) }, lane))
  return done
}

function runPackage(pkg) {
  const startedAt = Date.now()
  process.stdout.write(`# ${clock()} started ${pkg.name}\n`)
  return new Promise((resolve) => {
    const child = spawn(pkg.testScript, {
      cwd: pkg.dir,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...withTools(process.env, pkg.dir),
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${loader}`.trim(),
        RINGMASTER_TEST_DIGEST_DIR: digests,
      },
    })
    // Kept whole and printed when the package ends: two packages' TAP never interleave.
    const output = []
    child.stdout.on('data', (chunk) => output.push(chunk))
    child.stderr.on('data', (chunk) => output.push(chunk))
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - startedAt) / 1000
      const exitCode = code ?? (signal ? 1 : 0)
      process.stdout.write(`\n# ── ${pkg.name} ${'─'.repeat(60)}\n`)
      process.stdout.write(Buffer.concat(output))
      process.stdout.write(
        `\n# ${clock()} ${pkg.name} ${exitCode === 0 ? 'passed' : `failed (exit ${code ?? signal})`} in ${seconds.toFixed(0)} s\n`,
      )
      resolve({ name: pkg.name, seconds, exitCode })
    })
  })
}

/** Minutes and seconds since the run started. */
function clock() {
  const seconds = Math.round((Date.now() - started) / 1000)
  return `[${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}]`
}

/** What failed, per package, after all output: the package that failed may not be the last. */
function printDigests() {
  const files = readdirSync(digests).sort()
  for (const file of files) process.stdout.write(`\n${readFileSync(join(digests, file), 'utf8')}`)
  rmSync(digests, { recursive: true, force: true })
}

/** Wall time per package: the end of a CI log is what people read. */
function printTimes(rows) {
  const sorted = [...rows].sort((a, b) => b.seconds - a.seconds)
  const width = Math.max(...sorted.map((row) => row.name.length))
  const lines = sorted.map(
    (row) =>
      `# ${row.name.padEnd(width)}  ${row.seconds.toFixed(0).padStart(5)} s  ${row.exitCode === 0 ? 'passed' : `failed (exit ${row.exitCode})`}`,
  )
  const total = ((Date.now() - started) / 1000).toFixed(0)
  process.stdout.write(
    `\n# test time per package (wall; ${concurrency} at once; the PGlite and PostgreSQL passes are in run-with-databases' lines above)\n${lines.join('\n')}\n# all tests: ${total} s\n`,
  )
}

// Every benchmark in sequence (`pnpm bench`): builds what they need, runs the in-process flag
// evaluator bench, the promotion engine bench, the import-under-load bench and the database
// outage bench (two 60 s cuts of PostgreSQL) with their default settings, and exits non-zero if
// any fails. The flag HTTP bench is separate: pnpm exec tsx scripts/bench/flags.ts --http
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const shell = process.platform === 'win32'

function run(title, command, args) {
  console.log(`\n== ${title}: ${[command, ...args].join(' ')}\n`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell })
  if (result.error) console.error(`${title}: ${result.error.message}`)
  return result.status === 0
}

const built = run('build', 'pnpm', [
  'turbo',
  'run',
  'build',
  '--filter=@ringmaster/flag-evaluator',
  '--filter=@ringmaster/control-plane...',
])
if (!built) process.exit(1)

const results = [
  ['flag evaluator', run('flag evaluator', 'pnpm', ['exec', 'tsx', 'scripts/bench/flags.ts'])],
  [
    'promotion engine',
    run('promotion engine', 'pnpm', ['exec', 'tsx', 'scripts/bench/promotion.ts']),
  ],
  [
    'import under load',
    run('import under load', 'pnpm', ['exec', 'tsx', 'scripts/bench/import-under-load.ts']),
  ],
  [
    'database outage',
    run('database outage', 'pnpm', ['exec', 'tsx', 'scripts/bench/database-outage.ts']),
  ],
]
const failed = results.filter(([, ok]) => !ok).map(([name]) => name)
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}

// The console's download: every JavaScript and CSS file of services/console/dist, raw and
// gzipped (level 9, as a CDN or the control plane's compression would send it), against the
// budget of 200 kB of gzipped JavaScript. Builds the console first; exits non-zero over budget.
//
//   node scripts/bench/console-bundle.mjs
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('../../', import.meta.url))
const budgetBytes = 200 * 1024

const turbo = join(root, 'node_modules', '.bin', 'turbo')
const build = spawnSync(turbo, ['run', 'build', '--filter=@ringmaster/console'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
})
if (build.status !== 0) process.exit(1)

const assets = join(root, 'services', 'console', 'dist', 'assets')
const files = readdirSync(assets)
  .filter((name) => /\.(js|css)$/.test(name))
  .map((name) => {
    const bytes = readFileSync(join(assets, name))
    return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }
  })
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`
for (const file of files) {
  console.log(
    `${file.name.padEnd(32)} ${kB(file.raw).padStart(10)} raw ${kB(file.gzip).padStart(10)} gzip`,
  )
}
const js = files.filter((file) => file.name.endsWith('.js')).reduce((sum, f) => sum + f.gzip, 0)
const css = files.filter((file) => file.name.endsWith('.css')).reduce((sum, f) => sum + f.gzip, 0)
console.log(
  `\nJavaScript, gzipped: ${kB(js)} of ${kB(budgetBytes)} budget; CSS, gzipped: ${kB(css)}`,
)
if (js > budgetBytes) {
  console.error('over budget')
  process.exit(1)
}

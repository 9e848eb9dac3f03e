#!/usr/bin/env node
// Writes the OpenAPI document generated from the route schemas to openapi/control-plane.json.
// With --check, fails when the checked-in file differs from what the code generates.
import { readFileSync, writeFileSync } from 'node:fs'
import { buildApp } from '../services/control-plane/dist/app.js'

/**
 * JSON with two-space indentation, except that a short list of plain values (a `type` pair, an
 * `enum`, `required`, `tags`) stays on one line, as Biome writes JSON: the document reads better
 * and a change to such a list is still one line of diff.
 */
function formatJson(value, indent = '') {
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    if (value.every((item) => item === null || typeof item !== 'object')) {
      const line = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`
      if (indent.length + line.length <= 100) return line
    }
    return `[\n${value.map((item) => `${inner}${formatJson(item, inner)}`).join(',\n')}\n${indent}]`
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 0) return '{}'
    const lines = entries.map(
      ([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`,
    )
    return `{\n${lines.join(',\n')}\n${indent}}`
  }
  return JSON.stringify(value)
}

const target = new URL('../openapi/control-plane.json', import.meta.url)
const check = process.argv.includes('--check')

const app = await buildApp({
  database: { kind: 'pglite' },
  adminToken: 'openapi-generation-only-token',
})
const generated = `${formatJson(app.swagger())}\n`
await app.close()

if (!check) {
  writeFileSync(target, generated)
  process.stdout.write(`wrote ${target.pathname}\n`)
  process.exit(0)
}
let current = ''
try {
  current = readFileSync(target, 'utf8')
} catch {}
if (current !== generated) {
  process.stderr.write(
    'openapi/control-plane.json is stale: the routes changed but the document did not.\nRun `pnpm openapi` and commit the result.\n',
  )
  process.exit(1)
}
process.stdout.write('openapi/control-plane.json is up to date\n')

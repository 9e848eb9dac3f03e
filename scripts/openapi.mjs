#!/usr/bin/env node
// Writes the OpenAPI document generated from the route schemas to openapi/control-plane.json.
// With --check, fails when the checked-in file differs from what the code generates.
import { readFileSync, writeFileSync } from 'node:fs'
import { buildApp } from '../services/control-plane/dist/app.js'

const target = new URL('../openapi/control-plane.json', import.meta.url)
const check = process.argv.includes('--check')

const app = await buildApp({
  database: { kind: 'pglite' },
  adminToken: 'openapi-generation-only-token',
})
const generated = `${JSON.stringify(app.swagger(), null, 2)}\n`
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

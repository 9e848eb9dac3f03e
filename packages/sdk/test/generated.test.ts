import { readFileSync } from 'node:fs'
import t from 'tap'
import {
  generateControlPlaneTypes,
  generatedTypes,
} from '../scripts/generate-control-plane-types.js'

t.test('the checked-in types are what openapi/control-plane.json generates', async (t) => {
  const checkedIn = readFileSync(generatedTypes, 'utf8')
  const fresh = await generateControlPlaneTypes()
  t.ok(
    checkedIn === fresh,
    'src/generated/control-plane.ts is stale: run `pnpm --filter @ringmaster/sdk generate`',
  )
  t.match(fresh, /"\/v1\/releases\/\{id\}"/)
})

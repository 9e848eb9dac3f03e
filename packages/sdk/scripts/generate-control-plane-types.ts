/**
 * Writes src/generated/control-plane.ts from openapi/control-plane.json. With --check, fails
 * when the checked-in file differs from what the document generates (test/generated.test.ts
 * runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'

export const openapiDocument = new URL('../../../openapi/control-plane.json', import.meta.url)
export const generatedTypes = new URL('../src/generated/control-plane.ts', import.meta.url)

/** The TypeScript the OpenAPI document generates, exactly as it is checked in. */
export async function generateControlPlaneTypes(): Promise<string> {
  const document = JSON.parse(readFileSync(openapiDocument, 'utf8'))
  return `${COMMENT_HEADER}${astToString(await openapiTS(document, { silent: true }))}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const generated = await generateControlPlaneTypes()
  if (process.argv.includes('--check')) {
    if (readFileSync(generatedTypes, 'utf8') !== generated) {
      process.stderr.write(
        'src/generated/control-plane.ts is stale: run `pnpm --filter @ringmaster/sdk generate`.\n',
      )
      process.exit(1)
    }
    process.stdout.write('src/generated/control-plane.ts is up to date\n')
  } else {
    writeFileSync(generatedTypes, generated)
    process.stdout.write(`wrote ${fileURLToPath(generatedTypes)}\n`)
  }
}

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseTarget } from '@ringmaster/db'
import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'

const command = new URL('../src/admin-token.ts', import.meta.url).pathname
const packageRoot = new URL('..', import.meta.url).pathname

async function sharedDatabase(t: Test): Promise<DatabaseTarget> {
  if (testDatabaseKind === 'postgres') {
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    return database.target
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-admin-token-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  return { kind: 'pglite', dataDir }
}

/** Runs the real command (from source) against the database, the way an operator would. */
async function runCommand(database: DatabaseTarget, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', command, ...args], {
    cwd: packageRoot,
    env: {
      PATH: process.env.PATH ?? '',
      ...(database.kind === 'postgres'
        ? { DATABASE_URL: database.url }
        : { RINGMASTER_DATA_DIR: database.dataDir! }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = await once(child, 'exit')
  return { code: code as number, stdout, stderr }
}

function start(database: DatabaseTarget, adminToken: string | undefined) {
  return buildApp({
    database,
    adminToken,
    engineIntervalMs: 0,
    webhookIntervalMs: 0,
    spanExportIntervalMs: 0,
  })
}

t.test('a lost admin token is replaced by the admin-token command, once and audited', async (t) => {
  const database = await sharedDatabase(t)
  // The first start stores an admin token nobody kept.
  const lost = `lost-admin-${randomUUID()}`
  const before = await start(database, lost)
  await before.close()

  const issued = await runCommand(database, [
    'issue',
    '--name',
    'recovered-admin',
    '--subject',
    'ops-oncall',
  ])
  t.equal(issued.code, 0, issued.stderr)
  const secret = issued.stdout.trim()
  t.match(secret, /^rm_[\w-]{40,}$/, 'stdout is the secret alone, for $(…)')
  t.match(
    issued.stderr,
    /issued admin token [0-9a-f-]{36} \('recovered-admin', subject 'ops-oncall'\)/,
  )
  t.notMatch(issued.stderr, secret, 'the secret is printed once, on stdout only')

  const again = await runCommand(database, ['issue', '--name', 'recovered-admin'])
  t.equal(again.code, 0)
  t.not(again.stdout.trim(), secret, 'each run issues a new secret')

  const app = await start(database, undefined)
  t.teardown(() => app.close())
  const listed = await app.inject({
    method: 'GET',
    url: '/v1/tokens',
    headers: { authorization: `Bearer ${secret}` },
  })
  t.equal(listed.statusCode, 200, 'the new token is an admin token')
  const recovered = listed
    .json()
    .tokens.filter((token: { name: string }) => token.name === 'recovered-admin')
  t.equal(recovered.length, 2)
  t.match(recovered[0], {
    role: 'admin',
    subject: 'ops-oncall',
    createdBy: 'admin-token-command',
    revokedAt: null,
  })
  t.notMatch(listed.body, secret, 'stored hashed: the listing never shows it')

  const events = (await app.audit.listAfter(0, 500)).events.filter(
    (event) => event.subject === `token:${recovered[0].id}`,
  )
  t.equal(events.length, 1)
  t.match(events[0], {
    action: 'token.created',
    actor: 'admin-token-command',
    requestId: /^admin-token-command:/,
    data: { recovery: true, after: { id: recovered[0].id, role: 'admin' } },
  })
  t.notMatch(JSON.stringify(events[0]), secret, 'the audit event holds no secret')
})

t.test('the admin-token command refuses bad usage and says how to call it', async (t) => {
  const database = await sharedDatabase(t)
  for (const args of [[], ['issue'], ['grant', '--name', 'x'], ['issue', '--name', '  ']]) {
    const refused = await runCommand(database, args)
    t.equal(refused.code, 2, `${args.join(' ') || 'no arguments'}`)
    t.match(
      refused.stderr,
      'Usage: node services/control-plane/dist/admin-token.js issue --name NAME',
    )
    t.equal(refused.stdout, '', 'nothing issued')
  }
})

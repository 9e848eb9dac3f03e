import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseTarget } from '@ringmaster/db'
import { createPostgresDatabase, testDatabaseKind } from '@ringmaster/db/testing'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../../src/app.js'
import { ConfigError } from '../../../src/plugins/infra/config.js'

// Replicas are started the way the server starts them (buildApp), each with its own connections
// to one database, all at once.
const replicas = 6

/** A database that outlives the apps started on it: a PGlite data directory, or a PostgreSQL one. */
async function sharedDatabase(t: Test): Promise<DatabaseTarget> {
  if (testDatabaseKind === 'postgres') {
    const database = await createPostgresDatabase(process.env.RINGMASTER_TEST_POSTGRES_TEMPLATE)
    t.teardown(() => database.dispose())
    if (database.target.kind !== 'postgres') return database.target
    // What is tested is the bootstrap lock, not the 2 s connect timeout: six replicas opening
    // their pools at once on a loaded 2-core CI machine hit that (CONNECT_TIMEOUT) now and then.
    return { ...database.target, timeouts: { ...database.target.timeouts, connectMs: 15_000 } }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ringmaster-bootstrap-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  return { kind: 'pglite', dataDir }
}

async function start(
  t: Test,
  database: DatabaseTarget,
  adminToken: string | undefined,
  lines?: string[],
): Promise<FastifyInstance> {
  const app = await buildApp(
    { database, adminToken, engineIntervalMs: 0, webhookIntervalMs: 0, spanExportIntervalMs: 0 },
    lines ? { level: 'info', stream: { write: (line: string) => lines.push(line) } } : false,
  )
  t.teardown(() => app.close())
  return app
}

/** Starts every replica at once; resolves to what each start came to. */
function startTogether(t: Test, database: DatabaseTarget, adminTokens: (string | undefined)[]) {
  const lines: string[] = []
  return Promise.allSettled(adminTokens.map((token) => start(t, database, token, lines))).then(
    (outcomes) => ({ outcomes, lines }),
  )
}

async function liveAdminTokens(app: FastifyInstance) {
  return (await app.tokens.list()).filter((token) => token.role === 'admin' && !token.revokedAt)
}

async function tokenEvents(app: FastifyInstance) {
  return (await app.audit.listAfter(0, 500)).events.filter(
    (event) => event.action === 'token.created',
  )
}

async function status(app: FastifyInstance, token: string, url = '/v1/tokens') {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
  })
  return response.statusCode
}

function secret(label: string): string {
  return `${label}-${randomUUID()}`
}

const racing =
  testDatabaseKind === 'pglite' &&
  'needs PostgreSQL: PGlite is one process, so replicas cannot share its data directory'

t.test(
  'replicas starting together on an empty database generate exactly one admin token',
  { skip: racing },
  async (t) => {
    const database = await sharedDatabase(t)
    const { outcomes, lines } = await startTogether(t, database, Array(replicas).fill(undefined))
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') t.comment(`a replica did not start: ${outcome.reason}`)
    }
    const apps = outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value : outcome.reason,
    )
    t.same(
      outcomes.map((outcome) => outcome.status),
      Array(replicas).fill('fulfilled'),
      'every replica started',
    )
    if (outcomes.some((outcome) => outcome.status === 'rejected')) return
    const admins = await liveAdminTokens(apps[0])
    t.equal(admins.length, 1, 'one admin token')
    const printed = lines.filter((line) => line.includes('generated the bootstrap admin token'))
    t.equal(printed.length, 1, 'one secret printed, by one replica')
    const events = await tokenEvents(apps[0])
    t.equal(events.length, 1, 'one token.created event')
    t.match(events[0], {
      actor: 'system',
      subject: `token:${admins[0]!.id}`,
      data: { bootstrap: true },
    })
    const generated = /shown once, keep it\): (rm_[\w-]+)/.exec(printed[0]!)![1]!
    for (const [index, app] of apps.entries()) {
      t.equal(await status(app, generated), 200, `the printed token works on replica ${index}`)
    }
  },
)

t.test(
  'replicas configured with one RINGMASTER_ADMIN_TOKEN store it once and all accept it',
  { skip: racing },
  async (t) => {
    const database = await sharedDatabase(t)
    const configured = secret('shared-admin')
    const { outcomes } = await startTogether(t, database, Array(replicas).fill(configured))
    t.same(
      outcomes.map((outcome) => outcome.status),
      Array(replicas).fill('fulfilled'),
      'every replica started',
    )
    const apps = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    )
    t.equal((await liveAdminTokens(apps[0]!)).length, 1, 'one admin token')
    t.equal((await tokenEvents(apps[0]!)).length, 1, 'one token.created event')
    for (const [index, app] of apps.entries()) {
      t.equal(await status(app, configured), 200, `the configured token works on replica ${index}`)
    }
  },
)

t.test(
  'replicas configured with different tokens: one starts, the others refuse and say why',
  { skip: racing },
  async (t) => {
    const database = await sharedDatabase(t)
    const configured = Array.from({ length: replicas }, (_, index) => secret(`admin-${index}`))
    const { outcomes } = await startTogether(t, database, configured)
    const started = outcomes.flatMap((outcome, index) =>
      outcome.status === 'fulfilled' ? [{ app: outcome.value, token: configured[index]! }] : [],
    )
    t.equal(started.length, 1, 'exactly one replica started')
    const winner = started[0]!
    t.equal((await liveAdminTokens(winner.app)).length, 1, 'one admin token')
    t.equal(await status(winner.app, winner.token), 200, "the winner's token works")
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue
      t.type(outcome.reason, ConfigError, `replica ${index} refused with a configuration error`)
      t.match(outcome.reason.message, 'RINGMASTER_ADMIN_TOKEN is not a live token of this database')
      t.match(outcome.reason.message, 'admin-token.js issue --name')
      for (const token of configured)
        t.notMatch(outcome.reason.message, token, 'no secret in the message')
    }
  },
)

t.test('a configured token either works or the start fails saying why', async (t) => {
  const database = await sharedDatabase(t)
  const first = secret('first-admin')
  const other = secret('other-admin')

  let app = await start(t, database, first)
  t.equal(await status(app, first), 200)
  const viewer = await app.tokens.create(
    { actor: { tokenId: 'test', tokenName: 'test', subject: 'test', role: 'admin', ring: null } },
    { name: 'reader', role: 'viewer', subject: 'vic' },
  )
  await app.close()

  const mismatch = await start(t, database, other).then(
    () => t.fail('started with a token the database does not know'),
    (error: unknown) => error,
  )
  t.type(mismatch, ConfigError)
  t.match(
    (mismatch as Error).message,
    /RINGMASTER_ADMIN_TOKEN is not a live token of this database, which already has an admin token/,
  )
  t.match((mismatch as Error).message, 'Refusing to start')
  t.notMatch((mismatch as Error).message, other, 'the configured secret is not in the message')
  t.notMatch((mismatch as Error).message, first)

  const viewerAsAdmin = await start(t, database, viewer.secret).then(
    () => t.fail('started with a viewer token as RINGMASTER_ADMIN_TOKEN'),
    (error: unknown) => error,
  )
  t.type(viewerAsAdmin, ConfigError)
  t.match(
    (viewerAsAdmin as Error).message,
    `is token ${viewer.token.id} ('reader'), whose role is viewer, not admin`,
  )
  t.notMatch((viewerAsAdmin as Error).message, viewer.secret)

  // The refused starts changed nothing, and the right token still starts and works.
  app = await start(t, database, first)
  t.equal(await status(app, first), 200)
  t.equal(await status(app, other), 401)
  t.equal((await liveAdminTokens(app)).length, 1, 'still one admin token')
  t.equal((await tokenEvents(app)).length, 2, 'the bootstrap and the viewer token; nothing else')

  // Revoked: the bootstrap token is replaced by another admin, then revoked.
  const replacement = await app.tokens.create(
    { actor: { tokenId: 'test', tokenName: 'test', subject: 'test', role: 'admin', ring: null } },
    { name: 'ops', role: 'admin', subject: 'ops' },
  )
  const [bootstrap] = (await liveAdminTokens(app)).filter(
    (token) => token.name === 'bootstrap-admin',
  )
  await app.tokens.revoke(
    { actor: { tokenId: 'test', tokenName: 'test', subject: 'test', role: 'admin', ring: null } },
    bootstrap!.id,
  )
  await app.close()
  const revoked = await start(t, database, first).then(
    () => t.fail('started with a revoked RINGMASTER_ADMIN_TOKEN'),
    (error: unknown) => error,
  )
  t.type(revoked, ConfigError)
  t.match((revoked as Error).message, 'or it was revoked')
  app = await start(t, database, undefined)
  t.equal(
    await status(app, replacement.secret),
    200,
    'unset, the start goes on with the admins there are',
  )
})

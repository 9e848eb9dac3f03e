import { hostname, userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import { DrizzleStore, migrateDatabase, openDatabase } from '@ringmaster/db'
import { type Actor, systemClock, TokenService } from '@ringmaster/domain'
import { tokenSecrets } from './credentials/token-secrets.js'
import { ConfigError, loadConfig } from './plugins/infra/config.js'

// The operator's way back in when every admin secret is lost: run where the database is reachable,
// with the server's DATABASE_URL (or RINGMASTER_DATA_DIR, with the server stopped: PGlite admits
// one process). It issues one new admin token, prints its secret once and audits it.

const usage = `Usage: node services/control-plane/dist/admin-token.js issue --name NAME [--subject SUBJECT]

Issues a new admin token straight into the database (DATABASE_URL, or the PGlite data directory
RINGMASTER_DATA_DIR with the control plane stopped), prints its secret once on stdout, stores it
hashed and records a token.created audit event by the admin-token command.
`

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>
  try {
    parsed = parseArguments(argv)
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`)
    return 2
  }
  if (parsed.help) {
    process.stdout.write(usage)
    return 0
  }
  let config: ReturnType<typeof loadConfig>
  try {
    // Only the database settings matter here; the rest of the environment is not checked.
    config = loadConfig({
      DATABASE_URL: process.env.DATABASE_URL,
      RINGMASTER_DATA_DIR: process.env.RINGMASTER_DATA_DIR,
    })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, maxConnections: 1 }
      : { kind: 'pglite', dataDir: config.dataDir },
  )
  try {
    await migrateDatabase(database)
    const operator = `${userInfo().username}@${hostname()}`
    const actor: Actor = {
      tokenId: 'admin-token-command',
      tokenName: 'admin-token command',
      subject: 'admin-token-command',
      role: 'admin',
      ring: null,
    }
    const tokens = new TokenService(new DrizzleStore(database.db), tokenSecrets, systemClock)
    const issued = await tokens.issueRecoveryAdmin(
      { actor, requestId: `admin-token-command:${operator}` },
      { name: parsed.name, subject: parsed.subject },
    )
    process.stderr.write(
      `issued admin token ${issued.token.id} ('${issued.token.name}', subject '${issued.token.subject}'); its secret follows, shown once:\n`,
    )
    process.stdout.write(`${issued.secret}\n`)
    return 0
  } finally {
    await database.close()
  }
}

function parseArguments(argv: string[]): { help: boolean; name: string; subject: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      subject: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return { help: true, name: '', subject: '' }
  if (positionals.length !== 1 || positionals[0] !== 'issue') {
    throw new Error(`expected the command 'issue'; got ${positionals.join(' ') || 'nothing'}`)
  }
  const name = values.name?.trim()
  if (!name)
    throw new Error('--name is required: what the token is for, e.g. --name recovered-admin')
  if (name.length > 100) throw new Error('--name must be at most 100 characters')
  const subject = values.subject?.trim() || name
  if (subject.length > 100) throw new Error('--subject must be at most 100 characters')
  return { help: false, name, subject }
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  // drizzle wraps the driver's error ("Failed query: …"); the cause says what went wrong.
  const cause = (error as { cause?: Error }).cause
  process.stderr.write(`admin-token: ${cause?.message ?? (error as Error).message}\n`)
  return 1
})

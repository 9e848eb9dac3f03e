import { startTelemetry } from '@ringmaster/telemetry'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, consoleDirPath, loadConfig } from './plugins/infra/config.js'
import { controlPlaneVersion } from './plugins/infra/telemetry.js'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(2)
  }
  throw error
}

// Before the app is built, so its first requests are traced. Nothing here patches modules
// (@fastify/otel is a plugin), so the order of imports does not matter.
const telemetry = startTelemetry({
  serviceName: 'ringmaster',
  serviceVersion: controlPlaneVersion,
  publicUrl: config.publicUrl,
})

let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp(
    {
      database: config.databaseUrl
        ? { kind: 'postgres', url: config.databaseUrl }
        : { kind: 'pglite', dataDir: config.dataDir },
      adminToken: config.adminToken,
      engineIntervalMs: config.engineIntervalMs,
      consoleUrl: config.consoleUrl,
      spanExportIntervalMs: config.spanExportIntervalMs,
      rolloutSpanExporter: telemetry.rolloutSpanExporter,
      sessionTtlMs: config.sessionTtlMs,
      sessionKey: config.sessionKey,
      traceUrlTemplate: config.traceUrlTemplate,
      consoleDir: consoleDirPath(),
    },
    { level: config.logLevel },
    { trustProxy: config.trustProxy },
  )
} catch (error) {
  // Configuration the database contradicts (RINGMASTER_ADMIN_TOKEN): said plainly, like the rest.
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
    await telemetry.shutdown(1_000)
    process.exit(2)
  }
  throw error
}

// SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the database, exit.
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
  // Bounded: a missing collector must not hold the exit past close-with-grace's delay.
  await telemetry.shutdown(3_000)
})

await app.listen({ port: config.port, host: config.host })
app.log.info(
  config.databaseUrl
    ? 'using PostgreSQL from DATABASE_URL'
    : `using the embedded database in ${config.dataDir}`,
)

import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DatabaseTarget } from '@ringmaster/db'
import { type Clock, defaultConsoleSessionTtlMs } from '@ringmaster/domain'
import type { RolloutSpanExporter } from '@ringmaster/telemetry'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { buildResponseSerializer } from './http/response-serializers.js'
import { adminBootstrapPlugin } from './plugins/app/admin-bootstrap.js'
import { afterCommitPlugin } from './plugins/app/after-commit.js'
import { domainServicesPlugin } from './plugins/app/domain-services.js'
import { flagSnapshotsPlugin } from './plugins/app/flag-snapshots.js'
import { reliabilityMetricsPlugin } from './plugins/app/reliability-metrics.js'
import { apiModelsPlugin } from './plugins/infra/api-models.js'
import { authPlugin } from './plugins/infra/auth.js'
import { consoleSessionPlugin } from './plugins/infra/console-session.js'
import { corsPlugin } from './plugins/infra/cors.js'
import { databasePlugin } from './plugins/infra/database.js'
import { databaseAvailabilityPlugin } from './plugins/infra/database-availability.js'
import {
  answerClientError,
  errorHandlerPlugin,
  sendFrameworkError,
} from './plugins/infra/error-handler.js'
import { shuttingDownPlugin } from './plugins/infra/shutting-down.js'
import { swaggerPlugin } from './plugins/infra/swagger.js'
import { telemetryPlugin } from './plugins/infra/telemetry.js'
import { validationPlugin } from './plugins/infra/validation.js'
import { apiModels } from './routes/api-models.js'
import { cliRoutes } from './routes/cli/cli-routes.js'
import { clientApiRoutes } from './routes/client-api/client-api-routes.js'
import { clientStreamingRoutes } from './routes/client-api/client-streaming-routes.js'
import { consoleRoutes } from './routes/console/console-routes.js'
import { deploymentRoutes } from './routes/deployments/deployment-routes.js'
import { evaluationRoutes } from './routes/evaluation/evaluation-routes.js'
import { eventRoutes } from './routes/events/event-routes.js'
import { eventStreamRoutes } from './routes/events/event-stream-routes.js'
import { flagMetricsRoutes } from './routes/flags/flag-metrics-routes.js'
import { flagRoutes } from './routes/flags/flag-routes.js'
import { freezeWindowRoutes } from './routes/freeze-windows/freeze-window-routes.js'
import { frontendApiRoutes } from './routes/frontend-api/frontend-api-routes.js'
import { haltRoutes } from './routes/halts/halt-routes.js'
import { healthRoutes } from './routes/health/health-routes.js'
import { inboxRoutes } from './routes/inbox/inbox-routes.js'
import { incidentRoutes } from './routes/incidents/incident-routes.js'
import { ofrepRoutes } from './routes/ofrep/ofrep-routes.js'
import { releaseRoutes } from './routes/releases/release-routes.js'
import { reportRoutes } from './routes/reports/report-routes.js'
import { ringRoutes } from './routes/rings/ring-routes.js'
import { scaleUnitRoutes } from './routes/scale-units/scale-unit-routes.js'
import { segmentRoutes } from './routes/segments/segment-routes.js'
import { serviceRoutes } from './routes/services/service-routes.js'
import { sessionRoutes } from './routes/sessions/session-routes.js'
import { tokenRoutes } from './routes/tokens/token-routes.js'
import { webhookRoutes } from './routes/webhooks/webhook-routes.js'
import { flagMetricsWriterPlugin } from './workers/flag-metrics-writer.js'
import { promotionWorkerPlugin } from './workers/promotion-worker.js'
import { rolloutSpanExporterPlugin } from './workers/rollout-span-exporter.js'
import { webhookSenderPlugin } from './workers/webhook-sender.js'

export interface AppOptions {
  database: DatabaseTarget
  adminToken?: string | undefined
  /** Where time comes from; tests pass one they can move. */
  clock?: Clock | undefined
  /** How often the promotion worker looks for due releases; 0 turns the timer off. */
  engineIntervalMs?: number | undefined
  /** How often the webhook sender looks for due deliveries; 0 turns the timer off. */
  webhookIntervalMs?: number | undefined
  /** Where the console is (RINGMASTER_PUBLIC_URL): webhook deliveries link to it; none without. */
  consoleUrl?: string | undefined
  /** How often flag snapshots are checked against the database's revisions; 0 turns it off. */
  flagCheckIntervalMs?: number | undefined
  /** How often SDK metrics held in memory are written; 0 writes only on close and on read. */
  flagMetricsIntervalMs?: number | undefined
  /** How often stored rollout spans are exported; 0 turns the timer (and the flush on close) off. */
  spanExportIntervalMs?: number | undefined
  /** How long an SDK token found valid is trusted before a background re-check (10 s). */
  sdkTokenFreshMs?: number | undefined
  /** Where rollout spans go (the server passes its telemetry's); built from OTEL_* otherwise. */
  rolloutSpanExporter?: RolloutSpanExporter | undefined
  /** How long a console session lasts after sign-in (RINGMASTER_SESSION_TTL; 8 hours). */
  sessionTtlMs?: number | undefined
  /** RINGMASTER_SESSION_KEY; unset: a cookie key generated once and kept in the database. */
  sessionKey?: string | undefined
  /** RINGMASTER_TRACE_URL_TEMPLATE, handed to the console to link a release's trace. */
  traceUrlTemplate?: string | undefined
  /** The built console to serve (RINGMASTER_CONSOLE_DIR, else services/console/dist). */
  consoleDir?: string | undefined
}

/**
 * The whole control plane as one plugin, in registration order: infra, app, routes. It is not
 * encapsulated, so whoever builds it (the server, a test) sees its decorators.
 */
export const app = fp(async function ringmaster(fastify: FastifyInstance, options: AppOptions) {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    done(null, payload)
  })
  // First, so the request span covers every hook registered after it.
  await fastify.register(telemetryPlugin)
  await fastify.register(errorHandlerPlugin)
  await fastify.register(shuttingDownPlugin)
  await fastify.register(validationPlugin)
  // Before swagger and every route: routes refer to the models by name from here on.
  await fastify.register(apiModelsPlugin, { models: apiModels })
  await fastify.register(corsPlugin)
  await fastify.register(databasePlugin, { target: options.database })
  // Before auth, so a request that needs the database does not even look up its token while
  // the database is away.
  await fastify.register(databaseAvailabilityPlugin)
  // Before the domain services, which dispatch to it; the workers below subscribe to it.
  await fastify.register(afterCommitPlugin)
  await fastify.register(domainServicesPlugin, {
    clock: options.clock,
    consoleSessionTtlMs: options.sessionTtlMs,
  })
  await fastify.register(reliabilityMetricsPlugin)
  await fastify.register(flagSnapshotsPlugin, { checkIntervalMs: options.flagCheckIntervalMs })
  // Before auth: its cookie is read before the bearer check, which falls back to it.
  await fastify.register(consoleSessionPlugin, {
    key: options.sessionKey,
    ttlMs: options.sessionTtlMs ?? defaultConsoleSessionTtlMs,
  })
  await fastify.register(authPlugin, { sdkTokenFreshMs: options.sdkTokenFreshMs })
  await fastify.register(swaggerPlugin)
  await fastify.register(adminBootstrapPlugin, { adminToken: options.adminToken })
  await fastify.register(promotionWorkerPlugin, { intervalMs: options.engineIntervalMs ?? 1000 })
  await fastify.register(webhookSenderPlugin, {
    intervalMs: options.webhookIntervalMs ?? 1000,
    consoleUrl: options.consoleUrl,
  })
  await fastify.register(rolloutSpanExporterPlugin, {
    intervalMs: options.spanExportIntervalMs ?? 1000,
    exporter: options.rolloutSpanExporter,
  })
  await fastify.register(flagMetricsWriterPlugin, {
    intervalMs: options.flagMetricsIntervalMs ?? 10_000,
  })

  await fastify.register(healthRoutes)
  await fastify.register(cliRoutes)
  await fastify.register(sessionRoutes, { traceUrlTemplate: options.traceUrlTemplate })
  await fastify.register(tokenRoutes)
  await fastify.register(serviceRoutes)
  await fastify.register(ringRoutes)
  await fastify.register(scaleUnitRoutes)
  await fastify.register(eventRoutes)
  await fastify.register(eventStreamRoutes)
  await fastify.register(releaseRoutes)
  await fastify.register(inboxRoutes)
  await fastify.register(deploymentRoutes)
  await fastify.register(haltRoutes)
  await fastify.register(freezeWindowRoutes)
  await fastify.register(incidentRoutes)
  await fastify.register(reportRoutes)
  await fastify.register(webhookRoutes)
  await fastify.register(flagRoutes)
  await fastify.register(segmentRoutes)
  await fastify.register(flagMetricsRoutes)
  await fastify.register(evaluationRoutes)
  await fastify.register(clientApiRoutes)
  await fastify.register(clientStreamingRoutes)
  await fastify.register(frontendApiRoutes)
  await fastify.register(ofrepRoutes)
  // Last: every path the API does not claim is the console's.
  await fastify.register(consoleRoutes, { consoleDir: options.consoleDir })
})

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/

export interface LoggingOptions {
  level: string
  /** Where log lines go; stdout when omitted. */
  stream?: { write(line: string): void } | undefined
}

export interface ProxyOptions {
  /** RINGMASTER_TRUST_PROXY: whose X-Forwarded-Proto and X-Forwarded-For to believe. */
  trustProxy?: boolean | number | string | undefined
}

/** Fastify options that must be set when the instance is made, shared by the server and tests. */
export function serverOptions(
  logging: LoggingOptions | false,
  proxy: ProxyOptions = {},
): FastifyServerOptions {
  return {
    // Behind a TLS-terminating proxy the session cookie is Secure only when this is believed.
    // A hop count is accepted at run time (proxy-addr) though Fastify's type leaves it out.
    trustProxy: (proxy.trustProxy ?? false) as FastifyServerOptions['trustProxy'],
    logger: logging && {
      level: logging.level,
      ...(logging.stream && { stream: logging.stream }),
      // Tokens travel in these headers; they must never reach a log line.
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-csrf-token"]',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
    },
    // A caller's X-Request-Id is kept when it is sane, so one id follows a request across systems.
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && requestIdPattern.test(incoming)
        ? incoming
        : randomUUID()
    },
    bodyLimit: 1024 * 1024,
    // Opening PGlite and migrating a fresh data directory can take longer than the 10 s default.
    pluginTimeout: 120_000,
    // Requests that come while the app closes get a problem document instead (shutting-down.ts).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before the error handler (a bad URL, an over-long path parameter, a request
    // Node's parser refuses) are problems like every other error.
    frameworkErrors: sendFrameworkError,
    clientErrorHandler: answerClientError,
    // Each response serializer is compiled with only the API models it reads, and reused across
    // apps in one process (http/response-serializers.ts).
    schemaController: { compilersFactory: { buildSerializer: buildResponseSerializer } },
  }
}

/** Builds a ready app; the server listens on it, tests inject into it. */
export async function buildApp(
  options: AppOptions,
  logging: LoggingOptions | false = false,
  proxy: ProxyOptions = {},
): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(logging, proxy)).withTypeProvider<TypeBoxTypeProvider>()
  try {
    await fastify.register(app, options)
    await fastify.ready()
  } catch (error) {
    // A start refused half-way (RINGMASTER_ADMIN_TOKEN contradicts the database) must not leave
    // the database connections it opened behind.
    await fastify.close().catch(() => {})
    throw error
  }
  return fastify
}

import {
  AuditService,
  type Clock,
  ConsoleSessionService,
  DeploymentService,
  FlagMetricsService,
  FlagService,
  InboxService,
  IncidentService,
  ReleaseEngine,
  ReleaseService,
  ReportService,
  StopTheLineService,
  systemClock,
  TokenService,
  TopologyService,
  WebhookService,
} from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { consoleSessionSecrets } from '../../credentials/console-session-secrets.js'
import { tokenSecrets } from '../../credentials/token-secrets.js'
import { webhookSecrets } from '../../credentials/webhook-secrets.js'

declare module 'fastify' {
  interface FastifyInstance {
    topology: TopologyService
    tokens: TokenService
    consoleSessions: ConsoleSessionService
    audit: AuditService
    releases: ReleaseService
    deployments: DeploymentService
    stopTheLine: StopTheLineService
    releaseEngine: ReleaseEngine
    webhooks: WebhookService
    flags: FlagService
    flagMetrics: FlagMetricsService
    incidents: IncidentService
    inbox: InboxService
    reports: ReportService
  }
}

export interface DomainServicesOptions {
  /** Where time comes from; tests pass one they can move. */
  clock?: Clock | undefined
  /** How long a console session lasts after sign-in (8 hours when unset). */
  consoleSessionTtlMs?: number | undefined
}

/** The domain services, built once over the store and shared by the routes. */
export const domainServicesPlugin = fp(
  async (fastify: FastifyInstance, options: DomainServicesOptions) => {
    const clock = options.clock ?? systemClock
    const afterCommit = fastify.afterCommit
    fastify.decorate('topology', new TopologyService(fastify.store))
    fastify.decorate(
      'tokens',
      new TokenService(fastify.store, tokenSecrets, systemClock, afterCommit),
    )
    fastify.decorate(
      'consoleSessions',
      new ConsoleSessionService(
        fastify.store,
        fastify.tokens,
        consoleSessionSecrets,
        clock,
        options.consoleSessionTtlMs,
      ),
    )
    fastify.decorate('audit', new AuditService(fastify.store))
    fastify.decorate('releases', new ReleaseService(fastify.store, clock, afterCommit))
    fastify.decorate('deployments', new DeploymentService(fastify.store, clock, afterCommit))
    fastify.decorate('stopTheLine', new StopTheLineService(fastify.store, clock, afterCommit))
    fastify.decorate('releaseEngine', new ReleaseEngine(fastify.store, clock))
    fastify.decorate('webhooks', new WebhookService(fastify.store, webhookSecrets, clock))
    fastify.decorate('flags', new FlagService(fastify.store, afterCommit))
    fastify.decorate('flagMetrics', new FlagMetricsService(fastify.store, clock))
    fastify.decorate('incidents', new IncidentService(fastify.store, clock))
    fastify.decorate('inbox', new InboxService(fastify.store, clock))
    fastify.decorate('reports', new ReportService(fastify.store, clock))
  },
  { name: 'domain-services', dependencies: ['database', 'after-commit'] },
)

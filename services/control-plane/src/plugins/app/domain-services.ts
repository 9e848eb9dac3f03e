import {
  AuditService,
  type Clock,
  DeploymentService,
  FlagMetricsService,
  FlagService,
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
import { tokenSecrets } from '../../credentials/token-secrets.js'
import { webhookSecrets } from '../../credentials/webhook-secrets.js'

declare module 'fastify' {
  interface FastifyInstance {
    topology: TopologyService
    tokens: TokenService
    audit: AuditService
    releases: ReleaseService
    deployments: DeploymentService
    stopTheLine: StopTheLineService
    releaseEngine: ReleaseEngine
    webhooks: WebhookService
    flags: FlagService
    flagMetrics: FlagMetricsService
    incidents: IncidentService
    reports: ReportService
  }
}

export interface DomainServicesOptions {
  /** Where time comes from; tests pass one they can move. */
  clock?: Clock | undefined
}

/** The domain services, built once over the store and shared by the routes. */
export const domainServicesPlugin = fp(
  async (fastify: FastifyInstance, options: DomainServicesOptions) => {
    const clock = options.clock ?? systemClock
    // The promotion worker is registered after this plugin; commands reach it when they run.
    const changed = (releaseIds: number[]) => fastify.promotionWorker?.kick(releaseIds)
    fastify.decorate('topology', new TopologyService(fastify.store))
    fastify.decorate(
      'tokens',
      // The auth plugin is registered after this one; revocations reach its cache when they run.
      new TokenService(fastify.store, tokenSecrets, systemClock, (id) =>
        fastify.sdkTokens?.forget(id),
      ),
    )
    fastify.decorate('audit', new AuditService(fastify.store))
    fastify.decorate('releases', new ReleaseService(fastify.store, clock, changed))
    fastify.decorate('deployments', new DeploymentService(fastify.store, clock, changed))
    fastify.decorate('stopTheLine', new StopTheLineService(fastify.store, clock, changed))
    fastify.decorate('releaseEngine', new ReleaseEngine(fastify.store, clock))
    fastify.decorate('webhooks', new WebhookService(fastify.store, webhookSecrets, clock))
    fastify.decorate(
      'flags',
      // Refreshing this replica's snapshots before answering: a client that changes a flag and
      // then polls the same replica sees its change.
      new FlagService(fastify.store, (rings) =>
        Promise.all(rings.map((ring) => fastify.flagSnapshots?.refresh(ring))).then(() => {}),
      ),
    )
    fastify.decorate('flagMetrics', new FlagMetricsService(fastify.store, clock))
    fastify.decorate('incidents', new IncidentService(fastify.store, clock))
    fastify.decorate('reports', new ReportService(fastify.store, clock))
  },
  { name: 'domain-services', dependencies: ['database'] },
)

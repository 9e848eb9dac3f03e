import { AuditService, TokenService, TopologyService } from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { tokenSecrets } from '../infra/token-secrets.js'

declare module 'fastify' {
  interface FastifyInstance {
    topology: TopologyService
    tokens: TokenService
    audit: AuditService
  }
}

/** The domain services, built once over the store and shared by the routes. */
export const domainServicesPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.decorate('topology', new TopologyService(fastify.store))
    fastify.decorate('tokens', new TokenService(fastify.store, tokenSecrets))
    fastify.decorate('audit', new AuditService(fastify.store))
  },
  { name: 'domain-services', dependencies: ['database'] },
)

import { systemActor } from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface AdminBootstrapOptions {
  /** RINGMASTER_ADMIN_TOKEN; undefined generates a secret and prints it once. */
  adminToken: string | undefined
}

/** On a database with no live admin token, makes one so that somebody can log in. */
export const adminBootstrapPlugin = fp(
  async (fastify: FastifyInstance, options: AdminBootstrapOptions) => {
    const bootstrap = await fastify.tokens.ensureAdmin({ actor: systemActor }, options.adminToken)
    if (bootstrap.outcome === 'configured') {
      fastify.log.info(
        { tokenId: bootstrap.token.id },
        'stored RINGMASTER_ADMIN_TOKEN as the bootstrap admin token',
      )
    }
    if (bootstrap.outcome === 'generated') {
      // The only time a secret is written to the log: there is no other way to hand it over.
      fastify.log.warn(
        { tokenId: bootstrap.token.id },
        `generated the bootstrap admin token (shown once, keep it): ${bootstrap.secret}`,
      )
    }
  },
  { name: 'admin-bootstrap', dependencies: ['domain-services'] },
)

import { ConflictError, systemActor } from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConfigError } from '../infra/config.js'

export interface AdminBootstrapOptions {
  /** RINGMASTER_ADMIN_TOKEN; undefined generates a secret and prints it once. */
  adminToken: string | undefined
}

/**
 * On a database with no live admin token, makes one so that somebody can log in. A configured
 * RINGMASTER_ADMIN_TOKEN that is not a live admin token fails the start (a ConfigError, which the
 * server prints and exits 2 on) instead of answering 401 later.
 */
export const adminBootstrapPlugin = fp(
  async (fastify: FastifyInstance, options: AdminBootstrapOptions) => {
    const bootstrap = await fastify.tokens
      .ensureAdmin({ actor: systemActor }, options.adminToken)
      .catch((error: unknown) => {
        if (error instanceof ConflictError && error.code === 'admin-token-mismatch') {
          throw new ConfigError([error.message])
        }
        throw error
      })
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

import { isSdkRole } from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sendDatabaseUnavailable } from './error-handler.js'

/**
 * While the database is known to be away (its availability probe failed), a request that needs
 * it is answered at once with 503 /problems/database-unavailable and Retry-After instead of
 * waiting on a connection that will not answer. SDK routes are let through: they are served from
 * memory (flag snapshots, cached tokens, buffered metrics). Public routes decide for themselves
 * (`/readyz` says not ready; `/healthz` and the docs need no database).
 */
export const databaseAvailabilityPlugin = fp(
  async (fastify: FastifyInstance) => {
    const availability = fastify.database.availability
    const log = fastify.log.child({ component: 'database-availability' })
    let awaySince: number | undefined
    const stop = availability.onChange((available) => {
      if (!available) {
        awaySince = Date.now()
        log.error('the database does not answer; refusing requests that need it until it does')
        return
      }
      log.info({ awayMs: awaySince && Date.now() - awaySince }, 'the database answers again')
      awaySince = undefined
    })
    fastify.addHook('onClose', async () => {
      stop()
    })

    fastify.addHook('onRequest', (request, reply, done) => {
      if (availability.available) return done()
      const access = request.routeOptions.config?.access
      if (access === undefined || access === 'public' || access.some(isSdkRole)) return done()
      sendDatabaseUnavailable(request, reply)
    })
  },
  { name: 'database-availability', dependencies: ['database', 'error-handler'] },
)

import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sendProblem } from './error-handler.js'

/**
 * While the app closes, its workers finish their round and streams end (the preClose hooks), and
 * the listener still takes requests all that time. Each is answered 503 /problems/shutting-down
 * with Retry-After, so a client or load balancer tries again or goes to another replica, and no
 * handler starts work (a stream that never ends, a write) on an app about to close its database.
 * Fastify's own answer (return503OnClosing, off in serverOptions) is plain JSON without a type,
 * which a client cannot tell from any other 503. Every answer sent while closing closes its
 * connection.
 */
export const shuttingDownPlugin = fp(
  async (fastify: FastifyInstance) => {
    let closing = false
    // Registered before the workers, so this runs first of the preClose hooks.
    fastify.addHook('preClose', async () => {
      closing = true
    })
    // A request in flight when the close began is answered as usual, but on a connection that
    // then closes: a keep-alive socket left open would hold the exit until the client drops it.
    // Callback style: every response runs this, and an async hook would cost each one a promise.
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close')
      done(null, payload)
    })
    fastify.addHook('onRequest', async (request, reply) => {
      if (!closing) return
      reply.header('retry-after', '1').header('connection', 'close')
      return sendProblem(request, reply, {
        status: 503,
        type: 'shutting-down',
        detail: 'the control plane is shutting down; try again in a moment',
      })
    })
  },
  { name: 'shutting-down', dependencies: ['error-handler'] },
)

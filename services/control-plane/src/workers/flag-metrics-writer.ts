import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PeriodicTask } from './periodic-task.js'

export interface FlagMetricsWriterOptions {
  /** How often SDK metrics held in memory are written; 0 = only on close and when read. */
  intervalMs: number
}

/**
 * Writes the SDK metrics and registrations this replica has added up (see FlagMetricsService) on
 * a timer and once more on close. A failed write keeps the counts for the next one; a record the
 * database refuses is dropped alone (FlagMetricsService.flush).
 */
export const flagMetricsWriterPlugin = fp(
  async (fastify: FastifyInstance, options: FlagMetricsWriterOptions) => {
    const log = fastify.log.child({ component: 'flag-metrics-writer' })
    let failing = false
    const write = async () => {
      try {
        const { refused } = await fastify.flagMetrics.flush()
        if (refused.length > 0) {
          log.warn({ refused }, 'the database refused some SDK metrics; they were dropped')
        }
        if (failing) log.info('flag metrics written again')
        failing = false
      } catch (error) {
        if (!failing)
          log.error({ err: error }, 'could not write flag metrics; keeping them in memory')
        failing = true
      }
    }
    // What was held while the database was away is written as soon as it answers again.
    const stopWatching = fastify.database.availability.onChange((available) => {
      if (available && failing) void write()
    })
    const periodic = new PeriodicTask('flag metrics writing', write, {
      intervalMs: options.intervalMs,
      log,
    })
    fastify.addHook('onReady', async () => periodic.start())
    fastify.addHook('onClose', async () => {
      await periodic.stop()
      stopWatching()
      await write()
    })
  },
  { name: 'flag-metrics-writer', dependencies: ['domain-services'] },
)

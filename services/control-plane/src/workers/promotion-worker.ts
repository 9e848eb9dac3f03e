import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { ReleaseEngine } from '@ringmaster/domain'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PeriodicTask } from './periodic-task.js'

declare module 'fastify' {
  interface FastifyInstance {
    promotionWorker: PromotionWorker
  }
}

export interface PromotionWorkerOptions {
  /** How often to look for due releases (bakes ending, other replicas' changes). 0 = never. */
  intervalMs: number
}

/**
 * Runs the release engine inside the service. Commands tell it which releases changed (`kick`);
 * a timer finds releases that are due (bakes ending, changes made on another replica, work a
 * crashed replica left behind). Kicks for a release that is being advanced are folded into one
 * more pass, so a burst of executor reports costs a few advances, not one each.
 */
export class PromotionWorker {
  readonly owner = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
  private readonly running = new Map<number, Promise<void>>()
  private readonly again = new Set<number>()
  private ticking: Promise<void> | null = null
  private tickRequested = false
  private periodic: PeriodicTask | null = null
  private stopped = false

  constructor(
    private readonly engine: ReleaseEngine,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Releases that may be able to move; [] means "any of them" (a halt was lifted). */
  kick(releaseIds: readonly number[]): void {
    if (this.stopped) return
    if (releaseIds.length === 0) {
      void this.tick()
      return
    }
    for (const id of releaseIds) this.advance(id)
  }

  /** Looks for due releases now; resolves when they have been advanced. */
  tick(): Promise<void> {
    if (this.ticking) {
      this.tickRequested = true
      return this.ticking
    }
    this.ticking = (async () => {
      do {
        this.tickRequested = false
        try {
          const leased = await this.engine.tick(this.owner)
          // Kicks that arrived meanwhile still run; the leased ones were advanced by tick itself.
          if (leased.length > 0) this.log.debug({ releases: leased }, 'promotion tick')
        } catch (error) {
          this.log.error({ err: error }, 'promotion tick failed; the next one retries')
        }
      } while (this.tickRequested && !this.stopped)
      this.ticking = null
    })()
    return this.ticking
  }

  /** Resolves when no advance or tick is running (tests use it to wait for the engine). */
  async settle(): Promise<void> {
    while (this.running.size > 0 || this.ticking) {
      await Promise.all([...this.running.values(), this.ticking])
    }
  }

  start(intervalMs: number): void {
    if (this.stopped || this.periodic) return
    this.periodic = new PeriodicTask('promotion tick', () => this.tick(), {
      intervalMs,
      log: this.log,
    })
    this.periodic.start()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.periodic?.stop()
    await this.settle()
  }

  private advance(id: number): void {
    if (this.running.has(id)) {
      this.again.add(id)
      return
    }
    const run = (async () => {
      do {
        this.again.delete(id)
        try {
          await this.engine.advance(id)
        } catch (error) {
          this.log.error(
            { err: error, releaseId: id },
            'advancing a release failed; the next tick retries',
          )
        }
      } while (this.again.has(id) && !this.stopped)
      this.running.delete(id)
    })()
    this.running.set(id, run)
  }
}

export const promotionWorkerPlugin = fp(
  async (fastify: FastifyInstance, options: PromotionWorkerOptions) => {
    const worker = new PromotionWorker(fastify.releaseEngine, fastify.log)
    fastify.decorate('promotionWorker', worker)
    fastify.afterCommit.subscribe('releases-changed', (effect) => worker.kick(effect.releaseIds))
    // Started when the app is ready, so a restarted replica picks up where the database says.
    fastify.addHook('onReady', async () => {
      worker.start(options.intervalMs)
      void worker.tick()
    })
    fastify.addHook('preClose', async () => {
      await worker.stop()
    })
  },
  { name: 'promotion-worker', dependencies: ['domain-services', 'after-commit'] },
)

import { type Effect, type EffectKind, type EffectOutlet, effectKinds } from '@ringmaster/domain'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where commands' effects go once they commit; workers subscribe to the kinds they act on. */
    afterCommit: AfterCommit
  }
}

export type EffectSubscriber<K extends EffectKind> = (
  effect: Extract<Effect, { kind: K }>,
) => Promise<void> | void

/**
 * The after-commit outlet of this replica: the domain services dispatch committed effects here,
 * and it hands each one to the subscribers of its kind. Other replicas learn of the same changes
 * from the database (NOTIFY, their timers), not from here.
 */
export class AfterCommit implements EffectOutlet {
  private readonly subscribers = new Map<EffectKind, ((effect: Effect) => Promise<void> | void)[]>()

  constructor(private readonly log: FastifyBaseLogger) {}

  subscribe<K extends EffectKind>(kind: K, subscriber: EffectSubscriber<K>): void {
    const list = this.subscribers.get(kind) ?? []
    // Kept by kind, so dispatch only ever hands it an effect of kind K.
    list.push(subscriber as unknown as (effect: Effect) => Promise<void> | void)
    this.subscribers.set(kind, list)
  }

  /**
   * Awaits every subscriber, so a client that changed something and asks this replica next sees
   * its change. A subscriber that fails is logged, not thrown: the change has committed, and an
   * error here would make the client retry a change that already happened; the worker's own
   * timer catches up.
   */
  async dispatch(effects: readonly Effect[]): Promise<void> {
    await Promise.all(
      effects.flatMap((effect) =>
        (this.subscribers.get(effect.kind) ?? []).map(async (subscriber) => {
          try {
            await subscriber(effect)
          } catch (error) {
            this.log.error({ err: error, effect }, 'an after-commit subscriber failed')
          }
        }),
      ),
    )
  }

  /** The effect kinds nobody subscribed to; the app refuses to start while there is one. */
  unheardKinds(): EffectKind[] {
    return effectKinds.filter((kind) => (this.subscribers.get(kind)?.length ?? 0) === 0)
  }
}

/**
 * Decorates `afterCommit` before the domain services, which are built with it. Workers and caches
 * registered later subscribe; `ready()` fails if an effect kind is left without a subscriber, so
 * a plugin dropped or reordered cannot turn an effect into silence.
 */
export const afterCommitPlugin = fp(
  async (fastify: FastifyInstance) => {
    const afterCommit = new AfterCommit(fastify.log.child({ component: 'after-commit' }))
    fastify.decorate('afterCommit', afterCommit)
    fastify.addHook('onReady', async () => {
      const unheard = afterCommit.unheardKinds()
      if (unheard.length > 0) {
        throw new Error(
          `no after-commit subscriber for effect kind ${unheard.map((kind) => `'${kind}'`).join(', ')}: register the plugin that subscribes to it (see app.ts)`,
        )
      }
    })
  },
  { name: 'after-commit' },
)

import type { Clock, RolloutSpan, Store } from '@ringmaster/domain'
import { systemClock } from '@ringmaster/domain'
import {
  createRolloutSpanExporter,
  type RolloutSpanExporter,
  telemetryResource,
} from '@ringmaster/telemetry'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { controlPlaneVersion } from '../plugins/infra/telemetry.js'
import { PeriodicTask } from './periodic-task.js'

declare module 'fastify' {
  interface FastifyInstance {
    rolloutSpanExportWorker: RolloutSpanExportWorker
  }
}

export interface RolloutSpanExportSettings {
  /** Where the worker's time comes from; tests pass one they can move. */
  clock?: Clock | undefined
  /** Spans leased and exported in one request. */
  batchSize?: number | undefined
  /** How long leased spans are kept from other replicas; well above one export's timeout. */
  leaseMs?: number | undefined
  /** The wait after a first failed export; it doubles with each attempt, up to `maxBackoffMs`. */
  initialBackoffMs?: number | undefined
  maxBackoffMs?: number | undefined
  /** How long closing may wait for the last exports before it lets them go. */
  closeTimeoutMs?: number | undefined
}

/** What one pass did: how many spans it leased, and whether the collector took them. */
export interface RolloutSpanExportPass {
  leased: number
  outcome: 'exported' | 'dropped' | 'failed' | 'idle'
}

/**
 * Exports the rollout span outbox. Each pass leases a batch (so two replicas never export the
 * same span at once), exports it, deletes it once the collector took it, and on failure hands it
 * back with a growing delay. A replica that dies mid-export leaves its lease to run out, and
 * another exports the batch again: the collector gets each span at least once. With tracing off
 * the spans are deleted unsent, so the table does not grow.
 */
export class RolloutSpanExportWorker {
  private readonly clock: Clock
  private readonly batchSize: number
  private readonly leaseMs: number
  private readonly initialBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly closeTimeoutMs: number
  private ticking: Promise<void> | null = null
  private periodic: PeriodicTask | null = null
  private started = false
  private stopped = false
  /** Whether the last export failed: the first failure is a warning, the rest are debug lines. */
  private failing = false

  constructor(
    private readonly store: Store,
    private readonly exporter: RolloutSpanExporter,
    private readonly log: FastifyBaseLogger,
    settings: RolloutSpanExportSettings = {},
  ) {
    this.clock = settings.clock ?? systemClock
    this.batchSize = settings.batchSize ?? 200
    this.leaseMs = settings.leaseMs ?? 60_000
    this.initialBackoffMs = settings.initialBackoffMs ?? 1_000
    this.maxBackoffMs = settings.maxBackoffMs ?? 5 * 60_000
    this.closeTimeoutMs = settings.closeTimeoutMs ?? 2_000
  }

  /** Leases one batch of due spans and exports it. */
  runOnce(): Promise<RolloutSpanExportPass> {
    if (this.stopped) return Promise.resolve({ leased: 0, outcome: 'idle' })
    return this.exportBatch()
  }

  /** Exports until nothing is due or the collector fails; what the timer runs. */
  tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        await this.drain(() => this.stopped)
      } catch (error) {
        this.log.error({ err: error }, 'rollout span export failed; the next tick retries')
      } finally {
        this.ticking = null
      }
    })()
    return this.ticking
  }

  /** Resolves when no pass is running. */
  async settle(): Promise<void> {
    while (this.ticking) await this.ticking
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.stopped || this.periodic) return
    this.started = true
    this.periodic = new PeriodicTask('rollout span export', () => this.tick(), {
      intervalMs,
      log: this.log,
    })
    this.periodic.start()
  }

  /**
   * Stops the timer and, if it was running and the collector was answering, exports what is due
   * one last time. Gives up after `closeTimeoutMs`: what was not exported stays in the outbox
   * for the next replica (a lease taken now runs out first).
   */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const stopping = this.periodic?.stop()
    const flush = (async () => {
      await stopping
      await this.settle()
      if (this.started && !this.failing) await this.drain(() => false)
    })().catch((error: unknown) => {
      this.log.debug({ err: error }, 'the last rollout span export on close did not finish')
    })
    let deadline: NodeJS.Timeout | undefined
    await Promise.race([
      flush,
      new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, this.closeTimeoutMs)
      }),
    ])
    clearTimeout(deadline)
  }

  private async drain(stop: () => boolean): Promise<void> {
    for (;;) {
      if (stop()) return
      const pass = await this.exportBatch()
      // A short batch means the outbox is drained; a failure waits for the backoff.
      if (pass.outcome === 'failed' || pass.leased < this.batchSize) return
    }
  }

  private async exportBatch(): Promise<RolloutSpanExportPass> {
    const now = this.clock.now()
    const spans = await this.store.transaction((tx) =>
      tx.rolloutSpans.lease(
        now.toISOString(),
        new Date(now.getTime() + this.leaseMs).toISOString(),
        this.batchSize,
      ),
    )
    if (spans.length === 0) return { leased: 0, outcome: 'idle' }
    const ids = spans.map((span) => span.id)
    const result = await this.exporter.export(spans)
    if (result.outcome !== 'failed') {
      await this.store.transaction((tx) => tx.rolloutSpans.deleteMany(ids))
      if (this.failing) this.log.info({ spans: spans.length }, 'rollout span export recovered')
      this.failing = false
      return { leased: spans.length, outcome: result.outcome }
    }
    const retryAt = new Date(this.clock.now().getTime() + this.backoffMs(spans)).toISOString()
    await this.store.transaction((tx) => tx.rolloutSpans.release(ids, retryAt))
    const context = { spans: spans.length, retryAt, error: result.error.message }
    if (this.failing) this.log.debug(context, 'rollout span export failed again')
    else this.log.warn(context, 'rollout span export failed; will retry')
    this.failing = true
    return { leased: spans.length, outcome: 'failed' }
  }

  private backoffMs(spans: readonly RolloutSpan[]): number {
    const attempts = Math.max(...spans.map((span) => span.attempts))
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempts - 1))
  }
}

export interface RolloutSpanExporterPluginOptions {
  /** How often to look for spans to export. 0 = never, and no flush on close (tests drive it). */
  intervalMs: number
  /** Where spans go; by default an exporter built from the OTEL_* variables, closed with the app. */
  exporter?: RolloutSpanExporter | undefined
  settings?: RolloutSpanExportSettings | undefined
}

export const rolloutSpanExporterPlugin = fp(
  async (fastify: FastifyInstance, options: RolloutSpanExporterPluginOptions) => {
    const exporter =
      options.exporter ??
      createRolloutSpanExporter({
        resource: telemetryResource({ serviceVersion: controlPlaneVersion }),
      })
    // Spans are leased at the system's time like webhook deliveries, whatever clock the app has.
    const worker = new RolloutSpanExportWorker(
      fastify.store,
      exporter,
      fastify.log.child({ worker: 'rollout-span-exporter' }),
      options.settings,
    )
    fastify.decorate('rolloutSpanExportWorker', worker)
    fastify.addHook('onReady', async () => {
      worker.start(options.intervalMs)
    })
    fastify.addHook('preClose', async () => {
      await worker.stop()
      // Not awaited: shutting down waits for an export the close deadline let go.
      if (options.exporter === undefined) void exporter.shutdown().catch(() => {})
    })
  },
  { name: 'rollout-span-exporter', dependencies: ['database'] },
)

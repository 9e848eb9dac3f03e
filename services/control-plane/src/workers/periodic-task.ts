/** Where a periodic task's waits come from; tests pass one they fire by hand. */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers, unref'd: a waiting task never keeps the process alive. */
export const nodeScheduler: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export interface PeriodicTaskOptions {
  /** The wait between the end of one run and the start of the next; 0 or less never runs. */
  intervalMs: number
  /** Where a failed run is reported; the next run goes ahead as planned. */
  log: { error(details: object, message: string): void }
  /**
   * Each wait is `intervalMs` times a random factor in [1 - jitter, 1 + jitter], so replicas
   * started together do not hit the database in step. 0.1 by default.
   */
  jitter?: number
  scheduler?: Scheduler
  /** A number in [0, 1); `Math.random` by default. */
  random?: () => number
}

/**
 * One run every interval, for the workers' timers. The next wait starts when a run ends, so runs
 * never overlap however long one takes; `stop` cancels the wait and resolves once a run under way
 * has finished, so closing the app never cuts a run in half.
 */
export class PeriodicTask {
  private readonly scheduler: Scheduler
  private readonly random: () => number
  private readonly jitter: number
  private timer: unknown = null
  private running: Promise<void> | null = null
  private stopped = false

  constructor(
    private readonly name: string,
    private readonly run: () => Promise<void>,
    private readonly options: PeriodicTaskOptions,
  ) {
    this.scheduler = options.scheduler ?? nodeScheduler
    this.random = options.random ?? Math.random
    this.jitter = Math.min(Math.max(options.jitter ?? 0.1, 0), 1)
  }

  /** Schedules the first run one interval from now; a second call, or one after stop, does nothing. */
  start(): void {
    if (this.options.intervalMs <= 0 || this.stopped || this.timer !== null || this.running) return
    this.schedule()
  }

  /** Cancels the next run and waits for the one under way, if any. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) this.scheduler.clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  private schedule(): void {
    const factor = 1 - this.jitter + 2 * this.jitter * this.random()
    this.timer = this.scheduler.setTimeout(
      () => {
        this.timer = null
        this.running = this.runOnce()
      },
      Math.round(this.options.intervalMs * factor),
    )
  }

  private async runOnce(): Promise<void> {
    try {
      await this.run()
    } catch (error) {
      this.options.log.error(
        { err: error, task: this.name },
        `${this.name} failed; the next run retries`,
      )
    }
    this.running = null
    if (!this.stopped) this.schedule()
  }
}

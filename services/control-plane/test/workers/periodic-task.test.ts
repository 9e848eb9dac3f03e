import t from 'tap'
import { PeriodicTask, type Scheduler } from '../../src/workers/periodic-task.js'

/** A scheduler whose waits only end when the test fires them. */
class ManualScheduler implements Scheduler {
  private next = 1
  readonly waiting = new Map<number, { callback: () => void; ms: number }>()

  setTimeout(callback: () => void, ms: number): number {
    const handle = this.next++
    this.waiting.set(handle, { callback, ms })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.waiting.delete(handle as number)
  }

  /** The waits now pending, in ms. */
  get delays(): number[] {
    return [...this.waiting.values()].map((wait) => wait.ms)
  }

  /** Ends every pending wait. */
  fire(): void {
    const due = [...this.waiting.values()]
    this.waiting.clear()
    for (const wait of due) wait.callback()
  }
}

/** A run the test finishes by hand, counting how many are under way at once. */
function controlledRun() {
  const state = { started: 0, active: 0, mostAtOnce: 0, finish: () => {} }
  const run = () =>
    new Promise<void>((resolve) => {
      state.started++
      state.active++
      state.mostAtOnce = Math.max(state.mostAtOnce, state.active)
      state.finish = () => {
        state.active--
        resolve()
      }
    })
  return { state, run }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))
const quietLog = { error: () => {} }

t.test('the next wait starts only when a run has ended: runs never overlap', async (t) => {
  const scheduler = new ManualScheduler()
  const { state, run } = controlledRun()
  const task = new PeriodicTask('test', run, { intervalMs: 1000, log: quietLog, scheduler })
  task.start()
  t.strictSame(scheduler.delays.length, 1, 'one wait before the first run')
  scheduler.fire()
  t.equal(state.started, 1)
  t.strictSame(scheduler.delays, [], 'no wait while the run is under way')
  scheduler.fire()
  t.equal(state.started, 1, 'nothing to fire, so no second run')
  state.finish()
  await flush()
  t.equal(scheduler.delays.length, 1, 'the next wait starts when the run ends')
  scheduler.fire()
  t.equal(state.started, 2)
  t.equal(state.mostAtOnce, 1)
  state.finish()
  await task.stop()
})

t.test('waits are spread by the jitter around the interval', async (t) => {
  const cases = [
    { random: 0, jitter: 0.1, wait: 900 },
    { random: 0.5, jitter: 0.1, wait: 1000 },
    { random: 0.999, jitter: 0.1, wait: 1100 },
    { random: 0, jitter: 0, wait: 1000 },
    { random: 0.25, jitter: 0.5, wait: 750 },
  ]
  for (const { random, jitter, wait } of cases) {
    const scheduler = new ManualScheduler()
    const task = new PeriodicTask('test', async () => {}, {
      intervalMs: 1000,
      log: quietLog,
      scheduler,
      jitter,
      random: () => random,
    })
    task.start()
    t.strictSame(scheduler.delays, [wait], `random ${random}, jitter ${jitter}`)
    await task.stop()
  }
})

t.test('the default jitter is a tenth of the interval', async (t) => {
  const scheduler = new ManualScheduler()
  const task = new PeriodicTask('test', async () => {}, {
    intervalMs: 1000,
    log: quietLog,
    scheduler,
    random: () => 0,
  })
  task.start()
  t.strictSame(scheduler.delays, [900])
  await task.stop()
})

t.test('stop waits for the run under way and schedules nothing after it', async (t) => {
  const scheduler = new ManualScheduler()
  const { state, run } = controlledRun()
  const task = new PeriodicTask('test', run, { intervalMs: 1000, log: quietLog, scheduler })
  task.start()
  scheduler.fire()
  let stopped = false
  const stopping = task.stop().then(() => {
    stopped = true
  })
  await flush()
  t.notOk(stopped, 'stop has not resolved while the run is under way')
  state.finish()
  await stopping
  t.ok(stopped)
  t.strictSame(scheduler.delays, [], 'no wait after the last run')
  task.start()
  t.strictSame(scheduler.delays, [], 'a stopped task does not start again')
})

t.test('stop before the first run cancels its wait', async (t) => {
  const scheduler = new ManualScheduler()
  const { state, run } = controlledRun()
  const task = new PeriodicTask('test', run, { intervalMs: 1000, log: quietLog, scheduler })
  task.start()
  await task.stop()
  t.strictSame(scheduler.delays, [])
  t.equal(state.started, 0)
})

t.test('a failed run is logged and the task goes on', async (t) => {
  const scheduler = new ManualScheduler()
  const logged: unknown[] = []
  let runs = 0
  const task = new PeriodicTask(
    'span export',
    async () => {
      runs++
      if (runs === 1) throw new Error('collector down')
    },
    { intervalMs: 1000, log: { error: (details) => logged.push(details) }, scheduler },
  )
  task.start()
  scheduler.fire()
  await flush()
  t.match(logged, [{ err: { message: 'collector down' }, task: 'span export' }])
  t.equal(scheduler.delays.length, 1, 'the next run is scheduled')
  scheduler.fire()
  await flush()
  t.equal(runs, 2)
  await task.stop()
})

t.test('an interval of 0 never runs, and start twice schedules one wait', async (t) => {
  const scheduler = new ManualScheduler()
  const off = new PeriodicTask('off', async () => {}, { intervalMs: 0, log: quietLog, scheduler })
  off.start()
  t.strictSame(scheduler.delays, [])
  const on = new PeriodicTask('on', async () => {}, { intervalMs: 10, log: quietLog, scheduler })
  on.start()
  on.start()
  t.equal(scheduler.delays.length, 1)
  await on.stop()
})

import { readFile } from 'node:fs/promises'
import t from 'tap'
import { AvailabilityMonitor } from '../src/database-availability.js'

// The monitor's probe decides whether every connection is cut, so a busy process must not pass for
// a silent database. These run without a database: the probe is any promise.

/** Keeps the event loop from running anything else for `ms`, as a long synchronous task does. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {}
}

function monitor(probe: () => Promise<unknown>) {
  const seen = { failed: 0, abandoned: 0 }
  const availability = new AvailabilityMonitor({
    probe,
    abandonProbe: () => seen.abandoned++,
    onProbeFailed: () => seen.failed++,
    intervalMs: 0,
    timeoutMs: 100,
    cutAfterMs: 250,
  })
  return { availability, seen }
}

t.test(
  'an answer that arrived while the event loop was busy is read, not taken for silence',
  async (t) => {
    // The file is read on libuv's thread pool while this thread is blocked; its answer waits in
    // the poll phase, which comes after the timers phase where the probe's deadline has passed.
    const { availability, seen } = monitor(() => readFile(new URL(import.meta.url)))
    const probed = availability.probe()
    blockEventLoop(400)
    t.equal(await probed, true)
    t.equal(availability.available, true)
    t.same(seen, { failed: 0, abandoned: 0 }, 'no connection was cut')
  },
)

t.test(
  'a silent probe makes the database unavailable, and cuts the connections if the silence lasts',
  async (t) => {
    const { availability, seen } = monitor(() => new Promise(() => {}))
    const changes: Array<{ available: boolean; cut: number }> = []
    availability.onChange((available) => changes.push({ available, cut: seen.failed }))
    t.equal(await availability.probe(), false)
    t.equal(availability.available, false)
    t.type(availability.unavailableSince, 'number')
    t.same(changes, [{ available: false, cut: 0 }], 'unavailable before anything is cut')
    t.same(seen, { failed: 1, abandoned: 1 }, 'the silent probe is abandoned and the pool cut')
  },
)

t.test('an answer after the first deadline but before the cut cuts nothing', async (t) => {
  // A slow moment, not an outage: new requests were refused for a while, work in flight goes on.
  const { availability, seen } = monitor(() => new Promise((resolve) => setTimeout(resolve, 170)))
  const changes: boolean[] = []
  availability.onChange((available) => changes.push(available))
  t.equal(await availability.probe(), true)
  t.same(changes, [false, true])
  t.equal(availability.available, true)
  t.same(seen, { failed: 0, abandoned: 0 }, 'no connection was cut')
})

t.test('a probe that errs cuts the connections at once', async (t) => {
  const { availability, seen } = monitor(() => Promise.reject(new Error('connection reset')))
  t.equal(await availability.probe(), false)
  t.same(seen, { failed: 1, abandoned: 0 })
})

t.test('a probe that answers again makes the database available again', async (t) => {
  let answers = false
  const { availability } = monitor(() =>
    answers ? Promise.resolve() : Promise.reject(new Error('connection refused')),
  )
  const changes: boolean[] = []
  availability.onChange((available) => changes.push(available))
  t.equal(await availability.probe(), false)
  answers = true
  t.equal(await availability.probe(), true)
  t.same(changes, [false, true])
  t.equal(availability.unavailableSince, undefined)
})

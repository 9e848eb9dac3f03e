import t from 'tap'
import { TimeSlice } from '../src/time-slice.js'

/** Keeps the thread busy, as mapping a big import does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

t.test('TimeSlice.map maps in order and lets the event loop turn between slices', async (t) => {
  let turns = 0
  let counting = true
  const count = () => {
    if (!counting) return
    turns++
    setImmediate(count)
  }
  setImmediate(count)
  const mapped = await new TimeSlice(2).map([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (item, index) => {
    busyFor(3)
    return `${index}:${item * 2}`
  })
  counting = false
  t.same(mapped, ['0:2', '1:4', '2:6', '3:8', '4:10', '5:12', '6:14', '7:16', '8:18', '9:20'])
  // 30 ms of work in 2 ms slices: the loop turns after about every item, not once at the end.
  t.ok(turns >= 5, `the loop turned ${turns} times`)
})

t.test('TimeSlice.pass does not yield within a slice', async (t) => {
  let ran = false
  setImmediate(() => {
    ran = true
  })
  const slice = new TimeSlice(60_000)
  for (let index = 0; index < 100; index++) await slice.pass()
  t.notOk(ran, 'no macrotask ran: a pass within the slice costs a clock read')
})

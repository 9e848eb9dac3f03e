/**
 * Work on thousands of items (a 5,000-flag import) runs on the one event loop that also answers
 * stop-the-line requests and SDK reads. Long synchronous stretches are cut into slices, and
 * between slices the loop gets a turn, so that a waiting request is answered within a slice.
 */

/** Resolves on a macrotask: I/O callbacks and timers that are due run before it. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

// About one frame: long enough that yielding costs little, short enough that a request waiting
// behind a slice is not noticed.
const defaultSliceMs = 8

/**
 * Call `pass()` between items: it yields once the current slice has run `sliceMs`, and
 * otherwise costs a clock read.
 */
export class TimeSlice {
  private started = performance.now()

  constructor(private readonly sliceMs = defaultSliceMs) {}

  async pass(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return
    await yieldToEventLoop()
    this.started = performance.now()
  }

  /** `map`, yielding between items as `pass` does. */
  async map<T, U>(items: readonly T[], mapItem: (item: T, index: number) => U): Promise<U[]> {
    const mapped: U[] = []
    for (const [index, item] of items.entries()) {
      mapped.push(mapItem(item, index))
      await this.pass()
    }
    return mapped
  }
}

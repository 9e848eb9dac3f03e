import t from 'tap'
import { ChangeLog, TerminalDisplay } from '../src/live-display.js'

t.test(
  'TerminalDisplay redraws over what it drew, cut to the width, and skips repeats',
  async (t) => {
    const written: string[] = []
    let columns: number | undefined = 12
    const display = new TerminalDisplay(
      (block) => written.push(block),
      () => columns,
    )
    display.show(['release 42 in_progress', 'ring-0'])
    display.show(['release 42 in_progress', 'ring-0'])
    display.show(['release 42 halted', 'ring-0', 'ring-1'])
    // A width of 0 is what a pseudo-terminal without a size reports: nothing is cut.
    columns = 0
    display.show(['release 42 halted at last'])
    t.same(written, [
      'release 42…\nring-0',
      '\u001b[2F\u001b[Jrelease 42…\nring-0\nring-1',
      '\u001b[3F\u001b[Jrelease 42 halted at last',
    ])
  },
)

t.test('ChangeLog prints a line only when its key shows something new', async (t) => {
  const written: string[] = []
  const log = new ChangeLog((line) => written.push(line))
  log.show([
    ['ring-0', 'ring-0 deploying'],
    ['waiting', 'waiting: approval'],
  ])
  log.show([
    ['ring-0', 'ring-0 deploying'],
    ['waiting', undefined],
  ])
  log.show([
    ['ring-0', 'ring-0 succeeded'],
    ['waiting', 'waiting: approval'],
  ])
  t.same(written, [
    'ring-0 deploying',
    'waiting: approval',
    'ring-0 succeeded',
    'waiting: approval',
  ])
})

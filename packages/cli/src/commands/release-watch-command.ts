import { setTimeout as sleep } from 'node:timers/promises'
import { isTransientFailure } from '@ringmaster/sdk'
import {
  type Command,
  type CommandContext,
  idArgument,
  optionalString,
  parseDuration,
} from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { ChangeLog, TerminalDisplay } from '../live-display.js'
import type { ConnectionNotice } from '../outage-notice.js'
import { describeError } from '../output.js'
import {
  releaseBoard,
  releaseHeadline,
  releaseWaits,
  ringLine,
  ringRows,
} from '../release-board.js'
import {
  describeHolding,
  exitCodeForState,
  holdingHalts,
  type ReleaseDetail,
} from '../release-view.js'
import { neverReached, ReleaseReader } from '../release-wait.js'

/** Resolves a waiting `sleep` early when something happened; several signals count as one. */
class Wakeup {
  private pending = false
  private resolve: (() => void) | undefined

  signal(): void {
    this.pending = true
    this.resolve?.()
  }

  async sleep(ms: number): Promise<void> {
    if (!this.pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        this.resolve = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.resolve = undefined
    }
    this.pending = false
  }
}

/** Where progress goes (stdout, or stderr with --output json) and whether it is a terminal. */
function progressStream(context: CommandContext): NodeJS.WriteStream {
  return context.output.json ? process.stderr : process.stdout
}

interface Display {
  release(release: ReleaseDetail): void
  connection: ConnectionNotice
}

function display(context: CommandContext): Display {
  const write = (block: string) => context.output.progress(block)
  const stream = progressStream(context)
  if (stream.isTTY === true && process.env.TERM !== 'dumb') {
    // On a terminal a line printed beside the board would break its redrawing in place, so a lost
    // control plane is a line under the board until it is back.
    const terminal = new TerminalDisplay(write, () => stream.columns)
    let board: string[] = []
    let lost: string | undefined
    const draw = () => terminal.show(lost ? [...board, '', lost] : board)
    return {
      release(release) {
        board = releaseBoard(release)
        draw()
      },
      connection(line, isLost) {
        lost = isLost ? line : undefined
        draw()
      },
    }
  }
  const log = new ChangeLog(write)
  return {
    release(release) {
      const waits = releaseWaits(release)
      // The rings first, so a log ends with how the release ended, then what it waits for.
      log.show([
        ...ringRows(release).map((row): [string, string] => [`ring ${row.ring}`, ringLine(row)]),
        ['release', releaseHeadline(release)],
        ['waiting', waits.length > 0 ? waits.join('; ') : undefined],
      ])
    },
    connection: (line) => context.output.error(line),
  }
}

export const releaseWatch: Command = {
  name: 'release watch',
  summary: 'follow a release live, ring by ring and scale unit by scale unit, until it ends',
  help: `Usage: ringmaster release watch ID [--timeout 2h] [--interval 5s] [--ride-out-halts]

  --timeout DURATION     give up after this long, exit 4 (default 2h; 90s, 15m, 2h)
  --interval DURATION    also look this often, in case a change sends no event (default 5s)
  --ride-out-halts       a halt does not end the watch; say so once per halt and follow the
                         release until it ends or the timeout passes

Follows the release's events and re-reads it whenever one arrives. On a terminal it redraws a
board of rings and scale units in place; otherwise it prints a line whenever a ring, the release
or what it waits for changes. Ends when the release does: 0 succeeded; 1 failed, rolled back,
cancelled or superseded; 3 halted or held by a stop of the line (each halt is named on stderr);
4 timed out. With --output json the final release is printed
on stdout and the progress goes to stderr.`,
  options: {
    timeout: { type: 'string' },
    interval: { type: 'string' },
    'ride-out-halts': { type: 'boolean' },
  },
  positionals: [1, 1],
  async run(context) {
    const id = idArgument(context)
    const timeoutMs = parseDuration(optionalString(context, 'timeout') ?? '2h', 'timeout')
    const intervalMs = parseDuration(optionalString(context, 'interval') ?? '5s', 'interval')
    const rideOutHalts = context.values['ride-out-halts'] === true
    const client = context.client()
    const { output } = context
    const show = display(context)
    const deadline = Date.now() + timeoutMs

    const stop = new AbortController()
    const changed = new Wakeup()
    // Started before the first read, so a change made while that read runs still wakes the loop.
    // Stage and deployment events have subjects under release:ID, which the filter includes.
    // While the control plane is away the reads below say so; this reconnects quietly.
    const following = (async () => {
      while (!stop.signal.aborted) {
        try {
          for await (const _event of client.events({
            subject: `release:${id}`,
            signal: stop.signal,
            retry: false,
          })) {
            changed.signal()
          }
        } catch (error) {
          if (stop.signal.aborted) return
          if (!isTransientFailure(error)) {
            output.error(
              `${describeError(error)}\nlost the event stream; looking every ${intervalMs / 1000} s instead`,
            )
            return
          }
        }
        await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined)
      }
    })()

    const reader = new ReleaseReader(client, id, intervalMs, show.connection)
    let release: ReleaseDetail | undefined
    const riddenOut = new Set<string>()
    try {
      for (;;) {
        const read = await reader.read(deadline)
        if (read) {
          release = read
          show.release(release)
          // A release held by a stop of the line is not over, but a pipeline watching it must
          // not sit until its timeout: the same verdict as `release status --wait`.
          const halts = holdingHalts(release)
          if (halts.length > 0 && !rideOutHalts) {
            for (const halt of halts) output.error(`held: ${describeHolding(release, halt)}`)
            output.result(release, () => [])
            return ExitCode.haltedOrBlocked
          }
          for (const halt of halts) {
            const said = describeHolding(release, halt)
            if (riddenOut.has(said)) continue
            riddenOut.add(said)
            output.error(`riding out ${said}; watching on (--ride-out-halts)`)
          }
          const code = exitCodeForState(release.state)
          // Riding out: a halted release may be resumed; only the timeout ends the watch then.
          if (code !== undefined && !(rideOutHalts && release.state === 'halted')) {
            output.result(release, () => [])
            return code
          }
        }
        const left = deadline - Date.now()
        if (left <= 0) {
          if (!release) throw neverReached(id, timeoutMs)
          output.error(`timed out after ${Math.round(timeoutMs / 1000)} s watching release ${id}`)
          output.result(release, () => [])
          return ExitCode.timedOut
        }
        await changed.sleep(Math.min(intervalMs, left))
      }
    } finally {
      stop.abort()
      await following
    }
  },
}

import { setTimeout as sleep } from 'node:timers/promises'
import { isTransientFailure, type RingmasterClient } from '@ringmaster/sdk'
import { CommandExit, ExitCode, UsageError } from './exit-codes.js'
import { type ConnectionNotice, OutageNotice } from './outage-notice.js'
import { describeError, type Output } from './output.js'
import {
  describeHolding,
  exitCodeForState,
  holdingHalts,
  type ReleaseDetail,
  releaseLine,
} from './release-view.js'

export interface WaitOptions {
  timeoutMs: number
  intervalMs: number
  /** Stop waiting, with success, once this ring's stage has succeeded. */
  untilRing?: string | undefined
  /** Keep waiting while a halt holds the release instead of exiting 3. */
  rideOutHalts?: boolean | undefined
  output: Output
}

/**
 * Reads a release for a command that follows it for hours. Its reads are not retried by the
 * client: the follower looks again every interval anyway. When the control plane cannot be
 * reached (a restart, an outage) it says so once, answers undefined so the caller looks again
 * later, and says so again when it is back; the release goes on meanwhile. Any other error is
 * thrown.
 */
export class ReleaseReader {
  private readonly outage: OutageNotice

  constructor(
    private readonly client: RingmasterClient,
    private readonly id: number,
    private readonly intervalMs: number,
    notice: ConnectionNotice,
  ) {
    this.outage = new OutageNotice(notice)
  }

  /** `deadline` (from Date.now()) ends a read that is still waiting, so a timeout is kept. */
  async read(deadline: number): Promise<ReleaseDetail | undefined> {
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()))
    try {
      const release = await this.client.get('/v1/releases/{id}', {
        params: { path: { id: this.id } },
        signal,
        retry: false,
      })
      this.outage.answered()
      return release
    } catch (error) {
      // The timeout is up: the caller says so.
      if (signal.aborted) return undefined
      if (!isTransientFailure(error)) throw error
      this.outage.failed(
        () =>
          `${describeError(error)}; still following release ${this.id}, looking every ${this.intervalMs / 1000} s until the timeout`,
      )
      return undefined
    }
  }
}

/** The timeout passed without one answer about the release: nothing to show but the exit code. */
export function neverReached(id: number, timeoutMs: number): CommandExit {
  return new CommandExit(
    ExitCode.timedOut,
    `timed out after ${Math.round(timeoutMs / 1000)} s: the control plane could not be reached to read release ${id}`,
  )
}

/**
 * Polls the release until it ends (0 succeeded, 1 failed/rolled back/cancelled/superseded), a
 * halt holds it (3: its own, or a stop of the line on its ring; with `rideOutHalts` it waits
 * on) or the timeout passes (4); with `untilRing`, also 0 as soon as that ring's stage has
 * succeeded. Prints a line whenever what it shows changes.
 */
export async function waitForRelease(
  client: RingmasterClient,
  id: number,
  { timeoutMs, intervalMs, untilRing, rideOutHalts = false, output }: WaitOptions,
): Promise<{ release: ReleaseDetail; code: ExitCode }> {
  const deadline = Date.now() + timeoutMs
  const reader = new ReleaseReader(client, id, intervalMs, (line) => output.error(line))
  let release: ReleaseDetail | undefined
  let last = ''
  const riddenOut = new Set<string>()
  for (;;) {
    release = (await reader.read(deadline)) ?? release
    if (release) {
      const line = releaseLine(release)
      if (line !== last) {
        output.progress(line)
        last = line
      }
      if (untilRing !== undefined) {
        const stage = release.stages.find((candidate) => candidate.ring === untilRing)
        if (!stage) {
          throw new UsageError(
            `--until: release ${id} does not go through ring '${untilRing}' (its rings: ${release.stages.map((s) => s.ring).join(', ')})`,
          )
        }
        if (stage.state === 'succeeded') {
          output.progress(`${untilRing} of release ${id} succeeded`)
          return { release, code: ExitCode.success }
        }
      }
      const halts = holdingHalts(release)
      if (halts.length > 0 && !rideOutHalts) {
        for (const halt of halts) output.error(`held: ${describeHolding(release, halt)}`)
        output.error(
          `release ${id} is held by ${halts.length === 1 ? 'a halt' : `${halts.length} halts`}: exit 3 (--ride-out-halts waits for the lift instead)`,
        )
        return { release, code: ExitCode.haltedOrBlocked }
      }
      for (const halt of halts) {
        const said = describeHolding(release, halt)
        if (riddenOut.has(said)) continue
        riddenOut.add(said)
        output.error(`riding out ${said}; waiting for it to end (--ride-out-halts)`)
      }
      const code = exitCodeForState(release.state)
      // Riding out: a halted release may be resumed; only the timeout ends the wait then.
      if (code !== undefined && !(rideOutHalts && release.state === 'halted')) {
        return { release, code }
      }
    }
    const left = deadline - Date.now()
    if (left <= 0) {
      if (!release) throw neverReached(id, timeoutMs)
      const what = untilRing ? `${untilRing} of release ${id}` : `release ${id}`
      output.error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)
      return { release, code: ExitCode.timedOut }
    }
    await sleep(Math.min(intervalMs, left))
  }
}

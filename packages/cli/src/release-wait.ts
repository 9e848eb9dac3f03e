import { setTimeout as sleep } from 'node:timers/promises'
import type { RingmasterClient } from '@ringmaster/sdk'
import { ExitCode, UsageError } from './exit-codes.js'
import type { Output } from './output.js'
import { exitCodeForState, type ReleaseDetail, releaseLine } from './release-view.js'

export interface WaitOptions {
  timeoutMs: number
  intervalMs: number
  /** Stop waiting, with success, once this ring's stage has succeeded. */
  untilRing?: string | undefined
  output: Output
}

/**
 * Polls the release until it ends (0 succeeded, 1 failed/rolled back/cancelled/superseded),
 * halts (3) or the timeout passes (4); with `untilRing`, also 0 as soon as that ring's stage
 * has succeeded. Prints a line whenever what it shows changes.
 */
export async function waitForRelease(
  client: RingmasterClient,
  id: number,
  { timeoutMs, intervalMs, untilRing, output }: WaitOptions,
): Promise<{ release: ReleaseDetail; code: ExitCode }> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const release = await client.get('/v1/releases/{id}', { params: { path: { id } } })
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
    const code = exitCodeForState(release.state)
    if (code !== undefined) return { release, code }
    const left = deadline - Date.now()
    if (left <= 0) {
      const what = untilRing ? `${untilRing} of release ${id}` : `release ${id}`
      output.error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)
      return { release, code: ExitCode.timedOut }
    }
    await sleep(Math.min(intervalMs, left))
  }
}

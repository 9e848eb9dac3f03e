import { setTimeout as sleep } from 'node:timers/promises'
import type { ControlPlaneClient, Json } from './control-plane-client.js'
import { ExitCode } from './exit-codes.js'
import type { Output } from './output.js'
import { exitCodeForState, releaseLine } from './release-view.js'

export interface WaitOptions {
  timeoutMs: number
  intervalMs: number
  output: Output
}

/**
 * Polls the release until it ends (0 succeeded, 1 failed/rolled back/cancelled/superseded),
 * halts (3) or the timeout passes (4). Prints a line whenever what it shows changes.
 */
export async function waitForRelease(
  client: ControlPlaneClient,
  id: number,
  { timeoutMs, intervalMs, output }: WaitOptions,
): Promise<{ release: Json; code: ExitCode }> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const release = await client.get(`/v1/releases/${id}`)
    const line = releaseLine(release)
    if (line !== last) {
      output.progress(line)
      last = line
    }
    const code = exitCodeForState(release.state)
    if (code !== undefined) return { release, code }
    const left = deadline - Date.now()
    if (left <= 0) {
      output.error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for release ${id}`)
      return { release, code: ExitCode.timedOut }
    }
    await sleep(Math.min(intervalMs, left))
  }
}

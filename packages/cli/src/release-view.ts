import type { Json } from './control-plane-client.js'
import { ExitCode } from './exit-codes.js'

export const finishedStates = ['succeeded', 'failed', 'rolled_back', 'cancelled', 'superseded']

/** The exit code a release in this state gives `release create --wait` and `release status --wait`. */
export function exitCodeForState(state: string): ExitCode | undefined {
  if (state === 'succeeded') return ExitCode.success
  if (state === 'halted') return ExitCode.haltedOrBlocked
  if (finishedStates.includes(state)) return ExitCode.failed
  return undefined
}

/** One line: id, service, version, state, and what it waits for. */
export function releaseLine(release: Json): string {
  const blocked = (release.blockedBy ?? []).map((block: Json) => block.message).join('; ')
  const halt = release.halt ? ` (halted by ${release.halt.by}: ${release.halt.reason})` : ''
  const tail = release.outcome ?? (blocked ? `waiting: ${blocked}` : '')
  return `release ${release.id} ${release.service} ${release.version} ${release.state}${halt}${tail ? ` — ${tail}` : ''}`
}

/** The release with one line per ring and its scale units' deployments. */
export function releaseDetail(release: Json): string[] {
  const lines = [
    releaseLine(release),
    `  kind ${release.kind}, rings ${release.ringFrom}..${release.ringTo}, requested by ${release.requester}, trace ${release.traceId}`,
  ]
  for (const stage of release.stages ?? []) {
    const deployments = (stage.deployments ?? [])
      .map((deployment: Json) => `${deployment.scaleUnit}=${deployment.state}`)
      .join(' ')
    const waves = stage.waves?.length ?? 0
    const wave =
      waves > 0 && stage.currentWave !== null ? ` wave ${stage.currentWave + 1}/${waves}` : ''
    lines.push(
      `  ${stage.ring.padEnd(16)} ${stage.state.padEnd(18)}${wave} ${deployments}`.trimEnd(),
    )
  }
  for (const block of release.blockedBy ?? [])
    lines.push(`  blocked by ${block.kind}: ${block.message}`)
  return lines
}

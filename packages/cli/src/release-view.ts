import type { BlockedBy, Release, ReleaseDetail, Stage } from '@ringmaster/sdk'
import { ExitCode } from './exit-codes.js'

export type { BlockedBy, ReleaseDetail, Stage }
export type ReleaseState = Release['state']

// A record, so the build fails when the API gains a state this list does not name.
const everyState: Record<ReleaseState, true> = {
  queued: true,
  in_progress: true,
  succeeded: true,
  failed: true,
  halted: true,
  rolled_back: true,
  cancelled: true,
  superseded: true,
}
export const releaseStates = Object.keys(everyState) as ReleaseState[]

export const finishedStates: readonly ReleaseState[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
  'superseded',
]

/** The exit code a release in this state gives `release create --wait` and `release status --wait`. */
export function exitCodeForState(state: ReleaseState): ExitCode | undefined {
  if (state === 'succeeded') return ExitCode.success
  if (state === 'halted') return ExitCode.haltedOrBlocked
  if (finishedStates.includes(state)) return ExitCode.failed
  return undefined
}

/** What holds the release: its own halt and every stop of the line on its ring. */
export function holdingHalts(release: ReleaseDetail): BlockedBy[] {
  return release.blockedBy.filter((block) => block.kind === 'halt')
}

/** One halt for a pipeline log: which one, where, who, since when, why, and how it ends. */
export function describeHolding(release: ReleaseDetail, block: BlockedBy): string {
  const halt = block.halt
  if (!halt) return block.message
  if (halt.id === null) {
    return `release ${release.id} halted by ${halt.by} since ${halt.since}: ${halt.reason} (resume it: ringmaster resume ${release.id} --reason …)`
  }
  const where = halt.scope === 'global' ? 'everywhere' : `${halt.scope} ${halt.target}`
  const incident = halt.incidentId === null ? '' : `, incident ${halt.incidentId}`
  return `halt ${halt.id} (${where}${incident}) by ${halt.by} since ${halt.since}: ${halt.reason} (lift it: ringmaster line resume ${halt.id})`
}

/** One line: id, service, version, state, and what it waits for. */
export function releaseLine(release: Release | ReleaseDetail): string {
  const blockedBy = 'blockedBy' in release ? release.blockedBy : []
  const blocked = blockedBy.map((block) => block.message).join('; ')
  const halt = release.halt ? ` (halted by ${release.halt.by}: ${release.halt.reason})` : ''
  const tail = release.outcome ?? (blocked ? `waiting: ${blocked}` : '')
  const where = 'currentStage' in release && release.currentStage ? stageWords(release) : ''
  return `release ${release.id} ${release.service} ${release.version} ${release.state}${where}${halt}${tail ? ` — ${tail}` : ''}`
}

const stageStateWords: Record<NonNullable<Release['currentStage']>['state'], string> = {
  pending: 'waiting to enter',
  awaiting_approval: 'awaiting approval in',
  deploying: 'deploying to',
  baking: 'baking in',
  awaiting_promotion: 'awaiting promotion out of',
  succeeded: 'done with',
  failed: 'failed in',
  rolled_back: 'rolled back in',
}

/** Where an unfinished release is, in words: ", awaiting approval in ring-0". */
function stageWords(release: Release): string {
  const stage = release.currentStage
  if (
    !stage ||
    ['succeeded', 'failed', 'rolled_back', 'cancelled', 'superseded'].includes(release.state)
  ) {
    return ''
  }
  return `, ${stageStateWords[stage.state]} ${stage.ring}`
}

/** The release with one line per ring and its scale units' deployments. */
export function releaseDetail(release: ReleaseDetail): string[] {
  const lines = [
    releaseLine(release),
    `  kind ${release.kind}, rings ${release.ringFrom}..${release.ringTo}, requested by ${release.requester}, trace ${release.traceId}`,
  ]
  for (const stage of release.stages) {
    const deployments = stage.deployments
      .map((deployment) => `${deployment.scaleUnit}=${deployment.state}`)
      .join(' ')
    const waves = stage.waves.length
    const wave =
      waves > 0 && stage.currentWave >= 0 ? ` wave ${stage.currentWave + 1}/${waves}` : ''
    lines.push(
      `  ${stage.ring.padEnd(16)} ${stage.state.padEnd(18)}${wave} ${deployments}`.trimEnd(),
    )
  }
  for (const block of release.blockedBy) lines.push(`  blocked by ${block.kind}: ${block.message}`)
  return lines
}

import type { Deployment } from '@ringmaster/sdk'
import type { ReleaseDetail, Stage } from './release-view.js'

export interface RingRow {
  ring: string
  state: string
  /** `1/2 deployed`: scale units whose deployment of this release succeeded, of the ring's. */
  deployed: string
  /** Wave, approval gate and bake, when they matter: `wave 1/2`, `approval pre 0/1`, `bake until …`. */
  notes: string[]
  /** `team-wus2 succeeded`, in wave order. */
  scaleUnits: string[]
}

/** The release line: id, service, version, state, halt and outcome. */
export function releaseHeadline(release: ReleaseDetail): string {
  const halt = release.halt ? ` (halted by ${release.halt.by}: ${release.halt.reason})` : ''
  const outcome = release.outcome ? ` — ${release.outcome}` : ''
  return `release ${release.id} ${release.service} ${release.version} ${release.state}${halt}${outcome}`
}

/** What the release waits for, one line per reason; empty while it moves or once it ended. */
export function releaseWaits(release: ReleaseDetail): string[] {
  return release.blockedBy.map((block) => `waiting: ${block.message}`)
}

/** The latest deployment of each scale unit; a rollback outranks the deploy it undoes. */
function latestByScaleUnit(deployments: Deployment[]): Map<string, Deployment> {
  const latest = new Map<string, Deployment>()
  for (const deployment of deployments) {
    const seen = latest.get(deployment.scaleUnit)
    if (!seen || deployment.kind === 'rollback' || seen.kind !== 'rollback')
      latest.set(deployment.scaleUnit, deployment)
  }
  return latest
}

function scaleUnitState(deployment: Deployment | undefined): string {
  if (!deployment) return 'waiting'
  if (deployment.kind === 'rollback') return `rollback ${deployment.state}`
  return deployment.attempt > 1
    ? `${deployment.state} (attempt ${deployment.attempt})`
    : deployment.state
}

function clock(timestamp: string): string {
  return `${timestamp.slice(11, 19)}Z`
}

function gateNotes(stage: Stage): string[] {
  if (stage.gate === null) return []
  const gate = stage.gate === 'pre' ? stage.policy.preApproval : stage.policy.postApproval
  const approvers = new Set(
    stage.approvals
      .filter((approval) => approval.gate === stage.gate && approval.decision === 'approve')
      .map((approval) => approval.subject),
  )
  const needed = gate ? `/${gate.minApprovals} from ${gate.role}` : ''
  return [`approval ${stage.gate} ${approvers.size}${needed}`]
}

export function ringRows(release: ReleaseDetail): RingRow[] {
  return release.stages.map((stage) => {
    const units = stage.waves.flat()
    const latest = latestByScaleUnit(stage.deployments)
    for (const unit of latest.keys()) if (!units.includes(unit)) units.push(unit)
    const deployed = units.filter((unit) => {
      const deployment = latest.get(unit)
      return deployment?.kind === 'deploy' && deployment.state === 'succeeded'
    }).length
    const notes: string[] = []
    if (stage.waves.length > 1 && stage.currentWave >= 0)
      notes.push(`wave ${stage.currentWave + 1}/${stage.waves.length}`)
    notes.push(...gateNotes(stage))
    if (stage.state === 'baking' && stage.bakeUntil)
      notes.push(`bake until ${clock(stage.bakeUntil)}`)
    if (stage.freezeOverride) notes.push(`freeze overridden by ${stage.freezeOverride.by}`)
    return {
      ring: stage.ring,
      state: stage.state,
      deployed: `${deployed}/${units.length} deployed`,
      notes,
      scaleUnits: units.map((unit) => `${unit} ${scaleUnitState(latest.get(unit))}`),
    }
  })
}

/** One line per ring, for logs: `ring-0 deploying 0/1 deployed [team-wus2 in_progress]`. */
export function ringLine(row: RingRow): string {
  const notes = row.notes.length > 0 ? ` (${row.notes.join(', ')})` : ''
  return `${row.ring} ${row.state} ${row.deployed}${notes} [${row.scaleUnits.join(', ')}]`
}

/** The whole board for a terminal: the release, then a table of rings × scale units. */
export function releaseBoard(release: ReleaseDetail): string[] {
  const rows = ringRows(release)
  const ringWidth = Math.max(4, ...rows.map((row) => row.ring.length))
  const stateWidth = Math.max(5, ...rows.map((row) => row.state.length))
  const deployedWidth = Math.max(8, ...rows.map((row) => row.deployed.length))
  const lines = [
    releaseHeadline(release),
    `  ${release.kind}, rings ${release.ringFrom}..${release.ringTo}, requested by ${release.requester}`,
    ...releaseWaits(release).map((line) => `  ${line}`),
    '',
    `  ${'RING'.padEnd(ringWidth)}  ${'STAGE'.padEnd(stateWidth)}  ${'PROGRESS'.padEnd(deployedWidth)}  SCALE UNITS`,
  ]
  const indent = ' '.repeat(2 + ringWidth + 2 + stateWidth + 2)
  for (const row of rows) {
    lines.push(
      `  ${row.ring.padEnd(ringWidth)}  ${row.state.padEnd(stateWidth)}  ${row.deployed.padEnd(deployedWidth)}  ${row.scaleUnits.join('  ')}`,
    )
    for (const note of row.notes) lines.push(`${indent}${note}`)
  }
  return lines
}

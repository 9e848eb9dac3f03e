import { InvalidInputError } from '../errors.js'
import type { RingPolicy } from '../ring-policy.js'
import type { Ring, ScaleUnit } from '../topology.js'
import type { ReleaseKind } from './release.js'

export interface RingRange {
  from?: string | undefined
  to?: string | undefined
}

/** A stage as planned when the release is created, before it has an id. */
export interface PlannedStage {
  position: number
  ring: string
  ringOrder: number
  policy: RingPolicy
  waves: string[][]
}

export interface ReleasePlan {
  ringFrom: string
  ringTo: string
  stages: PlannedStage[]
}

/**
 * One stage per ring in the range, in ring order. A standard release always starts at the first
 * ring, so nothing reaches customers before it has run on the team; only a hotfix may start later.
 */
export function planRelease(
  rings: readonly Ring[],
  scaleUnits: readonly ScaleUnit[],
  range: RingRange,
  kind: ReleaseKind,
): ReleasePlan {
  const ordered = [...rings].sort((a, b) => a.order - b.order)
  if (ordered.length === 0) {
    throw new InvalidInputError(
      'no-rings',
      'there are no rings yet; create at least one ring first',
    )
  }
  const fromIndex = range.from === undefined ? 0 : indexOfRing(ordered, range.from, 'from')
  const toIndex = range.to === undefined ? ordered.length - 1 : indexOfRing(ordered, range.to, 'to')
  if (fromIndex > toIndex) {
    throw new InvalidInputError(
      'invalid-ring-range',
      `rings.from '${ordered[fromIndex]!.name}' comes after rings.to '${ordered[toIndex]!.name}'`,
    )
  }
  if (kind === 'standard' && fromIndex > 0) {
    throw new InvalidInputError(
      'standard-release-must-start-at-first-ring',
      `a standard release starts at the first ring '${ordered[0]!.name}'; use kind hotfix with a reason to start at '${ordered[fromIndex]!.name}'`,
    )
  }
  const stages = ordered.slice(fromIndex, toIndex + 1).map((ring, position) => ({
    position,
    ring: ring.name,
    ringOrder: ring.order,
    policy: ring.policy,
    waves: splitIntoWaves(
      scaleUnits.filter((unit) => unit.ring === ring.name),
      ring.policy.maxParallel,
    ),
  }))
  return { ringFrom: ordered[fromIndex]!.name, ringTo: ordered[toIndex]!.name, stages }
}

function indexOfRing(rings: readonly Ring[], name: string, end: 'from' | 'to'): number {
  const index = rings.findIndex((ring) => ring.name === name)
  if (index < 0) {
    throw new InvalidInputError('unknown-ring', `rings.${end}: ring '${name}' does not exist`)
  }
  return index
}

/**
 * Splits a ring's scale units into waves of at most `maxParallel`, in name order. Paired scale
 * units back each other up (region pairs), so they never go down in the same wave: a unit whose
 * partner is already in the wave being filled moves to a later one.
 */
export function splitIntoWaves(scaleUnits: readonly ScaleUnit[], maxParallel: number): string[][] {
  if (maxParallel < 1) throw new RangeError('maxParallel must be at least 1')
  let remaining = [...scaleUnits].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const waves: string[][] = []
  while (remaining.length > 0) {
    const wave = new Set<string>()
    const deferred: ScaleUnit[] = []
    let index = 0
    for (; index < remaining.length && wave.size < maxParallel; index += 1) {
      const unit = remaining[index]!
      if (unit.pairedWith !== null && wave.has(unit.pairedWith)) deferred.push(unit)
      else wave.add(unit.name)
    }
    waves.push([...wave])
    remaining = [...deferred, ...remaining.slice(index)]
  }
  return waves
}

import type { ReliabilityIncident, RingArrival } from './reliability-records.js'
import type { DurationStats, ReliabilityReport } from './reliability-report.js'

export interface ReliabilityFiguresInput {
  /** One service, or null for every service. */
  service: string | null
  /** Incidents on this ring (and fleet-wide ones), or null for every incident. */
  ring: string | null
  /** The ring a release must reach to count as a deployment; null when there are no rings. */
  doraRing: string | null
  from: string
  to: string
  /** At least every incident that may touch the window; the rest are ignored. */
  incidents: readonly ReliabilityIncident[]
  /** At least every arrival at `doraRing` in the window; the rest are ignored. */
  arrivals: readonly RingArrival[]
}

const dayMs = 86_400_000

interface Period {
  start: number
  end: number
}

/**
 * The reliability report from the records, with no I/O: the definitions in
 * docs/reliability-metrics.md, edge for edge. Windows are half-open, [from, to).
 */
export function reliabilityFigures(input: ReliabilityFiguresInput): ReliabilityReport {
  const from = Date.parse(input.from)
  const to = Date.parse(input.to)
  const windowMs = to - from
  const inWindow = (at: string) => Date.parse(at) >= from && Date.parse(at) < to

  const incidents = input.incidents.filter(
    (incident) =>
      (input.service === null || incident.service === input.service) &&
      (input.ring === null || incident.ring === null || incident.ring === input.ring),
  )
  const counted = incidents.filter((incident) => inWindow(incident.detectedAt))
  const resolved = counted.filter((incident) => incident.resolvedAt !== null)
  const timeToRestore = (incident: ReliabilityIncident) =>
    Date.parse(incident.resolvedAt!) - Date.parse(incident.detectedAt)

  // An incident is a failure from when it started until it was resolved; one still open at `to`
  // is a failure until `to`. Only the part inside the window counts.
  const clipped = incidents
    .map((incident) => ({
      incident,
      period: {
        start: Math.max(Date.parse(incident.startedAt), from),
        end: Math.min(incident.resolvedAt === null ? to : Date.parse(incident.resolvedAt), to),
      },
    }))
    .filter(({ period }) => period.end > period.start)
  const failures = mergePeriods(clipped.map(({ period }) => period))
  const downtime = sum(failures.map((period) => period.end - period.start))
  const weightedDowntime = sum(
    clipped.map(({ incident, period }) => (period.end - period.start) * incident.trafficShare),
  )
  const betweenFailures = failures
    .slice(1)
    .map((period, index) => period.start - failures[index]!.end)

  const deployments = input.arrivals.filter(
    (arrival) =>
      input.doraRing !== null &&
      arrival.ring === input.doraRing &&
      (input.service === null || arrival.service === input.service) &&
      inWindow(arrival.reachedAt),
  )
  const leadTimes = deployments
    .filter((arrival) => arrival.commitTime !== null)
    .map((arrival) => Date.parse(arrival.reachedAt) - Date.parse(arrival.commitTime!))
    // A commit time after the ring was reached is a wrong clock, not a lead time.
    .filter((leadTime) => leadTime >= 0)
  const failed = deployments.filter(
    (arrival) => arrival.rolledBackAt !== null || arrival.blamingIncidents > 0,
  )
  const recoveries = failed
    .map(recoveryTime)
    .filter((duration): duration is number => duration !== null)
  const rework = deployments.filter(
    (arrival) => arrival.kind === 'hotfix' && arrival.fixesIncidentId !== null,
  )
  const rate = (part: number) => (deployments.length === 0 ? null : part / deployments.length)

  return {
    service: input.service,
    ring: input.ring,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    incidents: {
      total: counted.length,
      open: counted.length - resolved.length,
      resolved: resolved.length,
    },
    mttr: durationStats(resolved.map(timeToRestore)),
    mtbf: durationStats(betweenFailures),
    availability: windowMs > 0 ? 1 - downtime / windowMs : null,
    trafficWeightedMttr: durationStats(
      resolved.map((incident) => timeToRestore(incident) * incident.trafficShare),
    ),
    trafficWeightedAvailability:
      windowMs > 0 ? Math.min(1, Math.max(0, 1 - weightedDowntime / windowMs)) : null,
    dora: {
      ring: input.doraRing,
      deployments: deployments.length,
      deploymentFrequencyPerDay: windowMs > 0 ? deployments.length / (windowMs / dayMs) : 0,
      leadTimeForChanges: durationStats(leadTimes),
      failedDeployments: failed.length,
      changeFailureRate: rate(failed.length),
      failedDeploymentRecoveryTime: durationStats(recoveries),
      reworkDeployments: rework.length,
      deploymentReworkRate: rate(rework.length),
    },
  }
}

/**
 * From the failure (the rollback or the first blaming incident's detection, whichever came first)
 * to the recovery (the last rollback deployment done and every blaming incident resolved); null
 * while either is still going on.
 */
function recoveryTime(arrival: RingArrival): number | null {
  const rolledBackAt = arrival.rolledBackAt === null ? null : Date.parse(arrival.rolledBackAt)
  if (rolledBackAt !== null && arrival.openRollbackDeployments > 0) return null
  if (arrival.openBlamingIncidents > 0) return null
  const failedAt = Math.min(
    ...[arrival.rolledBackAt, arrival.firstBlameDetectedAt]
      .filter((at): at is string => at !== null)
      .map(Date.parse),
  )
  const recoveredAt = Math.max(
    ...[
      rolledBackAt === null
        ? null
        : Math.max(
            rolledBackAt,
            arrival.lastRollbackFinishedAt === null
              ? rolledBackAt
              : Date.parse(arrival.lastRollbackFinishedAt),
          ),
      arrival.blamingIncidents > 0 && arrival.lastBlameResolvedAt !== null
        ? Date.parse(arrival.lastBlameResolvedAt)
        : null,
    ].filter((at): at is number => at !== null),
  )
  return Math.max(0, recoveredAt - failedAt)
}

/** Overlapping or touching periods become one; the result is in time order. */
function mergePeriods(periods: readonly Period[]): Period[] {
  const merged: Period[] = []
  for (const period of [...periods].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1)
    if (last && period.start <= last.end) last.end = Math.max(last.end, period.end)
    else merged.push({ ...period })
  }
  return merged
}

/** Durations in milliseconds in, seconds out. */
export function durationStats(durationsMs: readonly number[]): DurationStats {
  if (durationsMs.length === 0) return { count: 0, meanSeconds: null, medianSeconds: null }
  const sorted = [...durationsMs].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return {
    count: sorted.length,
    meanSeconds: sum(sorted) / sorted.length / 1000,
    medianSeconds: median / 1000,
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

/**
 * The reliability figures for one service (or all) and one ring (or the outermost), over a window.
 * Definitions are spelled out in docs/reliability-metrics.md and in the API schema; every duration
 * is in seconds, every rate a fraction from 0 to 1, and a figure with nothing to average is null.
 */
export interface DurationStats {
  /** How many durations the figure averages. */
  count: number
  meanSeconds: number | null
  medianSeconds: number | null
}

export interface ReliabilityReport {
  service: string | null
  ring: string | null
  from: string
  to: string
  incidents: {
    total: number
    open: number
    resolved: number
  }
  /** Time to restore: detected → resolved, over resolved incidents detected in the window. */
  mttr: DurationStats
  /** Mean time between failures: one failure's restore → the next failure's start. */
  mtbf: DurationStats
  /** Share of the window with no incident in progress. */
  availability: number | null
  /** MTTR with each incident weighed by the share of fleet traffic it touched. */
  trafficWeightedMttr: DurationStats
  trafficWeightedAvailability: number | null
  dora: {
    /** The ring a release must reach to count as deployed: the one asked for, or the outermost. */
    ring: string | null
    deployments: number
    deploymentFrequencyPerDay: number
    leadTimeForChanges: DurationStats
    /** Deployments rolled back or blamed by an incident. */
    failedDeployments: number
    changeFailureRate: number | null
    failedDeploymentRecoveryTime: DurationStats
    /** Deployments that are hotfixes for an incident. */
    reworkDeployments: number
    deploymentReworkRate: number | null
  }
}

import type {
  Attributes,
  BatchObservableCallback,
  Meter,
  ObservableGauge,
} from '@opentelemetry/api'
import type { DurationStats, ReliabilityReport } from '@ringmaster/domain'
import { attributeNames } from './attributes.js'

/** One figure of a reliability report as a gauge. */
export interface ReliabilityFigure {
  name: string
  unit: string
  description: string
  /** The figure, or null when the report has nothing to say (not reported). */
  read(report: ReliabilityReport): number | null
  /** DORA figures are about arrivals in the report's DORA ring, which may not be its ring. */
  dora?: true
}

function durationFigures(
  name: string,
  what: string,
  read: (report: ReliabilityReport) => DurationStats,
  countUnit: string,
): ReliabilityFigure[] {
  return [
    {
      name: `${name}.mean`,
      unit: 's',
      description: `${what}: mean`,
      read: (report) => read(report).meanSeconds,
    },
    {
      name: `${name}.median`,
      unit: 's',
      description: `${what}: median`,
      read: (report) => read(report).medianSeconds,
    },
    {
      name: `${name}.count`,
      unit: countUnit,
      description: `${what}: how many durations the mean and median are taken over`,
      read: (report) => read(report).count,
    },
  ]
}

/** Every figure of `ReliabilityReport`, named; definitions are in docs/reliability-metrics.md. */
export const reliabilityFigures: readonly ReliabilityFigure[] = [
  {
    name: 'ringmaster.reliability.incidents.total',
    unit: '{incident}',
    description: 'Incidents detected in the window',
    read: (report) => report.incidents.total,
  },
  {
    name: 'ringmaster.reliability.incidents.open',
    unit: '{incident}',
    description: 'Incidents not yet resolved',
    read: (report) => report.incidents.open,
  },
  {
    name: 'ringmaster.reliability.incidents.resolved',
    unit: '{incident}',
    description: 'Incidents resolved',
    read: (report) => report.incidents.resolved,
  },
  ...durationFigures(
    'ringmaster.reliability.mttr',
    'Time to restore, detected to resolved',
    (report) => report.mttr,
    '{incident}',
  ),
  ...durationFigures(
    'ringmaster.reliability.mtbf',
    "Time between failures, one failure's restore to the next one's start",
    (report) => report.mtbf,
    '{interval}',
  ),
  {
    name: 'ringmaster.reliability.availability',
    unit: '1',
    description: 'Share of the window with no incident in progress',
    read: (report) => report.availability,
  },
  ...durationFigures(
    'ringmaster.reliability.traffic_weighted.mttr',
    'Time to restore, each incident weighed by the share of traffic it touched',
    (report) => report.trafficWeightedMttr,
    '{incident}',
  ),
  {
    name: 'ringmaster.reliability.traffic_weighted.availability',
    unit: '1',
    description: 'Availability, each incident weighed by the share of traffic it touched',
    read: (report) => report.trafficWeightedAvailability,
  },
  ...(
    [
      {
        name: 'ringmaster.reliability.dora.deployments',
        unit: '{deployment}',
        description: 'Deployments that reached the DORA ring in the window',
        read: (report) => report.dora.deployments,
      },
      {
        name: 'ringmaster.reliability.dora.deployment_frequency',
        unit: '{deployment}/d',
        description: 'Deployments per day',
        read: (report) => report.dora.deploymentFrequencyPerDay,
      },
      ...durationFigures(
        'ringmaster.reliability.dora.lead_time_for_changes',
        'Lead time for changes',
        (report) => report.dora.leadTimeForChanges,
        '{deployment}',
      ),
      {
        name: 'ringmaster.reliability.dora.failed_deployments',
        unit: '{deployment}',
        description: 'Deployments rolled back or blamed by an incident',
        read: (report) => report.dora.failedDeployments,
      },
      {
        name: 'ringmaster.reliability.dora.change_failure_rate',
        unit: '1',
        description: 'Share of deployments that failed',
        read: (report) => report.dora.changeFailureRate,
      },
      ...durationFigures(
        'ringmaster.reliability.dora.failed_deployment_recovery_time',
        'Time to recover from a failed deployment',
        (report) => report.dora.failedDeploymentRecoveryTime,
        '{deployment}',
      ),
      {
        name: 'ringmaster.reliability.dora.rework_deployments',
        unit: '{deployment}',
        description: 'Deployments that are hotfixes for an incident',
        read: (report) => report.dora.reworkDeployments,
      },
      {
        name: 'ringmaster.reliability.dora.deployment_rework_rate',
        unit: '1',
        description: 'Share of deployments that are hotfixes for an incident',
        read: (report) => report.dora.deploymentReworkRate,
      },
    ] satisfies ReliabilityFigure[]
  ).map((figure) => ({ ...figure, dora: true as const })),
]

/**
 * The metric attributes of a figure: the service and ring it is about, when it is about one. DORA
 * figures count arrivals in the DORA ring (the report's ring, or the outermost).
 */
export function reliabilityAttributes(report: ReliabilityReport, dora = false): Attributes {
  const ring = dora ? report.dora.ring : report.ring
  return {
    ...(report.service !== null && { [attributeNames.service]: report.service }),
    ...(ring !== null && { [attributeNames.ringName]: ring }),
  }
}

export interface ReliabilityMetrics {
  /** Stops observing; the gauges report nothing more. */
  unregister(): void
}

/**
 * Registers one observable gauge per reliability figure, read together in one batch callback
 * each time the metric reader collects: `source` is asked once per collection for the reports to
 * publish (one per service and ring). A null figure is not reported; if `source` fails, nothing
 * is reported for that collection.
 */
export function registerReliabilityMetrics(
  meter: Meter,
  source: () => Promise<ReliabilityReport[]>,
): ReliabilityMetrics {
  const gauges = new Map<ReliabilityFigure, ObservableGauge>(
    reliabilityFigures.map((figure) => [
      figure,
      meter.createObservableGauge(figure.name, {
        unit: figure.unit,
        description: figure.description,
      }),
    ]),
  )
  const observe: BatchObservableCallback = async (result) => {
    const reports = await source()
    for (const report of reports) {
      const attributes = reliabilityAttributes(report)
      const doraAttributes = reliabilityAttributes(report, true)
      for (const [figure, gauge] of gauges) {
        const value = figure.read(report)
        if (value === null || !Number.isFinite(value)) continue
        result.observe(gauge, value, figure.dora ? doraAttributes : attributes)
      }
    }
  }
  const observables = [...gauges.values()]
  meter.addBatchObservableCallback(observe, observables)
  return { unregister: () => meter.removeBatchObservableCallback(observe, observables) }
}

import { Type } from 'typebox'
import { Described, Name, Nullable, Timestamp } from '../../schemas/common.js'

const Seconds = (description: string) => Nullable(Type.Number({ minimum: 0, description }))

/** Durations over a set, in seconds; what the set is, each use of it says. */
export const DurationStats = Type.Object(
  {
    count: Type.Integer({ minimum: 0, description: 'How many durations the figure is over' }),
    meanSeconds: Seconds('Their mean, in seconds; null when there are none'),
    medianSeconds: Seconds(
      'Their median, in seconds (the mean of the middle two for an even count); null when there are none',
    ),
  },
  {
    $id: 'DurationStats',
    additionalProperties: false,
    description: 'Durations in seconds: how many, their mean and median',
  },
)

const Rate = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description }))

export const ReliabilityReport = Type.Object(
  {
    service: Nullable(
      Type.String({ description: 'The service reported on; null for every service together' }),
    ),
    ring: Nullable(
      Type.String({
        description:
          'The ring whose incidents count (those on that ring and fleet-wide ones, with no ring); null for every incident. When set, DORA deployments are counted at it too',
      }),
    ),
    from: Timestamp('Start of the window, included'),
    to: Timestamp('End of the window, excluded: the window is [from, to)'),
    incidents: Type.Object(
      {
        total: Type.Integer({
          minimum: 0,
          description: 'Incidents detected in the window (detectedAt in [from, to))',
        }),
        open: Type.Integer({ minimum: 0, description: 'Of those, the ones not resolved yet' }),
        resolved: Type.Integer({ minimum: 0, description: 'Of those, the resolved ones' }),
      },
      { additionalProperties: false, description: 'Incidents detected in the window' },
    ),
    mttr: Described(
      DurationStats,
      'Mean time to restore: resolvedAt − detectedAt of each resolved incident detected in the window. Open incidents are left out (see incidents.open)',
    ),
    mtbf: Described(
      DurationStats,
      'Mean time between failures: incidents (startedAt to resolvedAt, or to `to` while open) clipped to the window and merged where they overlap or touch are failure periods; each gap from the end of one to the start of the next is one value. Fewer than two periods: no value',
    ),
    availability: Rate(
      'Share of the window with no failure period: 1 − (length of the union of incidents, clipped to the window) / (to − from)',
    ),
    trafficWeightedMttr: Described(
      DurationStats,
      "MTTR where each resolved incident's time to restore is multiplied by its trafficShare (the share of fleet traffic weight it touched), so an outage of a small ring counts for less than one of the whole fleet",
    ),
    trafficWeightedAvailability: Rate(
      "1 − Σ(each incident's duration clipped to the window × its trafficShare) / (to − from), kept between 0 and 1. Overlapping incidents each count",
    ),
    dora: Type.Object(
      {
        ring: Nullable(
          Type.String({
            description:
              'The ring a release must reach to count as a deployment: the ring asked for, or else the outermost ring (highest order); null when there are no rings',
          }),
        ),
        deployments: Type.Integer({
          minimum: 0,
          description:
            "Releases that reached dora.ring in the window: their stage for that ring finished deploying (the stage's deployedAt) in [from, to)",
        }),
        deploymentFrequencyPerDay: Type.Number({
          minimum: 0,
          description: 'deployments / the window length in days',
        }),
        leadTimeForChanges: Described(
          DurationStats,
          'Lead time for changes: reaching dora.ring − the commit time, for each deployment whose release gave a commitTime (not one after the arrival)',
        ),
        failedDeployments: Type.Integer({
          minimum: 0,
          description:
            'Deployments whose release was rolled back or is blamed by an incident (its releaseId), whenever that happened',
        }),
        changeFailureRate: Rate('failedDeployments / deployments; null without deployments'),
        failedDeploymentRecoveryTime: Described(
          DurationStats,
          'For each failed deployment that has recovered: from the failure (the earlier of the rollback and the first blaming incident detected) to the recovery (the later of the last rollback deployment finished and the last blaming incident resolved). Still recovering: left out',
        ),
        reworkDeployments: Type.Integer({
          minimum: 0,
          description:
            'Deployments that are hotfixes for an incident (kind hotfix with incidentId)',
        }),
        deploymentReworkRate: Rate('reworkDeployments / deployments; null without deployments'),
      },
      {
        additionalProperties: false,
        description: 'The DORA figures, with "deployed" meaning "reached dora.ring"',
      },
    ),
  },
  {
    $id: 'ReliabilityReport',
    additionalProperties: false,
    description:
      'Reliability over a window. Durations are in seconds, rates are fractions from 0 to 1. Definitions and a worked example: docs/reliability-metrics.md',
  },
)

export const ReliabilityQuery = Type.Object(
  {
    service: Type.Optional(Name('Only this service; default every service together')),
    ring: Type.Optional(
      Name(
        'Only incidents on this ring (and fleet-wide ones), and deployments reaching it; default every incident and the outermost ring',
      ),
    ),
    from: Type.Optional(Timestamp('Start of the window (included); default 30 days before `to`')),
    to: Type.Optional(
      Timestamp('End of the window (excluded); default now. At most 366 days after from'),
    ),
  },
  { additionalProperties: false },
)

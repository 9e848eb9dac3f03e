import type { ReliabilityReport } from '@ringmaster/sdk'
import { type Command, optionalString } from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'
import { timestampOption } from '../timestamp-option.js'

type DurationStats = ReliabilityReport['mttr']

/** 5400 → `1h 30m`: the two largest units, which is as precise as a person reads a duration. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]
  const parts: string[] = []
  let left = Math.round(seconds)
  for (const [unit, size] of units) {
    if (parts.length === 0 && left < size) continue
    parts.push(`${Math.floor(left / size)}${unit}`)
    left %= size
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

function percent(rate: number, digits: number): string {
  return `${(rate * 100).toFixed(digits)}%`
}

/** `mean 1h 30m, median 1h 0m (3 resolved incidents)`, or why there is no figure. */
function stats(figure: DurationStats, noun: string, none: string): string {
  if (figure.count === 0 || figure.meanSeconds === null || figure.medianSeconds === null)
    return `n/a (${none})`
  const over = `${figure.count} ${noun}${figure.count === 1 ? '' : 's'}`
  return `mean ${formatDuration(figure.meanSeconds)}, median ${formatDuration(figure.medianSeconds)} (${over})`
}

function share(rate: number | null, count: number, of: number, none: string): string {
  return rate === null ? `n/a (${none})` : `${percent(rate, 1)} (${count} of ${of})`
}

function reportLines(report: ReliabilityReport): string[] {
  const days = (Date.parse(report.to) - Date.parse(report.from)) / 86_400_000
  const scope = `${report.service ?? 'every service'}${report.ring ? ` on ${report.ring}` : ''}`
  const { incidents, dora } = report
  const row = (label: string, value: string) => `  ${label.padEnd(34)}${value}`
  return [
    `reliability of ${scope}, ${report.from} to ${report.to} (${formatDuration(days * 86_400)})`,
    '',
    row(
      'incidents',
      `${incidents.total} detected: ${incidents.open} open, ${incidents.resolved} resolved`,
    ),
    row('MTTR (time to restore)', stats(report.mttr, 'resolved incident', 'no resolved incidents')),
    row(
      'MTBF (time between failures)',
      stats(report.mtbf, 'gap', 'fewer than two failure periods'),
    ),
    row('availability', report.availability === null ? 'n/a' : percent(report.availability, 3)),
    row(
      'traffic-weighted MTTR',
      stats(report.trafficWeightedMttr, 'resolved incident', 'no resolved incidents'),
    ),
    row(
      'traffic-weighted availability',
      report.trafficWeightedAvailability === null
        ? 'n/a'
        : percent(report.trafficWeightedAvailability, 3),
    ),
    '',
    `DORA (a deployment is a release reaching ${dora.ring ?? 'the outermost ring (there are no rings)'})`,
    row(
      'deployments',
      `${dora.deployments} (${dora.deploymentFrequencyPerDay.toFixed(2)} per day)`,
    ),
    row(
      'lead time for changes',
      stats(dora.leadTimeForChanges, 'deployment', 'no deployments with a commit time'),
    ),
    row(
      'change failure rate',
      share(dora.changeFailureRate, dora.failedDeployments, dora.deployments, 'no deployments'),
    ),
    row(
      'failed deployment recovery time',
      stats(
        dora.failedDeploymentRecoveryTime,
        'failed deployment',
        'no failed deployment has recovered',
      ),
    ),
    row(
      'deployment rework rate',
      share(dora.deploymentReworkRate, dora.reworkDeployments, dora.deployments, 'no deployments'),
    ),
  ]
}

export const reportReliability: Command = {
  name: 'report reliability',
  summary: 'MTTR, MTBF, availability and the DORA figures over a window',
  help: `Usage: ringmaster report reliability [--service S] [--ring R] [--from ISO] [--to ISO]

  --service S            only this service (default every service together)
  --ring R               only incidents on this ring (and fleet-wide ones), and deployments
                         counted when they reach it (default the outermost ring)
  --from ISO             start of the window, included (default 30 days before --to);
                         a date like 2026-11-01 means its start in UTC
  --to ISO               end of the window, excluded (default now); at most 366 days after --from

Durations are shown in days, hours, minutes and seconds (the JSON has seconds), rates as
percentages (the JSON has fractions). docs/reliability-metrics.md defines each figure.`,
  options: {
    service: { type: 'string' },
    ring: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
  positionals: [0, 0],
  async run(context) {
    const service = optionalString(context, 'service')
    const ring = optionalString(context, 'ring')
    const from = timestampOption(context, 'from')
    const to = timestampOption(context, 'to')
    if (from && to && Date.parse(from) >= Date.parse(to))
      throw new UsageError('--from must be before --to')
    const report = await context.client().get('/v1/reports/reliability', {
      params: {
        query: {
          ...(service && { service }),
          ...(ring && { ring }),
          ...(from && { from }),
          ...(to && { to }),
        },
      },
    })
    context.output.result(report, () => reportLines(report))
    return ExitCode.success
  },
}

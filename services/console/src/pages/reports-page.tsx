import type { ReliabilityReport } from '@ringmaster/sdk'
import { useQueries, useQuery } from '@tanstack/react-query'
import { BarChart } from '../components/bar-chart.js'
import { describeError, formatDuration } from '../format.js'
import { useSession } from '../session/session.js'

const week = 7 * 24 * 3600_000
const weeks = 8

function hours(seconds: number | null): number {
  return seconds === null ? 0 : seconds / 3600
}

function doraRow(label: string, report: ReliabilityReport | undefined) {
  const dora = report?.dora
  return (
    <tr key={label}>
      <th scope="row">{label}</th>
      <td>{dora ? dora.deploymentFrequencyPerDay.toFixed(2) : '…'}</td>
      <td>
        {dora?.leadTimeForChanges.medianSeconds != null
          ? formatDuration(dora.leadTimeForChanges.medianSeconds * 1000)
          : '—'}
      </td>
      <td>
        {dora?.changeFailureRate != null ? `${Math.round(dora.changeFailureRate * 100)}%` : '—'}
      </td>
      <td>
        {dora?.failedDeploymentRecoveryTime.medianSeconds != null
          ? formatDuration(dora.failedDeploymentRecoveryTime.medianSeconds * 1000)
          : '—'}
      </td>
      <td>
        {report?.mttr.meanSeconds != null ? formatDuration(report.mttr.meanSeconds * 1000) : '—'}
      </td>
      <td>{report?.availability != null ? `${(report.availability * 100).toFixed(3)}%` : '—'}</td>
    </tr>
  )
}

/** MTTR and MTBF week by week, and the DORA figures per ring and per service (last 30 days). */
export function ReportsPage() {
  const { client } = useSession()
  // Whole weeks, so the queries keep their keys while the page is open.
  const end = Math.ceil(Date.now() / week) * week
  const windows = Array.from({ length: weeks }, (_, index) => ({
    from: new Date(end - (weeks - index) * week).toISOString(),
    to: new Date(end - (weeks - index - 1) * week).toISOString(),
  }))
  const weekly = useQueries({
    queries: windows.map((window) => ({
      queryKey: ['reports', 'week', window.from],
      queryFn: () => client.get('/v1/reports/reliability', { params: { query: window } }),
    })),
  })
  const rings = useQuery({
    queryKey: ['topology', 'rings'],
    queryFn: () => client.get('/v1/rings'),
  })
  const services = useQuery({ queryKey: ['services'], queryFn: () => client.get('/v1/services') })
  const month = {
    from: new Date(end - 30 * 24 * 3600_000).toISOString(),
    to: new Date(end).toISOString(),
  }
  const ringNames = [...(rings.data?.rings ?? [])]
    .sort((a, b) => a.order - b.order)
    .map((r) => r.name)
  const serviceNames = (services.data?.services ?? []).map((s) => s.name)
  const perRing = useQueries({
    queries: ringNames.map((ring) => ({
      queryKey: ['reports', 'ring', ring, month.from],
      queryFn: () =>
        client.get('/v1/reports/reliability', { params: { query: { ...month, ring } } }),
    })),
  })
  const perService = useQueries({
    queries: serviceNames.map((service) => ({
      queryKey: ['reports', 'service', service, month.from],
      queryFn: () =>
        client.get('/v1/reports/reliability', { params: { query: { ...month, service } } }),
    })),
  })
  const labels = windows.map((window) => window.from.slice(5, 10))
  const error = weekly.find((query) => query.error)?.error
  return (
    <>
      <h1>Reports</h1>
      {error ? <p role="alert">{describeError(error)}</p> : null}
      <section className="card" aria-labelledby="over-time-title">
        <h2 id="over-time-title">Restoring and failing, week by week</h2>
        <div className="grid-2">
          <BarChart
            title="Mean time to restore per week (hours)"
            unit="hours"
            series={[
              {
                name: 'MTTR',
                values: weekly.map((query, index) => ({
                  label: labels[index]!,
                  value: hours(query.data?.mttr.meanSeconds ?? null),
                })),
              },
            ]}
          />
          <BarChart
            title="Mean time between failures per week (hours)"
            unit="hours"
            series={[
              {
                name: 'MTBF',
                values: weekly.map((query, index) => ({
                  label: labels[index]!,
                  value: hours(query.data?.mtbf.meanSeconds ?? null),
                })),
              },
            ]}
          />
          <BarChart
            title="Incidents per week"
            unit="incidents"
            series={[
              {
                name: 'incidents',
                values: weekly.map((query, index) => ({
                  label: labels[index]!,
                  value: query.data?.incidents.total ?? 0,
                })),
              },
            ]}
          />
        </div>
      </section>
      <section className="card" aria-labelledby="dora-title">
        <h2 id="dora-title">DORA figures, last 30 days</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Ring or service</th>
              <th scope="col">Deployments per day</th>
              <th scope="col">Lead time (median)</th>
              <th scope="col">Change failure rate</th>
              <th scope="col">Recovery time (median)</th>
              <th scope="col">MTTR</th>
              <th scope="col">Availability</th>
            </tr>
          </thead>
          <tbody>
            {ringNames.map((ring, index) => doraRow(`ring ${ring}`, perRing[index]?.data))}
            {serviceNames.map((service, index) =>
              doraRow(`service ${service}`, perService[index]?.data),
            )}
          </tbody>
        </table>
      </section>
    </>
  )
}

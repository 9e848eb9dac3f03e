import { startOtlpReceiver } from '@ringmaster/telemetry/testing'
import t from 'tap'
import { startServer } from '../../helpers/server-process.js'

// The reliability figures leave the real server as OpenTelemetry metrics, with the values the
// report endpoint gives for the same records.

t.test('the reliability report is exported as gauges per service', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const server = await startServer(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_METRIC_EXPORT_TIMEOUT: '250',
  })
  const service = 'payments'
  await server.call('POST', '/v1/services', { name: service })
  await server.call('POST', '/v1/rings', { name: 'ring-0', order: 0 })
  const hour = 3_600_000
  const now = Date.now()
  // Two incidents restored in 40 and 80 minutes; one still open.
  for (const [startedHoursAgo, restoreMinutes] of [
    [5, 40],
    [3, 80],
    [1, null],
  ] as const) {
    const startedAt = new Date(now - startedHoursAgo * hour).toISOString()
    const incident = await server.call('POST', '/v1/incidents', {
      service,
      severity: 'sev3',
      title: `incident ${startedHoursAgo}h ago`,
      startedAt,
      detectedAt: startedAt,
    })
    if (restoreMinutes !== null) {
      await server.call('POST', `/v1/incidents/${incident.id}/resolve`, {
        at: new Date(Date.parse(startedAt) + restoreMinutes * 60_000).toISOString(),
      })
    }
  }
  const report = await server.call('GET', `/v1/reports/reliability?service=${service}`)
  t.match(report, {
    incidents: { total: 3, open: 1, resolved: 2 },
    mttr: { count: 2, meanSeconds: 3600, medianSeconds: 3600 },
  })

  // Collections run every 300 ms from the start: take only those after every record was made.
  const reportedAt = Date.now()
  const ofService =
    (name: string) => (point: { name: string; attributes: object; timeUnixNano: string }) =>
      point.name === name &&
      (point.attributes as Record<string, unknown>)['ringmaster.service'] === service &&
      Number(BigInt(point.timeUnixNano) / 1_000_000n) > reportedAt
  const [mttr] = await receiver.waitForMetrics(
    ofService('ringmaster.reliability.mttr.mean'),
    60_000,
  )
  const [open] = await receiver.waitForMetrics(
    ofService('ringmaster.reliability.incidents.open'),
    60_000,
  )
  const [availability] = await receiver.waitForMetrics(
    ofService('ringmaster.reliability.availability'),
    60_000,
  )
  t.match(mttr, { type: 'gauge', unit: 's', value: report.mttr.meanSeconds })
  t.equal(open!.value, 1)
  t.ok(
    Math.abs(availability!.value! - report.availability) < 0.001,
    `availability ${availability!.value} is the report's ${report.availability}`,
  )
  t.equal(mttr!.resource['service.name'], 'ringmaster')
})

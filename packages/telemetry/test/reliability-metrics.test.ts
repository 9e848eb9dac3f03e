import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import type { ReliabilityReport } from '@ringmaster/domain'
import t, { type Test } from 'tap'
import { registerReliabilityMetrics, reliabilityFigures } from '../src/reliability-metrics.js'
import { withCurrentGauges } from '../src/start-telemetry.js'
import {
  type OtlpReceiver,
  type ReceivedMetricPoint,
  startOtlpReceiver,
} from '../src/testing/otlp-receiver.js'

const checkout: ReliabilityReport = {
  service: 'checkout',
  ring: 'ring-2',
  from: '2024-05-01T00:00:00.000Z',
  to: '2024-05-31T00:00:00.000Z',
  incidents: { total: 4, open: 1, resolved: 3 },
  mttr: { count: 3, meanSeconds: 1800, medianSeconds: 1500 },
  mtbf: { count: 2, meanSeconds: 604800, medianSeconds: 500000 },
  availability: 0.9975,
  trafficWeightedMttr: { count: 3, meanSeconds: 600, medianSeconds: 450 },
  trafficWeightedAvailability: 0.9991,
  dora: {
    ring: 'ring-2',
    deployments: 20,
    deploymentFrequencyPerDay: 0.6667,
    leadTimeForChanges: { count: 20, meanSeconds: 7200, medianSeconds: 5400 },
    failedDeployments: 2,
    changeFailureRate: 0.1,
    failedDeploymentRecoveryTime: { count: 2, meanSeconds: 900, medianSeconds: 900 },
    reworkDeployments: 1,
    deploymentReworkRate: 0.05,
  },
}

/** A service with nothing to average: its null figures are not reported at all. */
const quiet: ReliabilityReport = {
  service: 'search',
  ring: null,
  from: checkout.from,
  to: checkout.to,
  incidents: { total: 0, open: 0, resolved: 0 },
  mttr: { count: 0, meanSeconds: null, medianSeconds: null },
  mtbf: { count: 0, meanSeconds: null, medianSeconds: null },
  availability: 1,
  trafficWeightedMttr: { count: 0, meanSeconds: null, medianSeconds: null },
  trafficWeightedAvailability: null,
  dora: {
    ring: 'ring-3',
    deployments: 0,
    deploymentFrequencyPerDay: 0,
    leadTimeForChanges: { count: 0, meanSeconds: null, medianSeconds: null },
    failedDeployments: 0,
    changeFailureRate: null,
    failedDeploymentRecoveryTime: { count: 0, meanSeconds: null, medianSeconds: null },
    reworkDeployments: 0,
    deploymentReworkRate: null,
  },
}

async function metricsPipeline(t: Test, source: () => Promise<ReliabilityReport[]>) {
  const otlp: OtlpReceiver = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  const reader = new PeriodicExportingMetricReader({
    // As startTelemetry builds it.
    exporter: withCurrentGauges(new OTLPMetricExporter({ url: otlp.metricsUrl })),
    exportIntervalMillis: 3_600_000,
  })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'ringmaster' }),
    readers: [reader],
  })
  t.teardown(() => provider.shutdown())
  const registration = registerReliabilityMetrics(
    provider.getMeter('@ringmaster/control-plane'),
    source,
  )
  /** Collects once and returns the points that collection sent. */
  const collect = async (): Promise<ReceivedMetricPoint[]> => {
    const before = otlp.metrics.length
    const requests = otlp.requestCount('metrics')
    await reader.forceFlush()
    if (otlp.requestCount('metrics') === requests) return []
    return otlp.metrics.slice(before)
  }
  return { otlp, registration, collect }
}

function pointFor(points: ReceivedMetricPoint[], name: string, service: string) {
  const matching = points.filter(
    (point) => point.name === name && point.attributes['ringmaster.service'] === service,
  )
  if (matching.length > 1) throw new Error(`${name} for ${service} was reported twice`)
  return matching[0]
}

t.test('every figure reaches the collector with the value the source returned', async (t) => {
  let calls = 0
  const { collect } = await metricsPipeline(t, async () => {
    calls += 1
    return [checkout, quiet]
  })
  const points = await collect()
  t.equal(calls, 1, 'the source is read once per collection, for all gauges')

  const expected: Array<[string, number, string, string]> = [
    ['ringmaster.reliability.incidents.total', 4, '{incident}', 'ring-2'],
    ['ringmaster.reliability.incidents.open', 1, '{incident}', 'ring-2'],
    ['ringmaster.reliability.incidents.resolved', 3, '{incident}', 'ring-2'],
    ['ringmaster.reliability.mttr.mean', 1800, 's', 'ring-2'],
    ['ringmaster.reliability.mttr.median', 1500, 's', 'ring-2'],
    ['ringmaster.reliability.mttr.count', 3, '{incident}', 'ring-2'],
    ['ringmaster.reliability.mtbf.mean', 604800, 's', 'ring-2'],
    ['ringmaster.reliability.mtbf.median', 500000, 's', 'ring-2'],
    ['ringmaster.reliability.mtbf.count', 2, '{interval}', 'ring-2'],
    ['ringmaster.reliability.availability', 0.9975, '1', 'ring-2'],
    ['ringmaster.reliability.traffic_weighted.mttr.mean', 600, 's', 'ring-2'],
    ['ringmaster.reliability.traffic_weighted.mttr.median', 450, 's', 'ring-2'],
    ['ringmaster.reliability.traffic_weighted.mttr.count', 3, '{incident}', 'ring-2'],
    ['ringmaster.reliability.traffic_weighted.availability', 0.9991, '1', 'ring-2'],
    ['ringmaster.reliability.dora.deployments', 20, '{deployment}', 'ring-2'],
    ['ringmaster.reliability.dora.deployment_frequency', 0.6667, '{deployment}/d', 'ring-2'],
    ['ringmaster.reliability.dora.lead_time_for_changes.mean', 7200, 's', 'ring-2'],
    ['ringmaster.reliability.dora.lead_time_for_changes.median', 5400, 's', 'ring-2'],
    ['ringmaster.reliability.dora.lead_time_for_changes.count', 20, '{deployment}', 'ring-2'],
    ['ringmaster.reliability.dora.failed_deployments', 2, '{deployment}', 'ring-2'],
    ['ringmaster.reliability.dora.change_failure_rate', 0.1, '1', 'ring-2'],
    ['ringmaster.reliability.dora.failed_deployment_recovery_time.mean', 900, 's', 'ring-2'],
    ['ringmaster.reliability.dora.failed_deployment_recovery_time.median', 900, 's', 'ring-2'],
    [
      'ringmaster.reliability.dora.failed_deployment_recovery_time.count',
      2,
      '{deployment}',
      'ring-2',
    ],
    ['ringmaster.reliability.dora.rework_deployments', 1, '{deployment}', 'ring-2'],
    ['ringmaster.reliability.dora.deployment_rework_rate', 0.05, '1', 'ring-2'],
  ]
  t.equal(expected.length, reliabilityFigures.length, 'the table covers every figure')
  for (const [name, value, unit, ring] of expected) {
    t.match(
      pointFor(points, name, 'checkout'),
      {
        type: 'gauge',
        value,
        unit,
        attributes: { 'ringmaster.service': 'checkout', 'ringmaster.ring.name': ring },
      },
      name,
    )
  }
})

t.test('null figures are not reported; DORA figures carry the DORA ring', async (t) => {
  const { collect } = await metricsPipeline(t, async () => [quiet])
  const points = await collect()
  const reported = new Set(points.map((point) => point.name))
  for (const name of [
    'ringmaster.reliability.mttr.mean',
    'ringmaster.reliability.mttr.median',
    'ringmaster.reliability.traffic_weighted.availability',
    'ringmaster.reliability.dora.change_failure_rate',
    'ringmaster.reliability.dora.deployment_rework_rate',
  ]) {
    t.notOk(reported.has(name), `${name} is not reported when null`)
  }
  t.match(pointFor(points, 'ringmaster.reliability.mttr.count', 'search'), { value: 0 })
  const availability = pointFor(points, 'ringmaster.reliability.availability', 'search')
  t.strictSame(
    availability?.attributes,
    { 'ringmaster.service': 'search' },
    'a report over every ring has no ring attribute',
  )
  t.strictSame(pointFor(points, 'ringmaster.reliability.dora.deployments', 'search')?.attributes, {
    'ringmaster.service': 'search',
    'ringmaster.ring.name': 'ring-3',
  })
})

t.test(
  'a failing source reports nothing that time, and the next collection recovers',
  async (t) => {
    let fail = true
    const { collect } = await metricsPipeline(t, async () => {
      if (fail) throw new Error('database unavailable')
      return [checkout]
    })
    const first = await collect()
    t.equal(first.filter((point) => point.name.startsWith('ringmaster.reliability.')).length, 0)
    fail = false
    const second = await collect()
    t.match(pointFor(second, 'ringmaster.reliability.incidents.open', 'checkout'), { value: 1 })
  },
)

t.test('a figure that became null, or a report that is gone, is no longer reported', async (t) => {
  let reports = [checkout, quiet]
  const { collect } = await metricsPipeline(t, async () => reports)
  const first = await collect()
  t.ok(pointFor(first, 'ringmaster.reliability.mttr.mean', 'checkout'))
  t.ok(pointFor(first, 'ringmaster.reliability.availability', 'search'))
  reports = [{ ...checkout, mttr: { count: 0, meanSeconds: null, medianSeconds: null } }]
  const second = await collect()
  t.equal(pointFor(second, 'ringmaster.reliability.mttr.mean', 'checkout'), undefined)
  t.match(pointFor(second, 'ringmaster.reliability.mttr.count', 'checkout'), { value: 0 })
  t.equal(pointFor(second, 'ringmaster.reliability.availability', 'search'), undefined)
  t.match(pointFor(second, 'ringmaster.reliability.availability', 'checkout'), { value: 0.9975 })
})

t.test('after unregister the gauges report nothing', async (t) => {
  let calls = 0
  const { collect, registration } = await metricsPipeline(t, async () => {
    calls += 1
    return [checkout]
  })
  t.ok((await collect()).length > 0)
  registration.unregister()
  const after = await collect()
  t.equal(after.filter((point) => point.name.startsWith('ringmaster.reliability.')).length, 0)
  t.equal(calls, 1, 'the source is no longer read')
})

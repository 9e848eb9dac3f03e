import t from 'tap'
import { evaluateHealth, type HealthVerdict } from '../../src/release/health-gate.js'
import type { HealthStatus } from '../../src/release/release.js'
import type { HealthThresholds } from '../../src/ring-policy.js'

const none: HealthThresholds = {}
const both: HealthThresholds = { maxErrorRate: 0.02, maxP99Ms: 800 }
const errorRateOnly: HealthThresholds = { maxErrorRate: 0.02 }
const p99Only: HealthThresholds = { maxP99Ms: 800 }

const status = { signal: 'status', value: null, threshold: null }
const er = (value: number, threshold: number) => ({ signal: 'errorRate', value, threshold })
const p99 = (value: number, threshold: number) => ({ signal: 'p99Ms', value, threshold })

const errorRateAbove = "errorRate 0.05 is above the ring's maxErrorRate 0.02"
const p99Above = "p99Ms 900 is above the ring's maxP99Ms 800"

t.test('evaluateHealth fails on an unhealthy report or a signal past its threshold', async (t) => {
  const cases: {
    name: string
    thresholds: HealthThresholds
    status: HealthStatus
    signals: Record<string, number>
    expected: HealthVerdict
  }[] = [
    {
      name: 'healthy, no signals, no thresholds',
      thresholds: none,
      status: 'healthy',
      signals: {},
      expected: { passed: true, reasons: [], decidedBy: status },
    },
    {
      name: 'no thresholds: any signal passes',
      thresholds: none,
      status: 'healthy',
      signals: { errorRate: 0.9, p99Ms: 60_000 },
      expected: { passed: true, reasons: [], decidedBy: status },
    },
    {
      name: 'thresholds given as undefined are no thresholds',
      thresholds: { maxErrorRate: undefined, maxP99Ms: undefined },
      status: 'healthy',
      signals: { errorRate: 0.9, p99Ms: 60_000 },
      expected: { passed: true, reasons: [], decidedBy: status },
    },
    {
      name: 'unhealthy fails even without thresholds',
      thresholds: none,
      status: 'unhealthy',
      signals: {},
      expected: { passed: false, reasons: ['reported unhealthy'], decidedBy: status },
    },
    {
      name: 'unhealthy fails even with signals in bounds',
      thresholds: both,
      status: 'unhealthy',
      signals: { errorRate: 0, p99Ms: 10 },
      expected: { passed: false, reasons: ['reported unhealthy'], decidedBy: status },
    },
    {
      name: 'degraded is not a failure',
      thresholds: none,
      status: 'degraded',
      signals: {},
      expected: { passed: true, reasons: [], decidedBy: status },
    },
    {
      name: 'degraded with signals in bounds',
      thresholds: both,
      status: 'degraded',
      signals: { errorRate: 0.01, p99Ms: 700 },
      expected: { passed: true, reasons: [], decidedBy: p99(700, 800) },
    },
    {
      name: 'degraded with a signal past its threshold fails for the signal',
      thresholds: both,
      status: 'degraded',
      signals: { errorRate: 0.05 },
      expected: { passed: false, reasons: [errorRateAbove], decidedBy: er(0.05, 0.02) },
    },
    {
      name: 'errorRate above the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0.05, p99Ms: 100 },
      expected: { passed: false, reasons: [errorRateAbove], decidedBy: er(0.05, 0.02) },
    },
    {
      name: 'errorRate at the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0.02, p99Ms: 100 },
      expected: { passed: true, reasons: [], decidedBy: er(0.02, 0.02) },
    },
    {
      name: 'errorRate below the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0.019, p99Ms: 100 },
      expected: { passed: true, reasons: [], decidedBy: er(0.019, 0.02) },
    },
    {
      name: 'p99Ms above the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0, p99Ms: 900 },
      expected: { passed: false, reasons: [p99Above], decidedBy: p99(900, 800) },
    },
    {
      name: 'p99Ms at the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0, p99Ms: 800 },
      expected: { passed: true, reasons: [], decidedBy: p99(800, 800) },
    },
    {
      name: 'p99Ms below the threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0, p99Ms: 799.5 },
      expected: { passed: true, reasons: [], decidedBy: p99(799.5, 800) },
    },
    {
      name: 'a missing errorRate signal passes its threshold',
      thresholds: both,
      status: 'healthy',
      signals: { p99Ms: 100 },
      expected: { passed: true, reasons: [], decidedBy: p99(100, 800) },
    },
    {
      name: 'a missing p99Ms signal passes its threshold',
      thresholds: both,
      status: 'healthy',
      signals: { errorRate: 0.01 },
      expected: { passed: true, reasons: [], decidedBy: er(0.01, 0.02) },
    },
    {
      name: 'only errorRate is watched: a slow p99Ms passes',
      thresholds: errorRateOnly,
      status: 'healthy',
      signals: { errorRate: 0.01, p99Ms: 5_000 },
      expected: { passed: true, reasons: [], decidedBy: er(0.01, 0.02) },
    },
    {
      name: 'only errorRate is watched: a high errorRate fails',
      thresholds: errorRateOnly,
      status: 'healthy',
      signals: { errorRate: 0.05, p99Ms: 5_000 },
      expected: { passed: false, reasons: [errorRateAbove], decidedBy: er(0.05, 0.02) },
    },
    {
      name: 'only p99Ms is watched: a high errorRate passes',
      thresholds: p99Only,
      status: 'healthy',
      signals: { errorRate: 0.5, p99Ms: 200 },
      expected: { passed: true, reasons: [], decidedBy: p99(200, 800) },
    },
    {
      name: 'only p99Ms is watched: a slow p99Ms fails',
      thresholds: p99Only,
      status: 'healthy',
      signals: { errorRate: 0.5, p99Ms: 900 },
      expected: { passed: false, reasons: [p99Above], decidedBy: p99(900, 800) },
    },
    {
      name: 'a zero threshold is a threshold',
      thresholds: { maxErrorRate: 0, maxP99Ms: 0 },
      status: 'healthy',
      signals: { errorRate: 0.001, p99Ms: 1 },
      expected: {
        passed: false,
        reasons: [
          "errorRate 0.001 is above the ring's maxErrorRate 0",
          "p99Ms 1 is above the ring's maxP99Ms 0",
        ],
        decidedBy: er(0.001, 0),
      },
    },
    {
      name: 'zero signals under a zero threshold pass',
      thresholds: { maxErrorRate: 0, maxP99Ms: 0 },
      status: 'healthy',
      signals: { errorRate: 0, p99Ms: 0 },
      expected: { passed: true, reasons: [], decidedBy: er(0, 0) },
    },
    {
      name: 'other signals are not judged',
      thresholds: both,
      status: 'healthy',
      signals: { cpu: 99, maxErrorRate: 5, p99: 10_000 },
      expected: { passed: true, reasons: [], decidedBy: status },
    },
    {
      name: 'every rule broken: one reason each, in order',
      thresholds: both,
      status: 'unhealthy',
      signals: { errorRate: 0.05, p99Ms: 900 },
      expected: {
        passed: false,
        reasons: ['reported unhealthy', errorRateAbove, p99Above],
        decidedBy: status,
      },
    },
  ]
  for (const { name, thresholds, status, signals, expected } of cases) {
    t.strictSame(evaluateHealth(thresholds, { status, signals }), expected, name)
  }
})

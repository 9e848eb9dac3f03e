import type { HealthThresholds } from '../ring-policy.js'
import type { HealthStatus } from './release.js'

export interface HealthVerdict {
  passed: boolean
  /** Why it failed, one line per broken rule. */
  reasons: string[]
}

/** An unhealthy report, or a signal past the ring's threshold, fails the health gate. */
export function evaluateHealth(
  thresholds: HealthThresholds,
  report: { status: HealthStatus; signals: Record<string, number> },
): HealthVerdict {
  const reasons: string[] = []
  if (report.status === 'unhealthy') reasons.push('reported unhealthy')
  const errorRate = report.signals.errorRate
  if (
    thresholds.maxErrorRate !== undefined &&
    errorRate !== undefined &&
    errorRate > thresholds.maxErrorRate
  ) {
    reasons.push(
      `errorRate ${errorRate} is above the ring's maxErrorRate ${thresholds.maxErrorRate}`,
    )
  }
  const p99Ms = report.signals.p99Ms
  if (thresholds.maxP99Ms !== undefined && p99Ms !== undefined && p99Ms > thresholds.maxP99Ms) {
    reasons.push(`p99Ms ${p99Ms} is above the ring's maxP99Ms ${thresholds.maxP99Ms}`)
  }
  return { passed: reasons.length === 0, reasons }
}

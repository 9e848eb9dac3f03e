import type { HealthThresholds } from '../ring-policy.js'
import type { HealthStatus } from './release.js'

/** A signal the gate looked at, and the limit the ring holds it to. */
export interface HealthSignalReading {
  signal: string
  value: number | null
  threshold: number | null
}

export interface HealthVerdict {
  passed: boolean
  /** Why it failed, one line per broken rule. */
  reasons: string[]
  /**
   * What decided the verdict: the first broken rule when it failed; when it passed, the signal
   * closest to its threshold (or the reported status when no threshold applies).
   */
  decidedBy: HealthSignalReading
}

const thresholdRules = [
  { signal: 'errorRate', threshold: (t: HealthThresholds) => t.maxErrorRate },
  { signal: 'p99Ms', threshold: (t: HealthThresholds) => t.maxP99Ms },
] as const

/** An unhealthy report, or a signal past the ring's threshold, fails the health gate. */
export function evaluateHealth(
  thresholds: HealthThresholds,
  report: { status: HealthStatus; signals: Record<string, number> },
): HealthVerdict {
  const reasons: string[] = []
  const broken: HealthSignalReading[] = []
  const held: Array<HealthSignalReading & { load: number }> = []
  if (report.status === 'unhealthy') {
    reasons.push('reported unhealthy')
    broken.push({ signal: 'status', value: null, threshold: null })
  }
  for (const rule of thresholdRules) {
    const threshold = rule.threshold(thresholds)
    const value = report.signals[rule.signal]
    if (threshold === undefined || value === undefined) continue
    if (value > threshold) {
      const limit = rule.signal === 'errorRate' ? 'maxErrorRate' : 'maxP99Ms'
      reasons.push(`${rule.signal} ${value} is above the ring's ${limit} ${threshold}`)
      broken.push({ signal: rule.signal, value, threshold })
    } else {
      held.push({
        signal: rule.signal,
        value,
        threshold,
        load: threshold > 0 ? value / threshold : 0,
      })
    }
  }
  const closest = held.sort((a, b) => b.load - a.load)[0]
  const decidedBy = broken[0] ??
    (closest && { signal: closest.signal, value: closest.value, threshold: closest.threshold }) ?? {
      signal: 'status',
      value: null,
      threshold: null,
    }
  return { passed: reasons.length === 0, reasons, decidedBy }
}

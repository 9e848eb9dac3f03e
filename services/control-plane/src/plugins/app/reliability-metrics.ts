import { metrics } from '@opentelemetry/api'
import { registerReliabilityMetrics } from '@ringmaster/telemetry'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Exports the reliability report (the last 30 days, per service, at the outermost ring) as
 * OpenTelemetry gauges, computed when the metric reader collects. Without a meter provider (tests,
 * OTEL_METRICS_EXPORTER=none) the global meter is a no-op and nothing is computed.
 */
export const reliabilityMetricsPlugin = fp(
  async function reliabilityMetrics(fastify: FastifyInstance) {
    const registration = registerReliabilityMetrics(
      metrics.getMeter('@ringmaster/control-plane'),
      () => fastify.reports.reliabilityForAll({}),
    )
    fastify.addHook('onClose', async () => registration.unregister())
  },
  { name: 'reliability-metrics', dependencies: ['domain-services'] },
)

import { randomUUID } from 'node:crypto'
import { OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as OtlpProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources'
import {
  AggregationTemporality,
  ConsoleMetricExporter,
  type IMetricReader,
  InstrumentType,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { attributeNames } from './attributes.js'
import {
  createRolloutSpanExporter,
  type RolloutSpanExporter,
  rolloutSpanExporterSettings,
} from './rollout-span-export.js'

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES sets one. */
  serviceName?: string | undefined
  serviceVersion: string
  /** `service.instance.id`; a random UUID per process by default. */
  instanceId?: string | undefined
  /** The control plane's public address, for the run and task URLs on rollout spans. */
  publicUrl?: string | undefined
}

export interface Telemetry {
  /** What every span and metric of this process is about. */
  readonly resource: Resource
  /** Whether traces leave the process (false with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none). */
  readonly tracing: boolean
  /** Exports stored rollout spans with this process's resource and OTEL_* settings. */
  readonly rolloutSpanExporter: RolloutSpanExporter
  /** Flushes and stops the SDK; gives up after `timeoutMs` so a missing collector cannot hold up exit. */
  shutdown(timeoutMs?: number): Promise<void>
}

/**
 * This process's resource: `service.name`, `service.version`, `service.instance.id`, the SDK,
 * process and host attributes, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME over them.
 */
export function telemetryResource(options: TelemetryOptions): Resource {
  const ours = resourceFromAttributes({
    [attributeNames.serviceName]: options.serviceName ?? 'ringmaster',
    [attributeNames.serviceVersion]: options.serviceVersion,
    [attributeNames.serviceInstanceId]: options.instanceId ?? randomUUID(),
  })
  return defaultResource()
    .merge(ours)
    .merge(detectResources({ detectors: [processDetector, hostDetector, envDetector] }))
}

/**
 * Starts the OpenTelemetry Node SDK from the standard OTEL_* variables (OTLP over HTTP with
 * protobuf unless they say otherwise) and registers it globally, so `@fastify/otel` and meters
 * find it. Without a collector nothing crashes and nothing is logged: export failures go to the
 * SDK's diagnostic logger, which is silent unless OTEL_LOG_LEVEL is set.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const resource = telemetryResource(options)
  const metricReaders = metricReadersFromEnv()
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    ...(metricReaders !== undefined && { metricReaders }),
  })
  sdk.start()
  const settings = rolloutSpanExporterSettings()
  const rolloutSpanExporter = createRolloutSpanExporter({
    resource,
    settings,
    publicUrl: options.publicUrl,
  })
  let stopping: Promise<void> | null = null
  return {
    resource,
    tracing: settings.kind !== 'none',
    rolloutSpanExporter,
    shutdown(timeoutMs = 3_000) {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs)
          timer.unref()
        })
        const flushed = Promise.allSettled([sdk.shutdown(), rolloutSpanExporter.shutdown()])
        await Promise.race([flushed, deadline])
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}

/**
 * Gauges as delta inside the SDK. A gauge has no temporality on the wire, but with cumulative
 * temporality the SDK keeps reporting a series' last value after it is no longer observed (a
 * figure that became null, a service that was removed); as delta it reports only what was
 * observed at this collection. Other instruments keep the exporter's choice.
 */
export function withCurrentGauges(exporter: PushMetricExporter): PushMetricExporter {
  return {
    export: (metrics, resultCallback) => exporter.export(metrics, resultCallback),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    selectAggregationTemporality: (instrumentType) =>
      instrumentType === InstrumentType.OBSERVABLE_GAUGE || instrumentType === InstrumentType.GAUGE
        ? AggregationTemporality.DELTA
        : (exporter.selectAggregationTemporality?.(instrumentType) ??
          AggregationTemporality.CUMULATIVE),
    ...(exporter.selectAggregation && {
      selectAggregation: exporter.selectAggregation.bind(exporter),
    }),
  }
}

/**
 * The metric readers the SDK would build from OTEL_METRICS_EXPORTER (`otlp` over HTTP, `console`,
 * `none`), OTEL_EXPORTER_OTLP_METRICS_PROTOCOL and OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT, with
 * gauges kept current. Undefined for what only the SDK knows (prometheus, grpc): it builds those.
 */
export function metricReadersFromEnv(
  env: Record<string, string | undefined> = process.env,
): IMetricReader[] | undefined {
  const names = [
    ...new Set(
      (env.OTEL_METRICS_EXPORTER ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== ''),
    ),
  ]
  if (names.includes('none')) return []
  if (names.length === 0) names.push('otlp')
  const protocol =
    env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    'http/protobuf'
  const readers: IMetricReader[] = []
  for (const name of names) {
    if (name === 'console') {
      readers.push(reader(new ConsoleMetricExporter(), env))
    } else if (name === 'otlp' && protocol === 'http/protobuf') {
      readers.push(reader(new OtlpProtobufMetricExporter(), env))
    } else if (name === 'otlp' && protocol === 'http/json') {
      readers.push(reader(new OtlpJsonMetricExporter(), env))
    } else {
      return undefined
    }
  }
  return readers
}

function reader(
  exporter: PushMetricExporter,
  env: Record<string, string | undefined>,
): IMetricReader {
  const exportIntervalMillis = positive(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60_000
  const exportTimeoutMillis = Math.min(
    positive(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30_000,
    exportIntervalMillis,
  )
  return new PeriodicExportingMetricReader({
    exporter: withCurrentGauges(exporter),
    exportIntervalMillis,
    exportTimeoutMillis,
  })
}

function positive(value: string | undefined): number | undefined {
  const number = Number(value)
  return value !== undefined && value.trim() !== '' && number > 0 ? number : undefined
}

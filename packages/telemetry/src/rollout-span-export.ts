import {
  type Link,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api'
import {
  ExportResultCode,
  hrTimeDuration,
  type InstrumentationScope,
  millisToHrTime,
} from '@opentelemetry/core'
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { Resource } from '@opentelemetry/resources'
import { ConsoleSpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace'
import type { RolloutSpan } from '@ringmaster/domain'
import {
  attributeNames,
  ERROR_TYPE_VALUE_OTHER,
  type RolloutSpanAttributeOptions,
  rolloutSpanAttributes,
} from './attributes.js'

/** The instrumentation scope rollout spans are exported under. */
export const rolloutSpanScope: InstrumentationScope = { name: '@ringmaster/control-plane' }

/**
 * A stored rollout span as the SDK's finished span: the stored trace, span and parent ids,
 * back-dated times, status, links and facts, on the given resource and scope. Pass the same
 * resource and scope objects for a batch; the OTLP serializer groups spans by identity.
 */
export function toReadableSpan(
  span: RolloutSpan,
  resource: Resource,
  scope: InstrumentationScope = rolloutSpanScope,
  attributeOptions: RolloutSpanAttributeOptions = {},
): ReadableSpan {
  const startTime = millisToHrTime(Date.parse(span.startedAt))
  const endTime = millisToHrTime(Math.max(Date.parse(span.endedAt), Date.parse(span.startedAt)))
  const spanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED }
  const failed = span.status === 'error' || span.errorType !== null
  const attributes = rolloutSpanAttributes(span, attributeOptions)
  if (failed) attributes[attributeNames.errorType] = span.errorType ?? ERROR_TYPE_VALUE_OTHER
  // A description belongs to an error status only (OpenTelemetry's span status rules).
  const status: SpanStatus = failed
    ? {
        code: SpanStatusCode.ERROR,
        ...(span.statusMessage !== null && { message: span.statusMessage }),
      }
    : { code: span.status === 'ok' ? SpanStatusCode.OK : SpanStatusCode.UNSET }
  const links: Link[] = span.links.map((link) => ({
    context: { traceId: link.traceId, spanId: link.spanId, traceFlags: TraceFlags.SAMPLED },
    attributes: { [attributeNames.linkRelation]: link.relation },
  }))
  return {
    name: span.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => spanContext,
    ...(span.parentSpanId !== null && {
      parentSpanContext: {
        traceId: span.traceId,
        spanId: span.parentSpanId,
        traceFlags: TraceFlags.SAMPLED,
      },
    }),
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status,
    attributes,
    links,
    events: [],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  }
}

/** Where rollout spans go: the OTLP collector, the console, or nowhere (tracing is off). */
export type RolloutSpanExporterKind = 'otlp' | 'console' | 'none'

export type RolloutSpanExportResult =
  | { outcome: 'exported' }
  /** Tracing is off: the spans were not sent, and need not be kept. */
  | { outcome: 'dropped' }
  /** The collector did not take them, after the exporter's own retries. */
  | { outcome: 'failed'; error: Error }

export interface RolloutSpanExporter {
  readonly kind: RolloutSpanExporterKind
  export(spans: readonly RolloutSpan[]): Promise<RolloutSpanExportResult>
  shutdown(): Promise<void>
}

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc'

export interface RolloutSpanExporterSettings {
  kind: RolloutSpanExporterKind
  protocol: OtlpProtocol
}

/**
 * Reads the settings the SDK reads for traces: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (`otlp`
 * by default; `console`; `none`) and OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
 * OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf` by default). An exporter the SDK knows and this
 * does not (`zipkin`) means rollout spans are not exported.
 */
export function rolloutSpanExporterSettings(
  env: Record<string, string | undefined> = process.env,
): RolloutSpanExporterSettings {
  const protocol = readProtocol(
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim(),
  )
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { kind: 'none', protocol }
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && name !== 'null')
  if (exporters.length === 0 || exporters.includes('otlp')) return { kind: 'otlp', protocol }
  if (exporters.includes('console')) return { kind: 'console', protocol }
  return { kind: 'none', protocol }
}

function readProtocol(value: string | undefined): OtlpProtocol {
  return value === 'http/json' || value === 'grpc' ? value : 'http/protobuf'
}

export interface RolloutSpanExporterOptions {
  /** The process's resource (`Telemetry.resource`), so rollout spans share the HTTP spans' one. */
  resource: Resource
  /** Overrides what the environment selects (tests; `none` to turn export off). */
  settings?: RolloutSpanExporterSettings | undefined
  /**
   * The traces URL, e.g. `http://collector:4318/v1/traces`. Unset, the OTLP exporter reads
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, as the SDK does; headers,
   * timeout and compression always come from the OTEL_EXPORTER_OTLP_* variables.
   */
  url?: string | undefined
  /** How long one export may take, retries included (OTEL_EXPORTER_OTLP_TIMEOUT otherwise). */
  timeoutMillis?: number | undefined
  scope?: InstrumentationScope | undefined
  /** The control plane's public address, for `cicd.pipeline.run.url.full` and the task's. */
  publicUrl?: string | undefined
}

/**
 * Exports stored rollout spans as they are, with the OTLP exporter the SDK would pick. The OTLP
 * exporter retries 429, 502, 503, 504 and refused connections with backoff within its timeout;
 * what still fails resolves as `failed`, so the caller keeps the spans and tries later.
 */
export function createRolloutSpanExporter(
  options: RolloutSpanExporterOptions,
): RolloutSpanExporter {
  const settings = options.settings ?? rolloutSpanExporterSettings()
  const scope = options.scope ?? rolloutSpanScope
  if (settings.kind === 'none') {
    return {
      kind: 'none',
      export: async () => ({ outcome: 'dropped' }),
      shutdown: async () => {},
    }
  }
  const exporter = createSpanExporter(settings, options)
  return {
    kind: settings.kind,
    async export(spans) {
      if (spans.length === 0) return { outcome: 'exported' }
      await options.resource.waitForAsyncAttributes?.()
      const readable = spans.map((span) =>
        toReadableSpan(span, options.resource, scope, { publicUrl: options.publicUrl }),
      )
      return new Promise<RolloutSpanExportResult>((resolve) => {
        try {
          exporter.export(readable, (result) => {
            resolve(
              result.code === ExportResultCode.SUCCESS
                ? { outcome: 'exported' }
                : { outcome: 'failed', error: result.error ?? new Error('the export failed') },
            )
          })
        } catch (error) {
          resolve({ outcome: 'failed', error: asError(error) })
        }
      })
    },
    shutdown: () => exporter.shutdown(),
  }
}

function createSpanExporter(
  settings: RolloutSpanExporterSettings,
  options: RolloutSpanExporterOptions,
): SpanExporter {
  if (settings.kind === 'console') return new ConsoleSpanExporter()
  const config = {
    ...(options.url !== undefined && { url: options.url }),
    ...(options.timeoutMillis !== undefined && { timeoutMillis: options.timeoutMillis }),
  }
  switch (settings.protocol) {
    case 'http/json':
      return new OtlpJsonTraceExporter(config)
    case 'grpc':
      return new OtlpGrpcTraceExporter(config)
    default:
      return new OtlpProtobufTraceExporter(config)
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'

// deploy/otel-collector.yaml is pasted into people's clusters; a pipeline that names a component
// nobody defined makes the collector refuse to start. No collector binary runs in CI, so the
// references are checked here the way the collector checks them at start.

const deploy = new URL('../../../deploy/', import.meta.url)
const config = parse(readFileSync(new URL('otel-collector.yaml', deploy), 'utf8'))
const compose = parse(readFileSync(new URL('observability.compose.yaml', deploy), 'utf8'))

t.test('every pipeline uses components the configuration defines', async (t) => {
  const pipelines = Object.entries(config.service.pipelines) as Array<
    [string, Record<'receivers' | 'processors' | 'exporters', string[]>]
  >
  t.strictSame(pipelines.map(([name]) => name).sort(), ['metrics', 'traces'])
  for (const [name, pipeline] of pipelines) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const component of pipeline[kind] ?? []) {
        t.ok(config[kind]?.[component] !== undefined, `${name} ${kind}: ${component} is defined`)
      }
    }
    t.ok(pipeline.receivers.includes('otlp'), `${name} receives OTLP`)
  }
  for (const extension of config.service.extensions ?? []) {
    t.ok(config.extensions?.[extension] !== undefined, `extension ${extension} is defined`)
  }
})

t.test('it listens where Ringmaster sends and forwards traces to an OTLP backend', async (t) => {
  // The SDK's default OTEL_EXPORTER_OTLP_ENDPOINT is http://localhost:4318.
  t.equal(config.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318')
  const traceExporters: string[] = config.service.pipelines.traces.exporters
  const backend = traceExporters.find((name) => name.startsWith('otlp'))
  t.ok(backend, 'traces go to Jaeger or Tempo over OTLP')
  t.match(config.exporters[backend!].endpoint, /jaeger:4317/)
})

t.test('the compose file runs that configuration next to Jaeger', async (t) => {
  const collector = compose.services['otel-collector']
  t.ok(
    collector.volumes.some((volume: string) => volume.startsWith('./otel-collector.yaml:')),
    'the collector mounts deploy/otel-collector.yaml',
  )
  t.ok(collector.command.some((arg: string) => arg.startsWith('--config=/etc/otelcol/config.yaml')))
  t.ok(collector.ports.some((port: string) => port.startsWith('4318:4318')))
  t.ok(compose.services.jaeger.ports.some((port: string) => port.startsWith('16686:16686')))
  t.equal(collector.environment.TRACES_ENDPOINT, 'jaeger:4317')
})

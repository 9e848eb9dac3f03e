import { hostname } from 'node:os'
import { resolve } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../../src/plugins/infra/config.js'

t.test('defaults: embedded database in ./data, port 3000, loopback', async (t) => {
  t.same(loadConfig({}), {
    port: 3000,
    host: '127.0.0.1',
    publicUrl: 'http://127.0.0.1:3000/',
    consoleUrl: undefined,
    databaseUrl: undefined,
    dataDir: resolve('./data'),
    adminToken: undefined,
    logLevel: 'info',
    engineIntervalMs: 1000,
    spanExportIntervalMs: 1000,
    sessionTtlMs: 8 * 3_600_000,
    sessionKey: undefined,
    trustProxy: false,
    traceUrlTemplate: undefined,
  })
})

t.test('every variable is read', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgresql://ringmaster@db:5432/ringmaster',
    RINGMASTER_DATA_DIR: '/var/lib/ringmaster',
    RINGMASTER_ADMIN_TOKEN: 'a-long-enough-bootstrap-secret',
    LOG_LEVEL: 'debug',
    RINGMASTER_ENGINE_INTERVAL_MS: '250',
    RINGMASTER_SPAN_EXPORT_INTERVAL_MS: '500',
    RINGMASTER_PUBLIC_URL: 'https://ringmaster.example.com/',
    RINGMASTER_SESSION_TTL: '90m',
    RINGMASTER_SESSION_KEY: 'a-cookie-key-of-at-least-32-characters',
    RINGMASTER_TRUST_PROXY: 'true',
    RINGMASTER_TRACE_URL_TEMPLATE: 'https://jaeger.example.com/trace/{traceId}',
  })
  t.same(config, {
    port: 8080,
    host: '0.0.0.0',
    publicUrl: 'https://ringmaster.example.com/',
    consoleUrl: 'https://ringmaster.example.com/',
    databaseUrl: 'postgresql://ringmaster@db:5432/ringmaster',
    dataDir: '/var/lib/ringmaster',
    adminToken: 'a-long-enough-bootstrap-secret',
    logLevel: 'debug',
    engineIntervalMs: 250,
    spanExportIntervalMs: 500,
    sessionTtlMs: 90 * 60_000,
    sessionKey: 'a-cookie-key-of-at-least-32-characters',
    trustProxy: true,
    traceUrlTemplate: 'https://jaeger.example.com/trace/{traceId}',
  })
})

t.test('the public URL: configured behind a proxy, else this host and port', async (t) => {
  t.equal(
    loadConfig({ RINGMASTER_PUBLIC_URL: 'https://example.com/ringmaster' }).publicUrl,
    'https://example.com/ringmaster',
  )
  t.equal(
    loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl,
    new URL(`http://${hostname()}:8080`).href,
    'a wildcard address is not one people can reach: the machine name instead',
  )
  t.equal(loadConfig({ HOST: '::1', PORT: '8080' }).publicUrl, 'http://[::1]:8080/')
  t.equal(loadConfig({ PORT: '0' }).publicUrl, undefined, 'a port not chosen yet has no address')
  for (const url of ['ringmaster.example.com', 'ftp://example.com', 'https://example.com/?a=1']) {
    const error = t.throws(() => loadConfig({ RINGMASTER_PUBLIC_URL: url })) as ConfigError
    t.match(error.problems, [/^RINGMASTER_PUBLIC_URL must be an http\(s\) URL/], url)
  }
})

t.test('console settings: session lifetime, cookie key, proxies, trace links', async (t) => {
  t.equal(loadConfig({ RINGMASTER_SESSION_TTL: '3600' }).sessionTtlMs, 3_600_000, 'seconds')
  t.equal(loadConfig({ RINGMASTER_SESSION_TTL: '2d' }).sessionTtlMs, 2 * 86_400_000)
  t.equal(loadConfig({ RINGMASTER_TRUST_PROXY: '2' }).trustProxy, 2, 'a number of hops')
  t.equal(loadConfig({ RINGMASTER_TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(
    loadConfig({ RINGMASTER_TRUST_PROXY: '10.0.0.1, 10.0.0.2' }).trustProxy,
    '10.0.0.1, 10.0.0.2',
    'the proxies by address',
  )
  const error = t.throws(() =>
    loadConfig({
      RINGMASTER_SESSION_TTL: '30s',
      RINGMASTER_SESSION_KEY: 'too-short',
      RINGMASTER_TRACE_URL_TEMPLATE: 'https://jaeger.example.com/trace/',
    }),
  ) as ConfigError
  t.match(error.problems, [
    /^RINGMASTER_SESSION_TTL must be a duration from 1 minute to 30 days/,
    /^RINGMASTER_SESSION_KEY must be at least 32 characters/,
    /^RINGMASTER_TRACE_URL_TEMPLATE must be an http\(s\) URL with \{traceId\}/,
  ])
  t.notMatch(error.message, 'too-short', 'the key is never quoted')
})

t.test('problems are reported together', async (t) => {
  const error = t.throws(() => loadConfig({ PORT: '70000', LOG_LEVEL: 'chatty' })) as ConfigError
  t.type(error, ConfigError)
  t.same(error.problems, [
    "PORT must be a whole number from 0 to 65535; got '70000'",
    "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got 'chatty'",
  ])
  for (const interval of ['0', '10', '1.5', 'soon']) {
    t.throws(
      () => loadConfig({ RINGMASTER_ENGINE_INTERVAL_MS: interval }),
      ConfigError,
      `RINGMASTER_ENGINE_INTERVAL_MS=${interval}`,
    )
  }
  t.same(
    (t.throws(() => loadConfig({ RINGMASTER_SPAN_EXPORT_INTERVAL_MS: 'soon' })) as ConfigError)
      .problems,
    ["RINGMASTER_SPAN_EXPORT_INTERVAL_MS must be a whole number from 50 to 60000; got 'soon'"],
  )
  for (const port of ['1.5', '-1', 'http']) {
    t.throws(() => loadConfig({ PORT: port }), ConfigError, `PORT=${port}`)
  }
})

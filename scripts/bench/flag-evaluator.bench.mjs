// Compiled flag evaluator vs unleash-client local evaluation on the same ring state.
// Build first: pnpm --filter @ringmaster/flag-evaluator build
// Run: node scripts/bench/flag-evaluator.bench.mjs [--seconds 1]
import { once } from 'node:events'
import { createRequire } from 'node:module'
import os from 'node:os'

const packageJson = new URL('../../packages/flag-evaluator/package.json', import.meta.url)
const require = createRequire(packageJson)
const { compileFlags, getVariant, isEnabled } = await import(
  new URL('../../packages/flag-evaluator/dist/index.js', import.meta.url).href
)
const { InMemStorageProvider, Unleash } = require('unleash-client')

const secondsArg = process.argv.indexOf('--seconds')
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1
const FLAGS = 200
const CONTEXTS = 1000

let seed = 42
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let x = seed
  x = Math.imul(x ^ (x >>> 15), x | 1)
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}
const pick = (items) => items[Math.floor(random() * items.length)]

const CONSTRAINTS = [
  () => ({ contextName: 'environment', operator: 'IN', values: ['production', 'staging'] }),
  () => ({
    contextName: 'region',
    operator: 'IN',
    values: ['eu-west-1', 'eu-north-1', 'us-east-1'],
  }),
  () => ({ contextName: 'tenant', operator: 'NOT_IN', values: ['blocked-1', 'blocked-2'] }),
  () => ({
    contextName: 'email',
    operator: 'STR_ENDS_WITH',
    values: ['@example.com'],
    caseInsensitive: true,
  }),
  () => ({ contextName: 'appVersion', operator: 'SEMVER_GT', value: '2.3.0' }),
  () => ({ contextName: 'seats', operator: 'NUM_GTE', value: '10' }),
  () => ({ contextName: 'currentTime', operator: 'DATE_AFTER', value: '2024-01-01T00:00:00Z' }),
  () => ({ contextName: 'userId', operator: 'REGEX', value: '^user-[0-9]*7$' }),
  () => ({
    contextName: 'remoteAddress',
    operator: 'IN_CIDR',
    values: ['10.0.0.0/8', '192.168.0.0/16'],
  }),
]

const strategy = (name) => {
  const kind = pick([
    'flexibleRollout',
    'flexibleRollout',
    'flexibleRollout',
    'default',
    'userWithId',
  ])
  const constraints = Array.from({ length: Math.floor(random() * 3) }, () => pick(CONSTRAINTS)())
  const base = { name: kind, constraints, segments: random() < 0.2 ? [1] : [] }
  if (kind === 'flexibleRollout') {
    base.parameters = {
      rollout: String(pick([5, 10, 25, 50, 100])),
      stickiness: 'default',
      groupId: name,
    }
  } else if (kind === 'userWithId') {
    base.parameters = { userIds: 'user-1,user-2,user-3,user-42,user-99' }
  } else {
    base.parameters = {}
  }
  if (random() < 0.2) {
    base.variants = [
      { name: 'a', weight: 500, stickiness: 'default', payload: { type: 'string', value: 'A' } },
      { name: 'b', weight: 500, stickiness: 'default' },
    ]
  }
  return base
}

const features = Array.from({ length: FLAGS }, (_, i) => {
  const name = `ring.flag-${i}`
  const feature = {
    name,
    enabled: random() < 0.9,
    strategies: Array.from({ length: 1 + Math.floor(random() * 3) }, () => strategy(name)),
  }
  if (random() < 0.25) {
    feature.variants = [
      { name: 'control', weight: 500, stickiness: 'default' },
      {
        name: 'treatment',
        weight: 500,
        stickiness: 'default',
        payload: { type: 'json', value: '{}' },
      },
    ]
  }
  if (i > 10 && random() < 0.1) feature.dependencies = [{ feature: `ring.flag-${i - 5}` }]
  return feature
})
const segments = [
  { id: 1, constraints: [{ contextName: 'plan', operator: 'IN', values: ['pro', 'enterprise'] }] },
]
const contexts = Array.from({ length: CONTEXTS }, (_, i) => ({
  userId: `user-${i}`,
  sessionId: `session-${i}`,
  remoteAddress: pick(['10.1.2.3', '192.168.4.5', '172.16.0.1']),
  environment: pick(['production', 'staging', 'development']),
  properties: {
    region: pick(['eu-west-1', 'eu-north-1', 'us-east-1', 'ap-south-1']),
    tenant: pick(['acme', 'globex', 'blocked-1']),
    email: pick(['a@example.com', 'b@Example.COM', 'c@other.org']),
    appVersion: pick(['2.1.0', '2.3.1', '3.0.0-beta.1', '3.1.4']),
    seats: String(Math.floor(random() * 40)),
    plan: pick(['free', 'pro', 'enterprise']),
  },
}))

const unleash = new Unleash({
  url: 'http://127.0.0.1:9/api',
  appName: 'bench',
  refreshInterval: 0,
  disableMetrics: true,
  disableAutoStart: true,
  skipInstanceCountWarning: true,
  bootstrap: { data: features, segments },
  storageProvider: new InMemStorageProvider(),
})
unleash.on('error', () => {})
unleash.on('warn', () => {})
const ready = once(unleash, 'ready')
await unleash.start()
await ready

const compileStart = performance.now()
const compiled = compileFlags({ version: 1, features, segments })
const compileMs = performance.now() - compileStart
// unleash-client merges its static context (appName, environment) into every call; so do we.
const merged = contexts.map((context) => ({ appName: 'bench', environment: 'default', ...context }))
const names = features.map((f) => f.name)

const measure = (label, evaluateOne) => {
  const run = (ms) => {
    let ops = 0
    let sink = 0
    const end = performance.now() + ms
    let c = 0
    while (performance.now() < end) {
      for (let i = 0; i < names.length; i++) sink += evaluateOne(names[i], c) ? 1 : 0
      ops += names.length
      c = (c + 1) % CONTEXTS
    }
    return { ops, sink }
  }
  run(200)
  const start = performance.now()
  const { ops } = run(SECONDS * 1000)
  const opsPerSecond = ops / ((performance.now() - start) / 1000)
  console.log(
    `${label.padEnd(40)} ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(12)} ops/s`,
  )
  return opsPerSecond
}

let disagreements = 0
for (let c = 0; c < 50; c++) {
  for (const name of names) {
    if (isEnabled(compiled, name, merged[c]) !== unleash.isEnabled(name, contexts[c]))
      disagreements++
  }
}

console.log(
  `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'})`,
)
console.log(
  `${FLAGS} flags, ${CONTEXTS} contexts, compile ${compileMs.toFixed(1)} ms, ${disagreements} disagreements in ${50 * FLAGS} checks`,
)
const oursEnabled = measure('isEnabled  @ringmaster/flag-evaluator', (n, c) =>
  isEnabled(compiled, n, merged[c]),
)
const theirsEnabled = measure('isEnabled  unleash-client', (n, c) =>
  unleash.isEnabled(n, contexts[c]),
)
const oursVariant = measure(
  'getVariant @ringmaster/flag-evaluator',
  (n, c) => getVariant(compiled, n, merged[c]).enabled,
)
const theirsVariant = measure(
  'getVariant unleash-client',
  (n, c) => unleash.getVariant(n, contexts[c]).enabled,
)
console.log(`ratio isEnabled  ${(oursEnabled / theirsEnabled).toFixed(2)}x`)
console.log(`ratio getVariant ${(oursVariant / theirsVariant).toFixed(2)}x`)
unleash.destroy()
if (disagreements > 0) process.exitCode = 1

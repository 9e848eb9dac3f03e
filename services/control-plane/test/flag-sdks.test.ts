import {
  type ClientFeaturesState,
  type CompiledFlags,
  compileFlags,
  evaluate,
  type UnleashContext,
} from '@ringmaster/flag-evaluator'
import t, { type Test } from 'tap'
import { InMemStorageProvider, Unleash, UnleashEvents } from 'unleash-client'
import { InMemoryStorageProvider, UnleashClient } from 'unleash-proxy-client'
import { type AdminCall, sampleContexts, seedFlags } from './helpers/flag-fixtures.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// End to end with the real SDKs against the real server process: unleash-client in polling
// (with ETag 304s), delta and streaming modes, and unleash-proxy-client on the frontend API.
// Their decisions must equal our evaluator's, and a change made through the admin API must
// reach them.

interface Setup {
  server: RunningServer
  ring: string
  flags: string[]
  client: string
  frontend: string
  admin: AdminCall
}

async function setup(t: Test): Promise<Setup> {
  const server = await startServer(t)
  const admin: AdminCall = async (method, url, body) => {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${server.adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
  }
  const ring = 'ring-0'
  t.equal((await admin('POST', '/v1/rings', { name: ring, order: 0 })).status, 201)
  const flags = await seedFlags(admin, ring)
  const token = async (role: 'client' | 'frontend') => {
    const response = await admin('POST', '/v1/tokens', {
      name: `${role}-sdk`,
      role,
      ring,
      subject: `${role}-e2e`,
    })
    t.equal(response.status, 201)
    return (response.body as { secret: string }).secret
  }
  return {
    server,
    ring,
    flags,
    client: await token('client'),
    frontend: await token('frontend'),
    admin,
  }
}

/** Our evaluator over the state the server serves right now. */
async function ourEvaluator({ server, client }: Setup): Promise<CompiledFlags> {
  const response = await fetch(`${server.url}/api/client/features`, {
    headers: { authorization: client, 'unleash-client-spec': '5.2.0' },
  })
  return compileFlags((await response.json()) as ClientFeaturesState)
}

function startUnleash(
  t: Test,
  { server, client }: Setup,
  mode: ConstructorParameters<typeof Unleash>[0]['experimentalMode'],
): Unleash {
  const unleash = new Unleash({
    appName: 'checkout',
    url: `${server.url}/api`,
    customHeaders: { Authorization: client },
    refreshInterval: 250,
    metricsInterval: 60_000,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
    ...(mode && { experimentalMode: mode }),
  })
  unleash.on(UnleashEvents.Error, (error) => t.fail(`unleash-client error: ${error}`))
  t.teardown(() => unleash.destroy())
  return unleash
}

/** unleash-client answers, for every flag and context, as our evaluator does. */
function sameDecisions(t: Test, unleash: Unleash, compiled: CompiledFlags, flags: string[]) {
  let compared = 0
  for (const context of sampleContexts(30)) {
    // What the SDK does: its static context under the caller's.
    const full: UnleashContext = { appName: 'checkout', environment: 'default', ...context }
    for (const name of flags) {
      const ours = evaluate(compiled, name, full)
      const enabled = unleash.isEnabled(name, context)
      const variant = unleash.getVariant(name, context)
      if (enabled !== ours.enabled) t.fail(`${name} for ${context.userId}: enabled ${enabled}`)
      t.same(variant, ours.variant, `${name} for ${context.userId}`, { diagnostic: false })
      compared++
    }
  }
  t.ok(compared >= 500, `${compared} decisions compared`)
}

/** Resolves once `check` holds, looking each time the SDK reports a change (and every 10 ms). */
function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const poll = setInterval(() => {
      if (check()) {
        clearInterval(poll)
        clearTimeout(timer)
        resolve()
      }
    }, 1)
  })
}

async function toggleEveryone({ admin, ring }: Setup, enabled: boolean) {
  const response = await admin('PATCH', `/v1/flags/everyone/rings/${ring}`, { enabled })
  if (response.status !== 200) throw new Error(`toggle failed: ${JSON.stringify(response.body)}`)
}

t.test('unleash-client polling: same decisions, 304s, a change arrives', async (t) => {
  const env = await setup(t)
  const unleash = startUnleash(t, env, undefined)
  let unchanged = 0
  unleash.on(UnleashEvents.Unchanged, () => unchanged++)
  await new Promise((resolve) => unleash.once(UnleashEvents.Synchronized, resolve))
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)
  await waitFor(() => unchanged >= 2, 5000, 'polls answered 304')
  t.ok(unchanged >= 2, `${unchanged} polls answered 304 Not Modified`)

  await toggleEveryone(env, false)
  await waitFor(() => !unleash.isEnabled('everyone'), 15_000, 'the change to be polled')
  t.match(
    unleash.getFeatureToggleDefinition('everyone'),
    { name: 'everyone', enabled: false },
    'a change made through the admin API reached the polling SDK',
  )
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)

  // Metrics counted by the SDK arrive per flag, ring and hour.
  await unleash.flushMetrics()
  const metrics = await env.admin('GET', `/v1/flags/colours/metrics?ring=${env.ring}`)
  const totals = (metrics.body as { totals: { yes: number; no: number } }).totals
  t.ok(totals.yes + totals.no >= 30, `metrics arrived: ${JSON.stringify(totals)}`)
})

t.test('unleash-client delta mode: hydration, then only changes', async (t) => {
  const env = await setup(t)
  const unleash = startUnleash(t, env, { type: 'polling', format: 'delta' })
  let unchanged = 0
  unleash.on(UnleashEvents.Unchanged, () => unchanged++)
  await new Promise((resolve) => unleash.once(UnleashEvents.Synchronized, resolve))
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)
  await waitFor(() => unchanged >= 1, 5000, 'a delta poll answered 304')

  await toggleEveryone(env, false)
  const segment = await env.admin('PUT', '/v1/segments/internal', {
    constraints: [{ contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@elsewhere.org'] }],
  })
  t.equal(segment.status, 200)
  await waitFor(
    () =>
      !unleash.isEnabled('everyone') &&
      unleash.isEnabled('staff-only', { properties: { email: 'a@elsewhere.org' } }),
    15_000,
    'the delta to arrive',
  )
  t.match(unleash.getFeatureToggleDefinition('everyone'), { name: 'everyone', enabled: false })
  t.notOk(
    unleash.isEnabled('staff-only', { properties: { email: 'a@example.com' } }),
    'the old segment no longer matches',
  )
  t.ok(
    unleash.isEnabled('staff-only', { properties: { email: 'a@elsewhere.org' } }),
    'the new one does',
  )
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)
})

// How fast a change arrives is measured in scripts/bench/flag-streaming.ts (docs/benchmarks.md).
t.test('unleash-client streaming: every committed change arrives', async (t) => {
  const env = await setup(t)
  const unleash = startUnleash(t, env, { type: 'streaming' })
  await new Promise((resolve) => unleash.once(UnleashEvents.Synchronized, resolve))
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)

  const seen: boolean[] = []
  for (let round = 0; round < 10; round++) {
    const enabled = round % 2 === 1
    await toggleEveryone(env, enabled)
    await waitFor(() => unleash.isEnabled('everyone') === enabled, 15_000, `change ${round}`)
    seen.push(unleash.getFeatureToggleDefinition('everyone')!.enabled)
  }
  t.strictSame(seen, [false, true, false, true, false, true, false, true, false, true])
  sameDecisions(t, unleash, await ourEvaluator(env), env.flags)
})

t.test('unleash-proxy-client on the frontend API', async (t) => {
  const env = await setup(t)
  const statuses: number[] = []
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (String(input).includes('/api/frontend?')) statuses.push(response.status)
    return response
  }
  const proxy = new UnleashClient({
    url: `${env.server.url}/api/frontend`,
    clientKey: env.frontend,
    appName: 'web',
    refreshInterval: 1,
    metricsInterval: 60,
    metricsIntervalInitial: 0,
    storageProvider: new InMemoryStorageProvider(),
    fetch: recordingFetch,
    createAbortController: () => new AbortController(),
  })
  proxy.on('error', (error: unknown) =>
    t.fail(`unleash-proxy-client error: ${JSON.stringify(error)}`),
  )
  t.teardown(() => proxy.stop())
  await proxy.start()
  t.ok(proxy.isReady())

  const compiled = await ourEvaluator(env)
  let compared = 0
  for (const context of sampleContexts(16)) {
    await proxy.updateContext(context)
    const full: UnleashContext = { appName: 'web', environment: 'default', ...context }
    for (const name of env.flags) {
      const ours = evaluate(compiled, name, full)
      t.equal(proxy.isEnabled(name), ours.enabled, `${name} for ${context.userId}`, {
        diagnostic: false,
      })
      const variant = proxy.getVariant(name)
      t.same(
        { name: variant.name, enabled: variant.enabled, payload: variant.payload },
        { name: ours.variant.name, enabled: ours.variant.enabled, payload: ours.variant.payload },
        `${name} variant for ${context.userId}`,
        { diagnostic: false },
      )
      compared++
    }
  }
  t.ok(compared >= 250, `${compared} decisions compared`)

  const before = statuses.length
  await proxy.updateContext(sampleContexts(16)[15]!)
  t.equal(statuses.slice(before).at(-1), 304, 'the same context again: 304 Not Modified')

  const beforeChange = statuses.length
  await toggleEveryone(env, false)
  await waitFor(() => !proxy.isEnabled('everyone'), 15_000, 'the next frontend poll')
  t.notOk(
    proxy.getAllToggles().some((toggle) => toggle.name === 'everyone'),
    'a change made through the admin API reached the browser SDK: the flag left its toggles',
  )
  t.ok(statuses.slice(beforeChange).includes(200), 'in a new answer, not a 304')

  await proxy.sendMetrics()
  const metrics = await env.admin('GET', `/v1/flags/colours/metrics?ring=${env.ring}`)
  const totals = (metrics.body as { totals: { yes: number; no: number } }).totals
  t.ok(totals.yes + totals.no >= 16, `browser metrics arrived: ${JSON.stringify(totals)}`)
})

import { once } from 'node:events'
import t from 'tap'
import type { ClientFeaturesState, Feature, UnleashContext, VariantResult } from '../src/index.js'
import {
  compileFlags,
  evaluateAll,
  evaluateAllJson,
  getVariant,
  isEnabled,
  OPERATORS,
  STRATEGY_NAMES,
} from '../src/index.js'
import { picker, randomContext, randomState, seededRandom } from './fixtures/random-flag-state.js'

// unleash-client reads the host name once, when it is first loaded.
const HOSTNAME = 'build-agent'
process.env.HOSTNAME = HOSTNAME
const { InMemStorageProvider, Unleash } = await import('unleash-client')

const APP_NAME = 'ringmaster-differential'
const FLAG_COUNT = 3000
const CONTEXT_COUNT = 24

const seed = process.env.RINGMASTER_DIFF_SEED
  ? Number(process.env.RINGMASTER_DIFF_SEED)
  : Math.floor(Math.random() * 2 ** 31)
t.comment(`differential seed ${seed} (replay with RINGMASTER_DIFF_SEED=${seed})`)

type UnleashInstance = InstanceType<typeof Unleash>

const startUnleash = async (state: ClientFeaturesState): Promise<UnleashInstance> => {
  const unleash = new Unleash({
    url: 'http://127.0.0.1:9/api',
    appName: APP_NAME,
    refreshInterval: 0,
    disableMetrics: true,
    disableAutoStart: true,
    skipInstanceCountWarning: true,
    bootstrap: {
      data: state.features as never,
      segments: (state.segments ?? []) as never,
    },
    storageProvider: new InMemStorageProvider(),
  })
  unleash.on('error', () => {})
  unleash.on('warn', () => {})
  const ready = once(unleash, 'ready')
  await unleash.start()
  await ready
  return unleash
}

// Randomness is pinned to one value per comparison, so random stickiness and random rollouts
// are deterministic for both evaluators whatever order they draw in.
let roll = 0.5
const originalRandom = Math.random
Math.random = () => roll
t.teardown(() => {
  Math.random = originalRandom
})

interface Answer {
  enabled: boolean
  variant: Pick<
    VariantResult,
    'name' | 'enabled' | 'feature_enabled' | 'featureEnabled' | 'payload'
  >
}

const ours = (state: ClientFeaturesState, name: string, context: UnleashContext): Answer => {
  const compiled = compileFlags(state, { hostname: HOSTNAME, random: () => roll })
  const merged = { appName: APP_NAME, environment: 'default', ...context }
  return { enabled: isEnabled(compiled, name, merged), variant: getVariant(compiled, name, merged) }
}

const theirs = (unleash: UnleashInstance, name: string, context: UnleashContext): Answer => {
  const enabled = unleash.isEnabled(name, context as never)
  const variant = unleash.getVariant(name, context as never)
  return {
    enabled,
    variant: {
      name: variant.name,
      enabled: variant.enabled,
      feature_enabled: !!variant.feature_enabled,
      featureEnabled: !!variant.featureEnabled,
      ...(variant.payload === undefined ? {} : { payload: variant.payload as never }),
    },
  }
}

const same = (a: Answer, b: Answer) =>
  a.enabled === b.enabled &&
  a.variant.name === b.variant.name &&
  a.variant.enabled === b.variant.enabled &&
  a.variant.feature_enabled === b.variant.feature_enabled &&
  a.variant.featureEnabled === b.variant.featureEnabled &&
  JSON.stringify(a.variant.payload) === JSON.stringify(b.variant.payload)

/** The flag, the parents it names and the segments it uses: all the state its answer depends on. */
const sliceFor = (state: ClientFeaturesState, name: string): ClientFeaturesState => {
  const byName = new Map(state.features.map((f) => [f.name, f]))
  const flag = byName.get(name) as Feature
  const parents = (flag.dependencies ?? []).flatMap((d) => byName.get(d.feature) ?? [])
  const features = [flag, ...parents.filter((p) => p !== flag)]
  const used = new Set(
    features.flatMap((f) => (f.strategies ?? []).flatMap((s) => s.segments ?? [])),
  )
  return {
    version: 2,
    features: [...new Set(features)],
    segments: (state.segments ?? []).filter((s) => used.has(s.id)),
  }
}

const disagrees = async (state: ClientFeaturesState, name: string, context: UnleashContext) => {
  const unleash = await startUnleash(state)
  try {
    return !same(ours(state, name, context), theirs(unleash, name, context))
  } finally {
    unleash.destroy()
  }
}

/** Greedy shrinking: drop any piece whose removal keeps the two evaluators apart. */
const shrink = async (start: ClientFeaturesState, name: string, startContext: UnleashContext) => {
  let state: ClientFeaturesState = structuredClone(start)
  let context: UnleashContext = structuredClone(startContext)
  const attempts = (): (() => [ClientFeaturesState, UnleashContext])[] => {
    const out: (() => [ClientFeaturesState, UnleashContext])[] = []
    const edit = (change: (s: ClientFeaturesState, c: UnleashContext) => void) => () => {
      const s = structuredClone(state)
      const c = structuredClone(context)
      change(s, c)
      return [s, c] as [ClientFeaturesState, UnleashContext]
    }
    state.features.forEach((feature, f) => {
      if (feature.name !== name) out.push(edit((s) => s.features.splice(f, 1)))
      feature.strategies?.forEach((strategy, i) => {
        out.push(edit((s) => s.features[f]?.strategies?.splice(i, 1)))
        strategy.constraints?.forEach((_, j) => {
          out.push(edit((s) => s.features[f]?.strategies?.[i]?.constraints?.splice(j, 1)))
        })
        if (strategy.variants)
          out.push(edit((s) => delete s.features[f]?.strategies?.[i]?.variants))
        if (strategy.segments)
          out.push(edit((s) => delete s.features[f]?.strategies?.[i]?.segments))
      })
      feature.variants?.forEach((_, i) => {
        out.push(edit((s) => s.features[f]?.variants?.splice(i, 1)))
      })
      feature.dependencies?.forEach((_, i) => {
        out.push(edit((s) => s.features[f]?.dependencies?.splice(i, 1)))
      })
    })
    state.segments?.forEach((_, i) => {
      out.push(edit((s) => s.segments?.splice(i, 1)))
    })
    for (const key of Object.keys(context)) out.push(edit((_, c) => delete c[key]))
    for (const key of Object.keys(context.properties ?? {})) {
      out.push(edit((_, c) => delete c.properties?.[key]))
    }
    return out
  }
  for (let progress = true; progress; ) {
    progress = false
    for (const attempt of attempts()) {
      const [s, c] = attempt()
      if (await disagrees(s, name, c)) {
        state = s
        context = c
        progress = true
        break
      }
    }
  }
  return { state, context }
}

t.test(`our evaluator agrees with unleash-client (seed ${seed})`, async (t) => {
  const pick = picker(seededRandom(seed))
  const state = randomState(pick, FLAG_COUNT)
  const contexts = Array.from({ length: CONTEXT_COUNT }, () => randomContext(pick))
  const unleash = await startUnleash(state)
  t.teardown(() => unleash.destroy())
  const compiled = compileFlags(state, { hostname: HOSTNAME, random: () => roll })

  const failures: { name: string; context: UnleashContext; roll: number }[] = []
  let comparisons = 0
  let enabledCount = 0
  const variantNames = new Set<string>()
  for (const feature of state.features) {
    for (const context of contexts) {
      roll = pick.int(0, 999) / 1000
      const merged = { appName: APP_NAME, environment: 'default', ...context }
      const mine: Answer = {
        enabled: isEnabled(compiled, feature.name, merged),
        variant: getVariant(compiled, feature.name, merged),
      }
      const reference = theirs(unleash, feature.name, context)
      comparisons++
      if (mine.enabled) enabledCount++
      variantNames.add(mine.variant.name)
      if (!same(mine, reference) && failures.length < 3) {
        failures.push({ name: feature.name, context, roll })
      }
    }
  }

  for (const failure of failures) {
    roll = failure.roll
    const minimal = await shrink(sliceFor(state, failure.name), failure.name, failure.context)
    const unleashMinimal = await startUnleash(minimal.state)
    t.comment(
      JSON.stringify(
        {
          flag: failure.name,
          roll,
          state: minimal.state,
          context: minimal.context,
          ours: ours(minimal.state, failure.name, minimal.context),
          unleash: theirs(unleashMinimal, failure.name, minimal.context),
        },
        null,
        2,
      ),
    )
    unleashMinimal.destroy()
  }

  t.equal(failures.length, 0, 'no disagreements on isEnabled or getVariant')
  t.equal(comparisons, FLAG_COUNT * CONTEXT_COUNT)
  // Guard against a generator that only produces "off": both answers must be common.
  t.ok(enabledCount > comparisons * 0.1, `enabled in ${enabledCount} of ${comparisons}`)
  t.ok(
    enabledCount < comparisons * 0.9,
    `disabled in ${comparisons - enabledCount} of ${comparisons}`,
  )
  t.ok(variantNames.size >= 6, `variants served: ${[...variantNames].join(', ')}`)
  const operators = new Set(
    state.features.flatMap((f) =>
      (f.strategies ?? []).flatMap((s) => (s.constraints ?? []).map((c) => c.operator)),
    ),
  )
  t.ok(
    OPERATORS.every((operator) => operators.has(operator)),
    'the generated state uses every operator',
  )
  const strategies = new Set(state.features.flatMap((f) => (f.strategies ?? []).map((s) => s.name)))
  t.ok(
    STRATEGY_NAMES.every((name) => strategies.has(name)),
    'the generated state uses every strategy',
  )
})

t.test(`evaluateAll agrees with unleash-client flag by flag (seed ${seed})`, async (t) => {
  const pick = picker(seededRandom(seed + 1))
  const state = randomState(pick, FLAG_COUNT)
  const contexts = Array.from({ length: CONTEXT_COUNT }, () => randomContext(pick))
  const unleash = await startUnleash(state)
  t.teardown(() => unleash.destroy())
  const compiled = compileFlags(state, { hostname: HOSTNAME, random: () => roll })

  let disagreements = 0
  let served = 0
  for (const context of contexts) {
    roll = pick.int(0, 999) / 1000
    const merged = { appName: APP_NAME, environment: 'default', ...context }
    const toggles = evaluateAll(compiled, merged)
    t.equal(evaluateAllJson(compiled, merged), JSON.stringify(toggles), 'the JSON is the toggles')
    const byName = new Map(toggles.map((toggle) => [toggle.name, toggle]))
    served += toggles.length
    for (const feature of state.features) {
      const reference = theirs(unleash, feature.name, context)
      const toggle = byName.get(feature.name)
      const mine: Answer = {
        enabled: toggle !== undefined,
        variant: toggle?.variant ?? {
          name: 'disabled',
          enabled: false,
          feature_enabled: false,
          featureEnabled: false,
        },
      }
      if (!same(mine, reference)) {
        if (disagreements < 3) t.comment(JSON.stringify({ flag: feature.name, context, roll }))
        disagreements++
      }
      if (toggle && toggle.impressionData !== !!feature.impressionData) disagreements++
    }
  }
  t.equal(disagreements, 0, 'no disagreements between evaluateAll and unleash-client')
  t.ok(served > 0, `${served} toggles served`)
})

// Deterministic flag states and contexts for the flag benchmarks: the in-process comparison with
// unleash-client (scripts/bench/flags.ts) and the HTTP benchmark load the same data.
// Each generator is seeded, so the same call returns the same bytes on every machine.
import type {
  ClientFeaturesState,
  Constraint,
  Dependency,
  Feature,
  Segment,
  Strategy,
  UnleashContext,
  VariantDefinition,
} from '../../packages/flag-evaluator/src/index.js'

/** mulberry32: small, fast and seedable. */
const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Pick {
  <T>(items: readonly T[]): T
  int: (min: number, max: number) => number
  chance: (p: number) => boolean
  some: <T>(items: readonly T[], min: number, max: number) => T[]
  /** One of `choices`, drawn with the given weights. */
  weighted: <T>(choices: readonly (readonly [T, number])[]) => T
}

const picker = (seed: number): Pick => {
  const random = seededRandom(seed)
  const pick = (<T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)] as T) as Pick
  pick.int = (min, max) => min + Math.floor(random() * (max - min + 1))
  pick.chance = (p) => random() < p
  pick.some = <T>(items: readonly T[], min: number, max: number): T[] => {
    const pool = [...items]
    const count = Math.min(pool.length, pick.int(min, max))
    return Array.from({ length: count }, () => pool.splice(pick.int(0, pool.length - 1), 1)[0] as T)
  }
  pick.weighted = <T>(choices: readonly (readonly [T, number])[]): T => {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
    let roll = random() * total
    for (const [choice, weight] of choices) {
      roll -= weight
      if (roll < 0) return choice
    }
    return (choices[choices.length - 1] as readonly [T, number])[0]
  }
  return pick
}

export const APP_NAMES = ['web', 'ios', 'android', 'checkout-service'] as const
/** The host name the datasets' `applicationHostname` strategies list first. */
export const BENCH_HOSTNAME = 'web-1'

const TENANTS = Array.from({ length: 40 }, (_, i) => `tenant-${String(i + 1).padStart(3, '0')}`)
const PLANS = ['free', 'team', 'pro', 'enterprise'] as const
const COUNTRIES = ['NO', 'SE', 'DK', 'FI', 'DE', 'FR', 'GB', 'US', 'CA', 'BR', 'IN', 'JP'] as const
const VERSIONS = [
  '3.9.4',
  '4.0.0',
  '4.1.2',
  '4.2.0-beta.1',
  '4.2.0',
  '4.10.1',
  '5.0.0-rc.2',
  '5.0.1',
] as const
const EMAIL_DOMAINS = ['acme.com', 'globex.com', 'initech.io', 'gmail.com', 'example.org'] as const
const AREAS = [
  'checkout',
  'search',
  'billing',
  'onboarding',
  'profile',
  'catalog',
  'cart',
  'notifications',
  'reports',
  'admin',
  'mobile',
  'payments',
] as const
const WORDS = [
  'new',
  'fast',
  'smart',
  'beta',
  'v2',
  'redesigned',
  'instant',
  'bulk',
  'async',
  'inline',
] as const
const NOUNS = [
  'flow',
  'panel',
  'filters',
  'export',
  'pricing',
  'banner',
  'editor',
  'sync',
  'cache',
  'widget',
  'layout',
  'ranking',
] as const
const TYPES = ['release', 'release', 'release', 'experiment', 'operational', 'kill-switch'] as const
const PROJECTS = ['default', 'storefront', 'platform', 'mobile'] as const

/** A constraint drawn from the operators and context fields a real installation uses. */
const constraint = (pick: Pick): Constraint => {
  const kind = pick.weighted<() => Constraint>([
    [() => ({ contextName: 'tenant', operator: 'IN', values: pick.some(TENANTS, 1, 4) }), 5],
    [() => ({ contextName: 'plan', operator: 'IN', values: pick.some(PLANS, 1, 2) }), 4],
    [() => ({ contextName: 'country', operator: 'IN', values: pick.some(COUNTRIES, 1, 3) }), 3],
    [() => ({ contextName: 'appName', operator: 'IN', values: pick.some(APP_NAMES, 1, 2) }), 2],
    [() => ({ contextName: 'environment', operator: 'IN', values: ['production'] }), 1],
    [() => ({ contextName: 'tenant', operator: 'NOT_IN', values: pick.some(TENANTS, 1, 3) }), 2],
    [
      () => ({
        contextName: 'email',
        operator: 'STR_ENDS_WITH',
        values: pick.some(
          EMAIL_DOMAINS.map((domain) => `@${domain}`),
          1,
          2,
        ),
        caseInsensitive: true,
      }),
      2,
    ],
    [() => ({ contextName: 'userId', operator: 'STR_STARTS_WITH', values: ['user-1', 'qa-'] }), 1],
    [() => ({ contextName: 'email', operator: 'STR_CONTAINS', values: ['+test', 'qa'] }), 1],
    [
      () => ({
        contextName: 'seats',
        operator: pick(['NUM_GT', 'NUM_GTE', 'NUM_LT', 'NUM_LTE', 'NUM_EQ']),
        value: String(pick([1, 5, 10, 50, 100])),
      }),
      3,
    ],
    [
      () => ({
        contextName: 'currentTime',
        operator: pick(['DATE_AFTER', 'DATE_BEFORE']),
        value: pick([
          '2024-01-15T00:00:00.000Z',
          '2025-06-01T09:00:00.000Z',
          '2030-01-01T00:00:00Z',
        ]),
      }),
      2,
    ],
    [
      () => ({
        contextName: 'version',
        operator: pick(['SEMVER_GT', 'SEMVER_GTE', 'SEMVER_LT', 'SEMVER_LTE', 'SEMVER_EQ']),
        value: pick(VERSIONS),
      }),
      4,
    ],
    [
      () => ({
        contextName: pick(['userId', 'email']),
        operator: 'REGEX',
        value: pick(['^user-\\d*[02468]$', '@(acme|globex)\\.com$', '^qa-', '^user-1\\d{3}$']),
      }),
      2,
    ],
    [
      () => ({
        contextName: 'remoteAddress',
        operator: 'IN_CIDR',
        values: pick.some(['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', '2001:db8::/32'], 1, 2),
      }),
      2,
    ],
  ])()
  if (pick.chance(0.08)) kind.inverted = true
  return kind
}

const payload = (pick: Pick, name: string, i: number) =>
  pick.chance(0.5)
    ? { type: 'string', value: `${name}-${i}` }
    : {
        type: 'json',
        value: JSON.stringify({ color: pick(['blue', 'green', 'red']), limit: pick.int(1, 50) }),
      }

const variants = (pick: Pick, stickiness: string): VariantDefinition[] => {
  const names: readonly string[] = pick([
    ['control', 'treatment'],
    ['a', 'b', 'c'],
    ['blue', 'green'],
    ['off', 'small', 'large'],
  ])
  const weight = Math.floor(1000 / names.length)
  return names.map((name, i) => {
    const variant: VariantDefinition = {
      name,
      weight: i === 0 ? 1000 - weight * (names.length - 1) : weight,
      weightType: 'variable',
      stickiness,
    }
    if (pick.chance(0.6)) variant.payload = payload(pick, name, i)
    if (i === names.length - 1 && pick.chance(0.2)) {
      variant.overrides = [{ contextName: 'userId', values: ['user-1', 'user-42', 'qa-1'] }]
    }
    return variant
  })
}

const strategy = (pick: Pick, flagName: string, segmentIds: number[]): Strategy => {
  const name = pick.weighted([
    ['flexibleRollout', 70],
    ['default', 10],
    ['userWithId', 6],
    ['gradualRolloutUserId', 3],
    ['gradualRolloutSessionId', 2],
    ['gradualRolloutRandom', 1],
    ['remoteAddress', 4],
    ['applicationHostname', 2],
  ] as const)
  const percentage = String(pick([0, 1, 5, 10, 25, 50, 50, 75, 100, 100, 100]))
  let parameters: Record<string, string> = {}
  switch (name) {
    case 'flexibleRollout':
      parameters = {
        groupId: flagName,
        rollout: percentage,
        stickiness: pick.weighted([
          ['default', 8],
          ['userId', 2],
          ['sessionId', 1],
          ['tenant', 1],
        ]),
      }
      break
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      parameters = { percentage, groupId: flagName }
      break
    case 'gradualRolloutRandom':
      parameters = { percentage }
      break
    case 'userWithId':
      parameters = {
        userIds: Array.from({ length: pick.int(2, 5) }, () => `user-${pick.int(1, 5000)}`).join(
          ',',
        ),
      }
      break
    case 'remoteAddress':
      parameters = { IPs: pick.some(['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7'], 1, 3).join() }
      break
    case 'applicationHostname':
      parameters = {
        hostNames: [BENCH_HOSTNAME, 'web-2', 'worker-1'].slice(0, pick.int(1, 3)).join(),
      }
      break
  }
  const result: Strategy = {
    name,
    constraints: Array.from(
      {
        length: pick.weighted([
          [0, 62],
          [1, 29],
          [2, 7],
          [3, 2],
        ]),
      },
      () => constraint(pick),
    ),
    parameters,
  }
  if (pick.chance(0.15)) result.segments = pick.some(segmentIds, 1, 2)
  if (name === 'flexibleRollout' && pick.chance(0.08)) {
    result.variants = variants(pick, parameters.stickiness ?? 'default')
  }
  return result
}

// Hand-written so that every operator appears whatever the random draws.
const SEGMENTS: Segment[] = [
  {
    id: 1,
    name: 'paying-customers',
    constraints: [{ contextName: 'plan', operator: 'IN', values: ['team', 'pro', 'enterprise'] }],
  },
  {
    id: 2,
    name: 'nordics',
    constraints: [{ contextName: 'country', operator: 'IN', values: ['NO', 'SE', 'DK', 'FI'] }],
  },
  {
    id: 3,
    name: 'internal-staff',
    constraints: [
      {
        contextName: 'email',
        operator: 'STR_ENDS_WITH',
        values: ['@acme.com'],
        caseInsensitive: true,
      },
    ],
  },
  {
    id: 4,
    name: 'office-network',
    constraints: [
      {
        contextName: 'remoteAddress',
        operator: 'IN_CIDR',
        values: ['10.0.0.0/8', '192.168.0.0/16'],
      },
    ],
  },
  {
    id: 5,
    name: 'old-mobile-apps',
    constraints: [
      { contextName: 'appName', operator: 'IN', values: ['ios', 'android'] },
      { contextName: 'version', operator: 'SEMVER_LTE', value: '4.1.2' },
    ],
  },
  {
    id: 6,
    name: 'current-apps',
    constraints: [{ contextName: 'version', operator: 'SEMVER_GTE', value: '4.2.0' }],
  },
  {
    id: 7,
    name: 'large-accounts',
    constraints: [{ contextName: 'seats', operator: 'NUM_GT', value: '50' }],
  },
  {
    id: 8,
    name: 'single-seat',
    constraints: [{ contextName: 'seats', operator: 'NUM_EQ', value: '1' }],
  },
  {
    id: 9,
    name: 'spring-campaign',
    constraints: [
      { contextName: 'currentTime', operator: 'DATE_AFTER', value: '2025-03-01T00:00:00.000Z' },
      { contextName: 'currentTime', operator: 'DATE_BEFORE', value: '2031-01-01T00:00:00.000Z' },
    ],
  },
  {
    id: 10,
    name: 'qa-accounts',
    constraints: [{ contextName: 'userId', operator: 'REGEX', value: '^qa-\\d+$' }],
  },
  {
    id: 11,
    name: 'not-blocked',
    constraints: [
      { contextName: 'tenant', operator: 'NOT_IN', values: ['tenant-013', 'tenant-029'] },
    ],
  },
  {
    id: 12,
    name: 'production',
    constraints: [{ contextName: 'environment', operator: 'IN', values: ['production'] }],
  },
]

/**
 * 350 flags, about 130 kB of `/api/client/features` JSON: mostly `flexibleRollout`, every
 * built-in strategy, every constraint operator, 12 segments, flag and strategy variants with
 * payloads and overrides, some dependencies and some disabled flags.
 */
export const largeFlagState = (seed = 350): ClientFeaturesState => {
  const pick = picker(seed)
  const segments = structuredClone(SEGMENTS)
  const segmentIds = segments.map((segment) => segment.id)
  const features: Feature[] = []
  const used = new Set<string>()
  for (let i = 0; i < 350; i++) {
    let name = `${pick(AREAS)}-${pick(NOUNS)}`
    if (used.has(name)) name = `${name.replace('-', `-${pick(WORDS)}-`)}`
    if (used.has(name)) name = `${name}-${i}`
    used.add(name)
    const feature: Feature = {
      name,
      type: pick(TYPES),
      project: pick(PROJECTS),
      enabled: pick.chance(0.88),
      impressionData: pick.chance(0.03),
      strategies: Array.from(
        {
          length: pick.weighted([
            [1, 92],
            [2, 7],
            [3, 1],
          ]),
        },
        () => strategy(pick, name, segmentIds),
      ),
      variants: pick.chance(0.12) ? variants(pick, pick(['default', 'userId', 'tenant'])) : [],
    }
    const parents = features.filter((f) => !f.dependencies)
    if (parents.length > 10 && pick.chance(0.06)) {
      const parent = pick(parents.slice(-30))
      const dependency: Dependency = { feature: parent.name }
      if (pick.chance(0.2)) dependency.enabled = false
      else if (parent.variants?.length && pick.chance(0.5)) {
        dependency.variants = [parent.variants[0]?.name ?? 'control']
      }
      feature.dependencies = [dependency]
    }
    if (pick.chance(0.05)) feature.stale = true
    features.push(feature)
  }
  return { version: 2, features, segments }
}

/** Five flags: what a small service has. */
export const smallFlagState = (): ClientFeaturesState => ({
  version: 2,
  features: [
    {
      name: 'search.instant-results',
      type: 'release',
      enabled: true,
      project: 'default',
      stale: false,
      impressionData: false,
      strategies: [
        {
          name: 'flexibleRollout',
          constraints: [],
          parameters: { groupId: 'search.instant-results', rollout: '50', stickiness: 'default' },
        },
      ],
      variants: [],
    },
    {
      name: 'checkout.new-payment-flow',
      type: 'release',
      enabled: true,
      project: 'default',
      stale: false,
      impressionData: false,
      strategies: [
        {
          name: 'flexibleRollout',
          constraints: [
            { contextName: 'country', operator: 'IN', values: ['NO', 'SE', 'DK'] },
            { contextName: 'version', operator: 'SEMVER_GTE', value: '4.2.0' },
          ],
          parameters: {
            groupId: 'checkout.new-payment-flow',
            rollout: '25',
            stickiness: 'default',
          },
          segments: [1],
        },
      ],
      variants: [],
    },
    {
      name: 'pricing.banner-experiment',
      type: 'experiment',
      enabled: true,
      project: 'default',
      stale: false,
      impressionData: false,
      strategies: [{ name: 'default', constraints: [], parameters: {} }],
      variants: [
        {
          name: 'control',
          weight: 500,
          weightType: 'variable',
          stickiness: 'default',
          payload: { type: 'string', value: 'Save 10%' },
        },
        {
          name: 'treatment',
          weight: 500,
          weightType: 'variable',
          stickiness: 'default',
          payload: { type: 'json', value: '{"text":"Save 20%","color":"green"}' },
          overrides: [{ contextName: 'userId', values: ['user-1', 'qa-1'] }],
        },
      ],
    },
    {
      name: 'admin.bulk-export',
      type: 'permission',
      enabled: true,
      project: 'default',
      stale: false,
      impressionData: false,
      strategies: [
        {
          name: 'userWithId',
          constraints: [],
          parameters: { userIds: 'user-1,user-7,user-42,user-1000' },
        },
        {
          name: 'default',
          constraints: [{ contextName: 'plan', operator: 'IN', values: ['enterprise'] }],
          parameters: {},
        },
      ],
      variants: [],
    },
    {
      name: 'reports.legacy-charts',
      type: 'kill-switch',
      enabled: false,
      project: 'default',
      stale: true,
      impressionData: false,
      strategies: [{ name: 'default', constraints: [], parameters: {} }],
      variants: [],
    },
  ],
  segments: [
    {
      id: 1,
      name: 'paying-customers',
      constraints: [{ contextName: 'plan', operator: 'IN', values: ['team', 'pro', 'enterprise'] }],
    },
  ],
})

const address = (pick: Pick): string =>
  pick.weighted([
    [() => `10.${pick.int(0, 255)}.${pick.int(0, 255)}.${pick.int(1, 254)}`, 4],
    [() => `192.168.${pick.int(0, 3)}.${pick.int(1, 254)}`, 2],
    [() => `${pick.int(11, 223)}.${pick.int(0, 255)}.${pick.int(0, 255)}.${pick.int(1, 254)}`, 4],
    [() => '203.0.113.7', 1],
    [() => `2001:db8::${pick.int(1, 0xffff).toString(16)}`, 1],
  ])()

/**
 * `n` contexts like a frontend or backend SDK sends: most with a user, some anonymous (session
 * only), an app name and environment, and properties for tenant, plan, version, country, email
 * and seats; a few carry `currentTime`.
 */
export const benchContexts = (n: number, seed = 1): UnleashContext[] => {
  const pick = picker(seed)
  return Array.from({ length: n }, () => {
    const anonymous = pick.chance(0.15)
    const user = pick.chance(0.02) ? `qa-${pick.int(1, 9)}` : `user-${pick.int(1, 20000)}`
    const context: UnleashContext = {
      appName: pick(APP_NAMES),
      environment: pick.weighted([
        ['production', 9],
        ['staging', 1],
      ]),
      sessionId: String(pick.int(100000000, 999999999)),
      remoteAddress: address(pick),
    }
    if (!anonymous) context.userId = user
    if (pick.chance(0.05)) context.currentTime = '2025-03-01T12:00:00.000Z'
    const properties: Record<string, string> = {
      tenant: pick(TENANTS),
      plan: pick(PLANS),
      version: pick(VERSIONS),
      country: pick(COUNTRIES),
    }
    if (!anonymous) {
      properties.email = `${user}${pick.chance(0.05) ? '+test' : ''}@${pick(EMAIL_DOMAINS)}`
      properties.seats = String(pick([1, 3, 5, 10, 25, 80, 250]))
    }
    context.properties = properties
    return context
  })
}

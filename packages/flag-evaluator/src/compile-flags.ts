import { toClientFeaturesState } from './apply-delta.js'
import {
  type BucketGroup,
  rolloutBucket,
  rolloutBucketIn,
  rolloutGroup,
  variantGroup,
} from './bucket.js'
import type {
  ClientFeaturesDelta,
  ClientFeaturesState,
  Dependency,
  Feature,
  Segment,
  Strategy,
  VariantDefinition,
  VariantResult,
} from './client-features.js'
import { type ConstraintCheck, compileConstraint } from './compile-constraint.js'
import { type Clock, EvaluationScope, FieldTable } from './evaluation-scope.js'
import type { StrategyFailure } from './explanation.js'
import { isInSubnet, parseIpv4 } from './ip-address.js'

export const STRATEGY_NAMES = [
  'default',
  'userWithId',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
  'flexibleRollout',
  'remoteAddress',
  'applicationHostname',
] as const

export interface CompileOptions {
  /** The host name `applicationHostname` compares with; without it that strategy is off. */
  hostname?: string
  /** Source of randomness in [0, 1) for random rollouts and random stickiness. */
  random?: () => number
  /** Current time in ms for DATE_* constraints when the context has no `currentTime`. */
  now?: () => number
}

export interface Runtime extends Clock {
  random: () => number
  hostname: string | undefined
}

/** What a strategy's own rule says; `failure` is only built when an explanation is wanted. */
export interface StrategyVerdict {
  enabled: boolean
  failure?: StrategyFailure
  bucket?: number
  rollout?: number
}

/** One toggle of the Unleash frontend API (`GET /api/frontend`): an enabled flag and its variant. */
export interface FrontendToggle {
  readonly name: string
  readonly enabled: true
  readonly variant: Readonly<VariantResult>
  readonly impressionData: boolean
}

/** What the frontend API shows for a flag that is on: its toggle, and that toggle as JSON. */
export interface ServedToggle {
  /** Built once and frozen. */
  toggle: FrontendToggle
  /** `JSON.stringify(toggle)`, made the first time it is asked for. */
  toggleJson: string | undefined
  /** Two 32-bit hashes of `toggleJson`, made with it, for digests of a whole answer. */
  toggleHash?: [number, number] | undefined
}

export interface CompiledVariant extends ServedToggle {
  definition: VariantDefinition
  /** The answer for this variant, built once and frozen; `getVariant` hands out copies. */
  result: Readonly<VariantResult>
}

export interface CompiledVariants {
  definitions: VariantDefinition[]
  variants: CompiledVariant[]
  totalWeight: number
  stickiness: string
  /** The context field of a non-default stickiness; -1 for `default`. */
  stickinessField: number
  groupId: string
  group: BucketGroup
  overrides: { variant: CompiledVariant; rules: { field: number; values: unknown[] }[] }[]
}

export interface CompiledStrategy {
  index: number
  name: string
  known: boolean
  checks: ConstraintCheck[]
  rule: (scope: EvaluationScope, explain: boolean) => StrategyVerdict
  variants: CompiledVariants | null
}

export interface CompiledDependency {
  source: Dependency
  /** The parent flag; null when the state does not have it. */
  parent: CompiledFlag | null
  expected: 'enabled' | 'disabled'
  /** Variants the parent must serve; only when it is expected enabled and the list is not empty. */
  expectedVariants: string[] | undefined
}

/** A flag; as a `ServedToggle` it is the toggle of the flag on without a variant. */
export interface CompiledFlag extends ServedToggle {
  name: string
  feature: Feature
  enabled: boolean
  strategies: CompiledStrategy[] | null
  variants: CompiledVariants | null
  dependencies: CompiledDependency[]
}

export interface CompiledFlags {
  version: number | undefined
  state: ClientFeaturesState
  flags: Map<string, CompiledFlag>
  /** Every flag once, in the order of the state (the last definition of a repeated name wins). */
  list: CompiledFlag[]
  segments: Map<number, Segment>
  runtime: Runtime
  /** The context fields the state reads, numbered. */
  fields: FieldTable
  /** Reused by one evaluation at a time, so single-flag calls allocate no caches. */
  scope: EvaluationScope
}

const ENABLED: StrategyVerdict = { enabled: true }
const DISABLED: StrategyVerdict = { enabled: false }
const LIST_SEPARATOR = /\s*,\s*/

const randomRoll = (runtime: Runtime): string => `${Math.round(runtime.random() * 10000) + 1}`

const rolloutFailure = (
  stickiness: string,
  stickinessValue: string,
  groupId: string,
  bucket: number,
  percentage: number,
): StrategyVerdict => ({
  enabled: false,
  failure: {
    code: 'ROLLOUT_NOT_REACHED',
    stickiness,
    stickinessValue,
    groupId,
    bucket,
    rollout: percentage,
  },
})

/**
 * A percentage rollout over a compiled group. Percentages of 100 or more let every stickiness
 * value in and 0 or less (or NaN) none, so those skip the hash unless an explanation wants the
 * bucket.
 */
const rollout = (
  stickiness: string,
  stickinessValue: unknown,
  group: BucketGroup,
  groupId: string,
  percentage: number,
  explain: boolean,
): StrategyVerdict => {
  if (!stickinessValue) {
    return explain
      ? { enabled: false, failure: { code: 'STICKINESS_MISSING', stickiness } }
      : DISABLED
  }
  if (!explain) {
    if (percentage >= 100) return ENABLED
    if (!(percentage > 0)) return DISABLED
    return rolloutBucketIn(group, String(stickinessValue)) <= percentage ? ENABLED : DISABLED
  }
  const value = String(stickinessValue)
  const bucket = rolloutBucketIn(group, value)
  const enabled = percentage > 0 && bucket <= percentage
  if (enabled) return { enabled, bucket, rollout: percentage }
  return rolloutFailure(stickiness, value, groupId, bucket, percentage)
}

const compileRule = (
  strategy: Strategy,
  runtime: Runtime,
  fields: FieldTable,
): ((scope: EvaluationScope, explain: boolean) => StrategyVerdict) => {
  const parameters: Record<string, unknown> = strategy.parameters ?? {}
  switch (strategy.name) {
    case 'default':
      return () => ENABLED
    case 'flexibleRollout': {
      const percentage = Number(parameters.rollout)
      const stickiness = (parameters.stickiness as string) || 'default'
      const stickinessValue: (scope: EvaluationScope) => unknown =
        stickiness === 'default'
          ? (scope) => scope.rolloutId() || randomRoll(runtime)
          : stickiness === 'random'
            ? () => randomRoll(runtime)
            : (
                (field) => (scope: EvaluationScope) =>
                  scope.value(field)
              )(fields.index(stickiness))
      const groupId = parameters.groupId
      if (groupId) {
        const groupText = String(groupId)
        const group = rolloutGroup(groupText)
        return (scope, explain) =>
          rollout(stickiness, stickinessValue(scope), group, groupText, percentage, explain)
      }
      // No groupId: the group is context.featureToggle (never set by the SDK) or ''.
      const emptyGroup = rolloutGroup('')
      return (scope, explain) => {
        const fallback = scope.context.featureToggle
        if (!fallback)
          return rollout(stickiness, stickinessValue(scope), emptyGroup, '', percentage, explain)
        const value = stickinessValue(scope)
        const groupText = String(fallback)
        if (!value) return rollout(stickiness, value, emptyGroup, groupText, percentage, explain)
        const bucket = rolloutBucket(String(value), groupText)
        const enabled = percentage > 0 && bucket <= percentage
        if (!explain) return enabled ? ENABLED : DISABLED
        if (enabled) return { enabled, bucket, rollout: percentage }
        return rolloutFailure(stickiness, String(value), groupText, bucket, percentage)
      }
    }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId': {
      const percentage = Number(parameters.percentage)
      const groupText = String(parameters.groupId || '')
      const group = rolloutGroup(groupText)
      const field = strategy.name === 'gradualRolloutUserId' ? 'userId' : 'sessionId'
      return (scope, explain) =>
        rollout(field, scope.context[field], group, groupText, percentage, explain)
    }
    case 'gradualRolloutRandom': {
      const percentage = Number(parameters.percentage)
      return (_scope, explain) => {
        const roll = Math.floor(runtime.random() * 100) + 1
        const enabled = percentage >= roll
        if (!explain) return enabled ? ENABLED : DISABLED
        return enabled
          ? { enabled, bucket: roll, rollout: percentage }
          : { enabled, failure: { code: 'RANDOM_NOT_REACHED', roll, rollout: percentage } }
      }
    }
    case 'userWithId': {
      const userIds = new Set(
        parameters.userIds ? String(parameters.userIds).split(LIST_SEPARATOR) : [],
      )
      return (scope, explain) => {
        const userId = scope.context.userId
        const enabled = userId !== undefined && userIds.has(userId)
        if (enabled || !explain) return enabled ? ENABLED : DISABLED
        return { enabled, failure: { code: 'USER_NOT_LISTED', userId } }
      }
    }
    case 'remoteAddress': {
      const ranges = parameters.IPs
        ? String(parameters.IPs)
            .split(LIST_SEPARATOR)
            .map((range) => ({ text: range, parsed: parseIpv4(range) }))
        : []
      return (scope, explain) => {
        const remoteAddress = scope.context.remoteAddress
        let enabled = false
        for (const range of ranges) {
          if (range.text === remoteAddress) {
            enabled = true
            break
          }
          if (!range.parsed) continue
          const parsed = scope.remoteAddress()
          if (parsed !== null && isInSubnet(parsed, range.parsed)) {
            enabled = true
            break
          }
        }
        if (enabled || !explain) return enabled ? ENABLED : DISABLED
        return { enabled, failure: { code: 'REMOTE_ADDRESS_NOT_LISTED', remoteAddress } }
      }
    }
    case 'applicationHostname': {
      const hostNames = parameters.hostNames
        ? String(parameters.hostNames).toLowerCase().split(LIST_SEPARATOR)
        : []
      const hostname = runtime.hostname?.toLowerCase()
      const enabled = hostname !== undefined && hostNames.includes(hostname)
      const failure: StrategyVerdict = {
        enabled: false,
        failure: { code: 'HOSTNAME_NOT_LISTED', hostname },
      }
      return (_scope, explain) => (enabled ? ENABLED : explain ? failure : DISABLED)
    }
    default:
      return (_scope, explain) =>
        explain ? { enabled: false, failure: { code: 'UNKNOWN_STRATEGY' } } : DISABLED
  }
}

const frozenVariantResult = (variant: VariantDefinition): Readonly<VariantResult> =>
  Object.freeze({
    name: variant.name,
    enabled: true,
    ...(variant.payload === undefined ? {} : { payload: variant.payload }),
    feature_enabled: true,
    featureEnabled: true,
  })

const frozenToggle = (feature: Feature, variant: Readonly<VariantResult>): FrontendToggle =>
  Object.freeze({
    name: feature.name,
    enabled: true,
    variant,
    impressionData: !!feature.impressionData,
  })

const NO_VARIANT_ON: Readonly<VariantResult> = Object.freeze({
  name: 'disabled',
  enabled: false,
  feature_enabled: true,
  featureEnabled: true,
})

const compileVariants = (
  feature: Feature,
  definitions: VariantDefinition[] | null | undefined,
  stickiness: unknown,
  groupId: unknown,
  fields: FieldTable,
): CompiledVariants | null => {
  if (!Array.isArray(definitions) || definitions.length === 0) return null
  const variants = definitions.map((definition) => {
    const result = frozenVariantResult(definition)
    return { definition, result, toggle: frozenToggle(feature, result), toggleJson: undefined }
  })
  const stickinessText = stickiness === undefined ? 'default' : String(stickiness)
  const groupText = String(groupId)
  return {
    definitions,
    variants,
    // Summed with `+` like unleash-client, so malformed weights misbehave the same way.
    totalWeight: definitions.reduce((total, variant) => total + variant.weight, 0),
    stickiness: stickinessText,
    stickinessField: stickinessText === 'default' ? -1 : fields.index(stickinessText),
    groupId: groupText,
    group: variantGroup(groupText),
    overrides: variants
      .filter((variant) => variant.definition.overrides)
      .map((variant) => ({
        variant,
        rules: (variant.definition.overrides ?? []).map((override) => ({
          field: fields.index(String(override.contextName)),
          values: Array.isArray(override.values) ? override.values : [],
        })),
      })),
  }
}

const alwaysFalse = () => false

const compileStrategy = (
  feature: Feature,
  strategy: Strategy,
  index: number,
  segments: Map<number, Segment>,
  runtime: Runtime,
  fields: FieldTable,
): CompiledStrategy => {
  const checks: ConstraintCheck[] = (strategy.constraints ?? []).map((constraint, i) =>
    compileConstraint(constraint, { kind: 'strategy', constraintIndex: i }, fields),
  )
  for (const segmentId of strategy.segments ?? []) {
    const segment = segments.get(segmentId)
    if (!segment) {
      checks.push({ kind: 'missing-segment', segmentId, test: alwaysFalse })
      continue
    }
    for (const [i, constraint] of (segment.constraints ?? []).entries()) {
      checks.push(
        compileConstraint(constraint, { kind: 'segment', segmentId, constraintIndex: i }, fields),
      )
    }
  }
  const parameters = strategy.parameters ?? {}
  const firstVariant = Array.isArray(strategy.variants) ? strategy.variants[0] : undefined
  return {
    index,
    name: strategy.name,
    known: (STRATEGY_NAMES as readonly string[]).includes(strategy.name),
    checks,
    rule: compileRule(strategy, runtime, fields),
    variants: compileVariants(
      feature,
      strategy.variants,
      firstVariant?.stickiness || parameters.stickiness,
      parameters.groupId,
      fields,
    ),
  }
}

/**
 * Compiles a client-features state (or a delta stream) once, so evaluation does no parsing:
 * regexes, CIDRs, semvers and dates are parsed, IN lists are Sets, segments are inlined, group
 * ids are pre-hashed and context fields are numbered.
 */
export const compileFlags = (
  input: ClientFeaturesState | ClientFeaturesDelta,
  options: CompileOptions = {},
): CompiledFlags => {
  const state = toClientFeaturesState(input)
  const runtime: Runtime = {
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    hostname: options.hostname,
  }
  const fields = new FieldTable()
  const segments = new Map<number, Segment>((state.segments ?? []).map((s) => [s.id, s]))
  const flags = new Map<string, CompiledFlag>()
  for (const feature of state.features) {
    flags.set(feature.name, {
      name: feature.name,
      feature,
      enabled: !!feature.enabled,
      strategies: Array.isArray(feature.strategies)
        ? feature.strategies.map((strategy, i) =>
            compileStrategy(feature, strategy, i, segments, runtime, fields),
          )
        : null,
      variants: compileVariants(
        feature,
        feature.variants,
        feature.variants?.[0]?.stickiness ?? undefined,
        feature.name,
        fields,
      ),
      dependencies: [],
      toggle: frozenToggle(feature, NO_VARIANT_ON),
      toggleJson: undefined,
    })
  }
  for (const flag of flags.values()) {
    flag.dependencies = (flag.feature.dependencies ?? []).map((dependency) => {
      const expected = dependency.enabled === false ? 'disabled' : 'enabled'
      return {
        source: dependency,
        parent: flags.get(dependency.feature) ?? null,
        expected,
        expectedVariants:
          expected === 'enabled' && dependency.variants?.length ? dependency.variants : undefined,
      }
    })
  }
  return {
    version: state.version,
    state,
    flags,
    list: [...flags.values()],
    segments,
    runtime,
    fields,
    scope: new EvaluationScope(fields.names, runtime),
  }
}

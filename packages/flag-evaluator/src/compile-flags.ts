import { toClientFeaturesState } from './apply-delta.js'
import { rolloutBucket } from './bucket.js'
import type {
  ClientFeaturesDelta,
  ClientFeaturesState,
  Dependency,
  Feature,
  Segment,
  Strategy,
  UnleashContext,
  VariantDefinition,
} from './client-features.js'
import { type Clock, type ConstraintCheck, compileConstraint } from './compile-constraint.js'
import { contextValue } from './context-value.js'
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

export interface CompiledVariants {
  definitions: VariantDefinition[]
  totalWeight: number
  stickiness: string
  groupId: string
  overrides: { variant: VariantDefinition; rules: { contextName: string; values: unknown[] }[] }[]
}

export interface CompiledStrategy {
  index: number
  name: string
  known: boolean
  checks: ConstraintCheck[]
  rule: (context: UnleashContext, explain: boolean) => StrategyVerdict
  variants: CompiledVariants | null
}

export interface CompiledFlag {
  name: string
  feature: Feature
  enabled: boolean
  strategies: CompiledStrategy[] | null
  variants: CompiledVariants | null
  dependencies: Dependency[]
}

export interface CompiledFlags {
  version: number | undefined
  state: ClientFeaturesState
  flags: Map<string, CompiledFlag>
  segments: Map<number, Segment>
  runtime: Runtime
}

const ENABLED: StrategyVerdict = { enabled: true }
const DISABLED: StrategyVerdict = { enabled: false }
const LIST_SEPARATOR = /\s*,\s*/

const randomRoll = (runtime: Runtime): string => `${Math.round(runtime.random() * 10000) + 1}`

const rollout = (
  stickiness: string,
  stickinessValue: unknown,
  groupId: unknown,
  percentage: number,
  explain: boolean,
): StrategyVerdict => {
  if (!stickinessValue) {
    return explain
      ? { enabled: false, failure: { code: 'STICKINESS_MISSING', stickiness } }
      : DISABLED
  }
  const bucket = rolloutBucket(String(stickinessValue), String(groupId))
  const enabled = percentage > 0 && bucket <= percentage
  if (!explain) return enabled ? ENABLED : DISABLED
  if (enabled) return { enabled, bucket, rollout: percentage }
  return {
    enabled,
    failure: {
      code: 'ROLLOUT_NOT_REACHED',
      stickiness,
      stickinessValue: String(stickinessValue),
      groupId: String(groupId),
      bucket,
      rollout: percentage,
    },
  }
}

const compileRule = (
  strategy: Strategy,
  runtime: Runtime,
): ((context: UnleashContext, explain: boolean) => StrategyVerdict) => {
  const parameters: Record<string, unknown> = strategy.parameters ?? {}
  switch (strategy.name) {
    case 'default':
      return () => ENABLED
    case 'flexibleRollout': {
      const percentage = Number(parameters.rollout)
      const stickiness = (parameters.stickiness as string) || 'default'
      const groupId = parameters.groupId
      return (context, explain) => {
        const value =
          stickiness === 'default'
            ? context.userId || context.sessionId || randomRoll(runtime)
            : stickiness === 'random'
              ? randomRoll(runtime)
              : contextValue(context, stickiness)
        return rollout(
          stickiness,
          value,
          groupId || context.featureToggle || '',
          percentage,
          explain,
        )
      }
    }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId': {
      const percentage = Number(parameters.percentage)
      const groupId = parameters.groupId || ''
      const field = strategy.name === 'gradualRolloutUserId' ? 'userId' : 'sessionId'
      return (context, explain) => rollout(field, context[field], groupId, percentage, explain)
    }
    case 'gradualRolloutRandom': {
      const percentage = Number(parameters.percentage)
      return (_context, explain) => {
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
      return (context, explain) => {
        const enabled = context.userId !== undefined && userIds.has(context.userId)
        if (enabled || !explain) return enabled ? ENABLED : DISABLED
        return { enabled, failure: { code: 'USER_NOT_LISTED', userId: context.userId } }
      }
    }
    case 'remoteAddress': {
      const ranges = parameters.IPs
        ? String(parameters.IPs)
            .split(LIST_SEPARATOR)
            .map((range) => ({ text: range, parsed: parseIpv4(range) }))
        : []
      return (context, explain) => {
        const remoteAddress = context.remoteAddress
        let parsed: ReturnType<typeof parseIpv4> | undefined
        const enabled = ranges.some((range) => {
          if (range.text === remoteAddress) return true
          if (!range.parsed) return false
          if (parsed === undefined) parsed = parseIpv4(remoteAddress || '')
          return parsed !== null && isInSubnet(parsed, range.parsed)
        })
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
      return (_context, explain) => (enabled ? ENABLED : explain ? failure : DISABLED)
    }
    default:
      return (_context, explain) =>
        explain ? { enabled: false, failure: { code: 'UNKNOWN_STRATEGY' } } : DISABLED
  }
}

const compileVariants = (
  definitions: VariantDefinition[] | null | undefined,
  stickiness: unknown,
  groupId: unknown,
): CompiledVariants | null => {
  if (!Array.isArray(definitions) || definitions.length === 0) return null
  return {
    definitions,
    // Summed with `+` like unleash-client, so malformed weights misbehave the same way.
    totalWeight: definitions.reduce((total, variant) => total + variant.weight, 0),
    stickiness: stickiness === undefined ? 'default' : String(stickiness),
    groupId: String(groupId),
    overrides: definitions
      .filter((variant) => variant.overrides)
      .map((variant) => ({
        variant,
        rules: (variant.overrides ?? []).map((override) => ({
          contextName: override.contextName,
          values: Array.isArray(override.values) ? override.values : [],
        })),
      })),
  }
}

const compileStrategy = (
  strategy: Strategy,
  index: number,
  segments: Map<number, Segment>,
  runtime: Runtime,
): CompiledStrategy => {
  const checks: ConstraintCheck[] = (strategy.constraints ?? []).map((constraint, i) =>
    compileConstraint(constraint, { kind: 'strategy', constraintIndex: i }, runtime),
  )
  for (const segmentId of strategy.segments ?? []) {
    const segment = segments.get(segmentId)
    if (!segment) {
      checks.push({ kind: 'missing-segment', segmentId })
      continue
    }
    for (const [i, constraint] of (segment.constraints ?? []).entries()) {
      checks.push(
        compileConstraint(constraint, { kind: 'segment', segmentId, constraintIndex: i }, runtime),
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
    rule: compileRule(strategy, runtime),
    variants: compileVariants(
      strategy.variants,
      firstVariant?.stickiness || parameters.stickiness,
      parameters.groupId,
    ),
  }
}

/**
 * Compiles a client-features state (or a delta stream) once, so evaluation does no parsing:
 * regexes, CIDRs, semvers and dates are parsed, IN lists are Sets and segments are inlined.
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
  const segments = new Map<number, Segment>((state.segments ?? []).map((s) => [s.id, s]))
  const flags = new Map<string, CompiledFlag>()
  for (const feature of state.features) {
    flags.set(feature.name, {
      name: feature.name,
      feature,
      enabled: !!feature.enabled,
      strategies: Array.isArray(feature.strategies)
        ? feature.strategies.map((strategy, i) => compileStrategy(strategy, i, segments, runtime))
        : null,
      variants: compileVariants(
        feature.variants,
        feature.variants?.[0]?.stickiness ?? undefined,
        feature.name,
      ),
      dependencies: feature.dependencies ?? [],
    })
  }
  return { version: state.version, state, flags, segments, runtime }
}

import { variantBucket } from './bucket.js'
import type { UnleashContext, VariantDefinition, VariantResult } from './client-features.js'
import type {
  CompiledFlag,
  CompiledFlags,
  CompiledStrategy,
  CompiledVariants,
  Runtime,
} from './compile-flags.js'
import { contextValue } from './context-value.js'
import { describeExplanation } from './describe-explanation.js'
import type {
  Decision,
  Explanation,
  StrategyFailure,
  StrategyOutcome,
  VariantSource,
} from './explanation.js'

interface VariantPick {
  variant: VariantDefinition
  override: boolean
  bucket?: number
}

interface FlagVerdict {
  enabled: boolean
  strategy?: CompiledStrategy
  pick?: VariantPick
}

interface Trace {
  decision?: Decision
  strategies: StrategyOutcome[]
}

const DEFAULT_STICKINESS_FIELDS = ['userId', 'sessionId', 'remoteAddress'] as const
const OFF: FlagVerdict = { enabled: false }

const stickinessValue = (context: UnleashContext, stickiness: string, runtime: Runtime): string => {
  if (stickiness !== 'default') {
    return contextValue(context, stickiness) || String(Math.round(runtime.random() * 100000))
  }
  for (const field of DEFAULT_STICKINESS_FIELDS) {
    const value = context[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return String(Math.round(runtime.random() * 100000))
}

const overrideMatches = (
  rules: CompiledVariants['overrides'][number]['rules'],
  context: UnleashContext,
): boolean =>
  rules.some((rule) => {
    const value = contextValue(context, rule.contextName)
    return rule.values.some((candidate) => candidate === value)
  })

const selectVariant = (
  variants: CompiledVariants,
  context: UnleashContext,
  runtime: Runtime,
): VariantPick | undefined => {
  if (variants.totalWeight <= 0) return undefined
  for (const { variant, rules } of variants.overrides) {
    if (overrideMatches(rules, context)) return { variant, override: true }
  }
  const target = variantBucket(
    stickinessValue(context, variants.stickiness, runtime),
    variants.groupId,
    variants.totalWeight,
  )
  let counter = 0
  for (const variant of variants.definitions) {
    if (variant.weight === 0) continue
    counter += variant.weight
    // Written as !(a < b) rather than a >= b so NaN weights pick like unleash-client does.
    if (!(counter < target)) return { variant, override: false, bucket: target }
  }
  return undefined
}

const constraintsFailure = (
  strategy: CompiledStrategy,
  context: UnleashContext,
): StrategyFailure | undefined => {
  for (const check of strategy.checks) {
    if (check.kind === 'missing-segment') {
      return { code: 'SEGMENT_NOT_FOUND', segmentId: check.segmentId }
    }
    if (!check.test(context)) {
      const { source } = check
      return {
        code: 'CONSTRAINT_FAILED',
        origin: check.origin,
        contextName: source.contextName,
        operator: source.operator,
        ...(source.values === undefined ? {} : { values: source.values }),
        ...(source.value === undefined ? {} : { value: source.value }),
        inverted: !!source.inverted,
        caseInsensitive: !!source.caseInsensitive,
        contextValue: check.observed(context),
        ...(check.invalid === undefined ? {} : { invalid: check.invalid }),
      }
    }
  }
  return undefined
}

const constraintsPass = (strategy: CompiledStrategy, context: UnleashContext): boolean => {
  for (const check of strategy.checks) {
    if (check.kind === 'missing-segment' || !check.test(context)) return false
  }
  return true
}

const strategiesVerdict = (
  compiled: CompiledFlags,
  strategies: CompiledStrategy[],
  context: UnleashContext,
  trace: Trace | undefined,
): FlagVerdict => {
  for (const strategy of strategies) {
    if (!trace) {
      if (!strategy.known || !constraintsPass(strategy, context)) continue
      if (!strategy.rule(context, false).enabled) continue
    } else {
      const outcome: StrategyOutcome = {
        strategyIndex: strategy.index,
        strategyName: strategy.name,
        matched: false,
      }
      trace.strategies.push(outcome)
      const failure = strategy.known
        ? constraintsFailure(strategy, context)
        : ({ code: 'UNKNOWN_STRATEGY' } as const)
      if (failure) {
        outcome.failure = failure
        continue
      }
      const verdict = strategy.rule(context, true)
      if (!verdict.enabled) {
        if (verdict.failure) outcome.failure = verdict.failure
        continue
      }
      outcome.matched = true
      if (verdict.bucket !== undefined) outcome.bucket = verdict.bucket
      if (verdict.rollout !== undefined) outcome.rollout = verdict.rollout
      trace.decision = {
        code: 'STRATEGY_MATCHED',
        strategyIndex: strategy.index,
        strategyName: strategy.name,
      }
    }
    const pick = strategy.variants
      ? selectVariant(strategy.variants, context, compiled.runtime)
      : undefined
    return pick ? { enabled: true, strategy, pick } : { enabled: true, strategy }
  }
  if (trace) trace.decision = { code: 'NO_STRATEGY_MATCHED' }
  return OFF
}

const dependenciesMet = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  context: UnleashContext,
  trace: Trace | undefined,
): boolean => {
  for (const dependency of flag.dependencies) {
    const parent = compiled.flags.get(dependency.feature)
    const expected = dependency.enabled === false ? 'disabled' : 'enabled'
    const expectedVariants =
      expected === 'enabled' && dependency.variants?.length ? dependency.variants : undefined
    const unmet = (
      cause: Extract<Decision, { code: 'DEPENDENCY_UNMET' }>['cause'],
      variant?: string,
    ) => {
      if (trace) {
        trace.decision = {
          code: 'DEPENDENCY_UNMET',
          parent: dependency.feature,
          expected,
          ...(expectedVariants ? { expectedVariants } : {}),
          cause,
          ...(variant === undefined ? {} : { parentVariant: variant }),
        }
      }
      return false
    }
    if (!parent) return unmet('PARENT_NOT_FOUND')
    if (parent.dependencies.length > 0) return unmet('PARENT_HAS_DEPENDENCIES')
    if (expectedVariants) {
      const variant = resolveVariant(compiled, parent, context, undefined)
      if (!variant.feature_enabled) return unmet('PARENT_DISABLED', variant.name)
      if (!expectedVariants.includes(variant.name)) {
        return unmet('VARIANT_NOT_EXPECTED', variant.name)
      }
    } else {
      const enabled = flagVerdict(compiled, parent, context, undefined).enabled
      if (expected === 'enabled' && !enabled) return unmet('PARENT_DISABLED')
      if (expected === 'disabled' && enabled) return unmet('PARENT_ENABLED')
    }
  }
  return true
}

const flagVerdict = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  context: UnleashContext,
  trace: Trace | undefined,
): FlagVerdict => {
  if (!flag.enabled) {
    if (trace) trace.decision = { code: 'FLAG_DISABLED' }
    return OFF
  }
  if (flag.dependencies.length > 0 && !dependenciesMet(compiled, flag, context, trace)) return OFF
  if (!flag.strategies) {
    if (trace) trace.decision = { code: 'STRATEGIES_NOT_AN_ARRAY' }
    return OFF
  }
  if (flag.strategies.length === 0) {
    if (trace) trace.decision = { code: 'NO_STRATEGIES' }
    return { enabled: true }
  }
  return strategiesVerdict(compiled, flag.strategies, context, trace)
}

const disabledVariant = (featureEnabled: boolean): VariantResult => ({
  name: 'disabled',
  enabled: false,
  feature_enabled: featureEnabled,
  featureEnabled,
})

const variantResult = (variant: VariantDefinition): VariantResult => ({
  name: variant.name,
  enabled: true,
  ...(variant.payload === undefined ? {} : { payload: variant.payload }),
  feature_enabled: true,
  featureEnabled: true,
})

const resolveVariant = (
  compiled: CompiledFlags,
  flag: CompiledFlag | undefined,
  context: UnleashContext,
  sources: { source?: VariantSource; trace?: Trace } | undefined,
): VariantResult => {
  const note = (source: VariantSource) => {
    if (sources) sources.source = source
  }
  if (!flag) {
    note({ code: 'FLAG_OFF' })
    return disabledVariant(false)
  }
  const verdict = flagVerdict(compiled, flag, context, sources?.trace)
  if (!verdict.enabled) {
    note({ code: 'FLAG_OFF' })
    return disabledVariant(false)
  }
  if (verdict.pick && verdict.strategy) {
    const { pick } = verdict
    note({
      code: 'STRATEGY_VARIANT',
      strategyIndex: verdict.strategy.index,
      override: pick.override,
      ...(pick.bucket === undefined ? {} : { bucket: pick.bucket }),
    })
    return variantResult(pick.variant)
  }
  const pick = flag.variants ? selectVariant(flag.variants, context, compiled.runtime) : undefined
  if (!pick) {
    note({ code: 'NO_VARIANTS' })
    return disabledVariant(true)
  }
  note({
    code: 'FEATURE_VARIANT',
    override: pick.override,
    ...(pick.bucket === undefined ? {} : { bucket: pick.bucket }),
  })
  return variantResult(pick.variant)
}

/** Whether the flag is on for this context; an unknown flag is off. */
export const isEnabled = (compiled: CompiledFlags, name: string, context: UnleashContext = {}) => {
  const flag = compiled.flags.get(name)
  return flag ? flagVerdict(compiled, flag, context, undefined).enabled : false
}

/** The variant for this context, shaped like unleash-client's `getVariant`. */
export const getVariant = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): VariantResult => resolveVariant(compiled, compiled.flags.get(name), context, undefined)

/** Evaluates the flag and says why: which strategy and constraint decided, or what failed. */
export const explain = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): Explanation => {
  const flag = compiled.flags.get(name)
  const trace: Trace = { strategies: [] }
  const sources: { source?: VariantSource; trace: Trace } = { trace }
  const variant = resolveVariant(compiled, flag, context, sources)
  const decision: Decision = flag
    ? (trace.decision ?? { code: 'NO_STRATEGY_MATCHED' })
    : { code: 'FLAG_NOT_FOUND' }
  const explanation = {
    flagName: name,
    enabled: variant.feature_enabled,
    variant,
    decision,
    variantSource: sources.source ?? { code: 'FLAG_OFF' },
    strategies: trace.strategies,
  }
  return { ...explanation, message: describeExplanation(explanation) }
}

export interface Evaluation {
  enabled: boolean
  variant: VariantResult
}

/** Both answers at once, from one pass over the flag. */
export const evaluate = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): Evaluation => {
  const variant = getVariant(compiled, name, context)
  return { enabled: variant.feature_enabled, variant }
}

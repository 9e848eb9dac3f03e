import { variantBucketIn } from './bucket.js'
import type { UnleashContext, VariantResult } from './client-features.js'
import type {
  CompiledFlag,
  CompiledFlags,
  CompiledStrategy,
  CompiledVariant,
  CompiledVariants,
  FrontendToggle,
  Runtime,
  ServedToggle,
} from './compile-flags.js'
import { describeExplanation } from './describe-explanation.js'
import { EvaluationScope } from './evaluation-scope.js'
import type {
  Decision,
  Explanation,
  StrategyFailure,
  StrategyOutcome,
  VariantSource,
} from './explanation.js'
import { murmurhash3X86Hash32 } from './murmurhash3-x86-hash32.js'

interface Trace {
  decision?: Decision
  strategies: StrategyOutcome[]
  /** Where the variant came from; set by `chooseVariant`. */
  source?: VariantSource
}

/** A flag that is on without a matching strategy (its strategy list is empty). */
const NO_STRATEGY: CompiledStrategy = {
  index: -1,
  name: '',
  known: true,
  checks: [],
  rule: () => ({ enabled: true }),
  variants: null,
}

const randomStickiness = (runtime: Runtime): string => String(Math.round(runtime.random() * 100000))

const overrideMatches = (
  rules: CompiledVariants['overrides'][number]['rules'],
  scope: EvaluationScope,
): boolean => {
  for (const rule of rules) {
    const value = scope.value(rule.field)
    if (rule.values.includes(value)) return true
  }
  return false
}

/** The variant a context gets among weighted variants, or undefined when none is picked. */
const selectVariant = (
  variants: CompiledVariants,
  scope: EvaluationScope,
  runtime: Runtime,
  pick: { override: boolean; bucket?: number } | undefined,
): CompiledVariant | undefined => {
  if (variants.totalWeight <= 0) return undefined
  for (const { variant, rules } of variants.overrides) {
    if (overrideMatches(rules, scope)) {
      if (pick) pick.override = true
      return variant
    }
  }
  const stickinessValue =
    (variants.stickinessField === -1 ? scope.variantId() : scope.value(variants.stickinessField)) ||
    randomStickiness(runtime)
  const target = variantBucketIn(variants.group, stickinessValue, variants.totalWeight)
  if (pick) pick.bucket = target
  let counter = 0
  for (const variant of variants.variants) {
    const weight = variant.definition.weight
    if (weight === 0) continue
    counter += weight
    // Written as !(a < b) rather than a >= b so NaN weights pick like unleash-client does.
    if (!(counter < target)) return variant
  }
  return undefined
}

const constraintsFailure = (
  strategy: CompiledStrategy,
  scope: EvaluationScope,
): StrategyFailure | undefined => {
  for (const check of strategy.checks) {
    if (check.kind === 'missing-segment') {
      return { code: 'SEGMENT_NOT_FOUND', segmentId: check.segmentId }
    }
    if (!check.test(scope)) {
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
        contextValue: check.observed(scope),
        ...(check.invalid === undefined ? {} : { invalid: check.invalid }),
      }
    }
  }
  return undefined
}

const constraintsPass = (strategy: CompiledStrategy, scope: EvaluationScope): boolean => {
  for (const check of strategy.checks) if (!check.test(scope)) return false
  return true
}

/** The first strategy that matches, or null. */
const matchStrategy = (
  strategies: CompiledStrategy[],
  scope: EvaluationScope,
  trace: Trace | undefined,
): CompiledStrategy | null => {
  if (!trace) {
    for (const strategy of strategies) {
      if (
        strategy.known &&
        constraintsPass(strategy, scope) &&
        strategy.rule(scope, false).enabled
      ) {
        return strategy
      }
    }
    return null
  }
  for (const strategy of strategies) {
    const outcome: StrategyOutcome = {
      strategyIndex: strategy.index,
      strategyName: strategy.name,
      matched: false,
    }
    trace.strategies.push(outcome)
    const failure = strategy.known
      ? constraintsFailure(strategy, scope)
      : ({ code: 'UNKNOWN_STRATEGY' } as const)
    if (failure) {
      outcome.failure = failure
      continue
    }
    const verdict = strategy.rule(scope, true)
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
    return strategy
  }
  trace.decision = { code: 'NO_STRATEGY_MATCHED' }
  return null
}

const dependenciesMet = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  scope: EvaluationScope,
  trace: Trace | undefined,
): boolean => {
  for (const dependency of flag.dependencies) {
    const { parent, expected, expectedVariants } = dependency
    const unmet = (
      cause: Extract<Decision, { code: 'DEPENDENCY_UNMET' }>['cause'],
      variant?: string,
    ) => {
      if (trace) {
        trace.decision = {
          code: 'DEPENDENCY_UNMET',
          parent: dependency.source.feature,
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
    const matched = matchFlag(compiled, parent, scope, undefined)
    if (expectedVariants) {
      if (!matched) return unmet('PARENT_DISABLED', 'disabled')
      const name = chooseVariant(compiled, parent, matched, scope, undefined)?.definition.name
      if (!expectedVariants.includes(name ?? 'disabled')) {
        return unmet('VARIANT_NOT_EXPECTED', name ?? 'disabled')
      }
    } else {
      if (expected === 'enabled' && !matched) return unmet('PARENT_DISABLED')
      if (expected === 'disabled' && matched) return unmet('PARENT_ENABLED')
    }
  }
  return true
}

/** The strategy that turns the flag on (`NO_STRATEGY` for an empty list), or null when off. */
const matchFlag = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  scope: EvaluationScope,
  trace: Trace | undefined,
): CompiledStrategy | null => {
  if (!flag.enabled) {
    if (trace) trace.decision = { code: 'FLAG_DISABLED' }
    return null
  }
  if (flag.dependencies.length > 0 && !dependenciesMet(compiled, flag, scope, trace)) return null
  if (!flag.strategies) {
    if (trace) trace.decision = { code: 'STRATEGIES_NOT_AN_ARRAY' }
    return null
  }
  if (flag.strategies.length === 0) {
    if (trace) trace.decision = { code: 'NO_STRATEGIES' }
    return NO_STRATEGY
  }
  return matchStrategy(flag.strategies, scope, trace)
}

/**
 * The variant of a flag that is on: the matched strategy's variants first, then the flag's own.
 * Undefined means the flag serves the `disabled` variant.
 */
const chooseVariant = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  strategy: CompiledStrategy,
  scope: EvaluationScope,
  trace: Trace | undefined,
): CompiledVariant | undefined => {
  const pick = trace
    ? { override: false as boolean, bucket: undefined as number | undefined }
    : undefined
  if (strategy.variants) {
    const variant = selectVariant(strategy.variants, scope, compiled.runtime, pick)
    if (variant) {
      if (trace && pick) {
        trace.source = {
          code: 'STRATEGY_VARIANT',
          strategyIndex: strategy.index,
          override: pick.override,
          ...(pick.override || pick.bucket === undefined ? {} : { bucket: pick.bucket }),
        }
      }
      return variant
    }
    if (pick) {
      pick.override = false
      pick.bucket = undefined
    }
  }
  const variant = flag.variants
    ? selectVariant(flag.variants, scope, compiled.runtime, pick)
    : undefined
  if (trace && pick) {
    trace.source = variant
      ? {
          code: 'FEATURE_VARIANT',
          override: pick.override,
          ...(pick.override || pick.bucket === undefined ? {} : { bucket: pick.bucket }),
        }
      : { code: 'NO_VARIANTS' }
  }
  return variant
}

/** The compiled state's scope, started on `context`; a fresh one if that one is in use. */
const beginScope = (compiled: CompiledFlags, context: UnleashContext): EvaluationScope => {
  let scope = compiled.scope
  if (scope.busy) scope = new EvaluationScope(compiled.fields.names, compiled.runtime)
  scope.busy = true
  scope.begin(context)
  return scope
}

const disabledVariant = (featureEnabled: boolean): VariantResult => ({
  name: 'disabled',
  enabled: false,
  feature_enabled: featureEnabled,
  featureEnabled,
})

const copyVariant = (variant: CompiledVariant): VariantResult => {
  const { result } = variant
  return result.payload === undefined
    ? { name: result.name, enabled: true, feature_enabled: true, featureEnabled: true }
    : {
        name: result.name,
        enabled: true,
        payload: result.payload,
        feature_enabled: true,
        featureEnabled: true,
      }
}

const resolveVariant = (
  compiled: CompiledFlags,
  flag: CompiledFlag | undefined,
  scope: EvaluationScope,
  trace: Trace | undefined,
): VariantResult => {
  if (!flag) {
    if (trace) trace.source = { code: 'FLAG_OFF' }
    return disabledVariant(false)
  }
  const strategy = matchFlag(compiled, flag, scope, trace)
  if (!strategy) {
    if (trace) trace.source = { code: 'FLAG_OFF' }
    return disabledVariant(false)
  }
  const variant = chooseVariant(compiled, flag, strategy, scope, trace)
  return variant ? copyVariant(variant) : disabledVariant(true)
}

/** Whether the flag is on for this context; an unknown flag is off. */
export const isEnabled = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): boolean => {
  const flag = compiled.flags.get(name)
  if (!flag?.enabled) return false
  const scope = beginScope(compiled, context)
  try {
    return matchFlag(compiled, flag, scope, undefined) !== null
  } finally {
    scope.end()
  }
}

/** The variant for this context, shaped like unleash-client's `getVariant`. */
export const getVariant = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): VariantResult => {
  const flag = compiled.flags.get(name)
  if (!flag?.enabled) return disabledVariant(false)
  const scope = beginScope(compiled, context)
  try {
    return resolveVariant(compiled, flag, scope, undefined)
  } finally {
    scope.end()
  }
}

/** Evaluates the flag and says why: which strategy and constraint decided, or what failed. */
export const explain = (
  compiled: CompiledFlags,
  name: string,
  context: UnleashContext = {},
): Explanation => {
  const flag = compiled.flags.get(name)
  const trace: Trace = { strategies: [] }
  const scope = beginScope(compiled, context)
  let variant: VariantResult
  try {
    variant = resolveVariant(compiled, flag, scope, trace)
  } finally {
    scope.end()
  }
  const decision: Decision = flag
    ? (trace.decision ?? { code: 'NO_STRATEGY_MATCHED' })
    : { code: 'FLAG_NOT_FOUND' }
  const explanation = {
    flagName: name,
    enabled: variant.feature_enabled,
    variant,
    decision,
    variantSource: trace.source ?? { code: 'FLAG_OFF' },
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

/** What a flag that is on serves (the flag itself when it has no variant), or null when off. */
const servedToggle = (
  compiled: CompiledFlags,
  flag: CompiledFlag,
  scope: EvaluationScope,
): ServedToggle | null => {
  if (!flag.enabled) return null
  const strategy = matchFlag(compiled, flag, scope, undefined)
  if (strategy === null) return null
  return chooseVariant(compiled, flag, strategy, scope, undefined) ?? flag
}

/**
 * Every flag that is on for this context with its variant, in state order, shaped like the
 * toggles of the Unleash frontend API (`{ toggles: evaluateAll(...) }` is its response body).
 * One pass: each context field is read and parsed once for all flags. The toggles are shared
 * between calls and frozen; copy one before changing it.
 */
export const evaluateAll = (
  compiled: CompiledFlags,
  context: UnleashContext = {},
): FrontendToggle[] => {
  const scope = beginScope(compiled, context)
  try {
    const toggles: FrontendToggle[] = []
    for (const flag of compiled.list) {
      const served = servedToggle(compiled, flag, scope)
      if (served !== null) toggles.push(served.toggle)
    }
    return toggles
  } finally {
    scope.end()
  }
}

/**
 * `JSON.stringify(evaluateAll(compiled, context))`, byte for byte, from JSON that each toggle
 * keeps once it has been serialised: a frontend API response does not pay to serialise the same
 * toggles again for every request.
 */
export const evaluateAllJson = (compiled: CompiledFlags, context: UnleashContext = {}): string =>
  evaluateAllJsonWithDigest(compiled, context).json

/**
 * `evaluateAllJson`, plus a digest of that JSON (16 hex digits) for an ETag: it is folded from
 * hashes each toggle keeps, so naming an answer costs nothing like hashing its bytes. Equal JSON
 * always gives an equal digest; different JSON gives a different one but for a 64-bit collision.
 */
export const evaluateAllJsonWithDigest = (
  compiled: CompiledFlags,
  context: UnleashContext = {},
): { json: string; digest: string } => {
  const scope = beginScope(compiled, context)
  try {
    const parts: string[] = []
    let low = 0x9e3779b9
    let high = 0x85ebca6b
    for (const flag of compiled.list) {
      const served = servedToggle(compiled, flag, scope)
      if (served !== null) {
        served.toggleJson ??= JSON.stringify(served.toggle)
        served.toggleHash ??= [
          murmurhash3X86Hash32(served.toggleJson, 0x2f0f1b3d),
          murmurhash3X86Hash32(served.toggleJson, 0x5bd1e995),
        ]
        parts.push(served.toggleJson)
        // Order matters (it is the order of the JSON), so each step mixes before it adds.
        low = (Math.imul(low ^ (low >>> 15), 0x2c1b3c6d) + served.toggleHash[0]) | 0
        high = (Math.imul(high ^ (high >>> 13), 0x297a2d39) + served.toggleHash[1]) | 0
      }
    }
    const digest =
      (low >>> 0).toString(16).padStart(8, '0') + (high >>> 0).toString(16).padStart(8, '0')
    return { json: `[${parts.join(',')}]`, digest }
  } finally {
    scope.end()
  }
}

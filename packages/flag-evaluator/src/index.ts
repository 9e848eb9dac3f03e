export { applyDelta, isClientFeaturesDelta, toClientFeaturesState } from './apply-delta.js'
export { rolloutBucket, variantBucket } from './bucket.js'
export type {
  ClientFeaturesDelta,
  ClientFeaturesState,
  Constraint,
  DeltaEvent,
  Dependency,
  Feature,
  Override,
  Payload,
  Segment,
  Strategy,
  UnleashContext,
  VariantDefinition,
  VariantResult,
} from './client-features.js'
export { OPERATORS } from './compile-constraint.js'
export type { CompiledFlags, CompileOptions, FrontendToggle } from './compile-flags.js'
export { compileFlags, STRATEGY_NAMES } from './compile-flags.js'
export { describeExplanation } from './describe-explanation.js'
export type { Evaluation } from './evaluate.js'
export {
  evaluate,
  evaluateAll,
  evaluateAllJson,
  evaluateAllJsonWithDigest,
  explain,
  getVariant,
  isEnabled,
} from './evaluate.js'
export type {
  ConstraintOrigin,
  Decision,
  DependencyFailureCause,
  Explanation,
  StrategyFailure,
  StrategyOutcome,
  VariantSource,
} from './explanation.js'
export { murmurhash3X86Hash32 } from './murmurhash3-x86-hash32.js'
export type { ValidationProblem } from './validate-flags.js'
export { validateFlags } from './validate-flags.js'

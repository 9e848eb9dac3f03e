import type { Explanation, StrategyFailure, StrategyOutcome } from './explanation.js'

const quote = (value: unknown) => JSON.stringify(value)

const strategyLabel = (outcome: StrategyOutcome) =>
  `strategy #${outcome.strategyIndex} (${outcome.strategyName})`

export const describeFailure = (failure: StrategyFailure): string => {
  switch (failure.code) {
    case 'UNKNOWN_STRATEGY':
      return 'is not a strategy this evaluator knows, so it never matches'
    case 'SEGMENT_NOT_FOUND':
      return `uses segment ${failure.segmentId}, which is not in the state`
    case 'CONSTRAINT_FAILED': {
      const where =
        failure.origin.kind === 'strategy'
          ? `constraint #${failure.origin.constraintIndex}`
          : `constraint #${failure.origin.constraintIndex} of segment ${failure.origin.segmentId}`
      const target = failure.values !== undefined ? quote(failure.values) : quote(failure.value)
      const flags = [
        failure.inverted ? 'inverted' : '',
        failure.caseInsensitive ? 'case-insensitive' : '',
      ]
        .filter(Boolean)
        .join(', ')
      const rule = `${failure.contextName} ${failure.operator} ${target}${flags ? ` (${flags})` : ''}`
      const seen =
        failure.contextValue === undefined
          ? `the context has no ${failure.contextName}`
          : `the context value was ${quote(failure.contextValue)}`
      const invalid = failure.invalid ? `; it can never match: ${failure.invalid}` : ''
      return `failed ${where}: ${rule}, but ${seen}${invalid}`
    }
    case 'STICKINESS_MISSING':
      return `has no value for stickiness ${quote(failure.stickiness)} in the context`
    case 'ROLLOUT_NOT_REACHED':
      return `put ${failure.stickiness} ${quote(failure.stickinessValue)} in bucket ${failure.bucket} of group ${quote(failure.groupId)}, above the rollout of ${failure.rollout}%`
    case 'RANDOM_NOT_REACHED':
      return `rolled ${failure.roll}, above the rollout of ${failure.rollout}%`
    case 'USER_NOT_LISTED':
      return failure.userId === undefined
        ? 'needs a userId and the context has none'
        : `does not list userId ${quote(failure.userId)}`
    case 'REMOTE_ADDRESS_NOT_LISTED':
      return failure.remoteAddress === undefined
        ? 'needs a remoteAddress and the context has none'
        : `does not list or cover remoteAddress ${quote(failure.remoteAddress)}`
    case 'HOSTNAME_NOT_LISTED':
      return failure.hostname === undefined
        ? 'needs the application host name and none was configured'
        : `does not list host name ${quote(failure.hostname)}`
  }
}

const variantPart = (explanation: Omit<Explanation, 'message'>): string => {
  const { variant, variantSource } = explanation
  switch (variantSource.code) {
    case 'STRATEGY_VARIANT':
      return ` Variant ${quote(variant.name)} comes from strategy #${variantSource.strategyIndex}${variantSource.override ? ' by override' : ''}.`
    case 'FEATURE_VARIANT':
      return ` Variant ${quote(variant.name)} comes from the flag's variants${variantSource.override ? ' by override' : ''}.`
    default:
      return ''
  }
}

/** The one-sentence summary of an explanation. */
export const describeExplanation = (explanation: Omit<Explanation, 'message'>): string => {
  const { flagName, decision, strategies } = explanation
  const flag = `Flag ${quote(flagName)}`
  switch (decision.code) {
    case 'FLAG_NOT_FOUND':
      return `${flag} is not in this state, so it is off.`
    case 'FLAG_DISABLED':
      return `${flag} is off: it is disabled in this environment.`
    case 'DEPENDENCY_UNMET': {
      const want = decision.expectedVariants
        ? `enabled with variant ${decision.expectedVariants.map((v) => quote(v)).join(' or ')}`
        : decision.expected
      const why = {
        PARENT_NOT_FOUND: 'it is not in the state',
        PARENT_HAS_DEPENDENCIES: 'it has dependencies of its own, and only one level is evaluated',
        PARENT_DISABLED: 'it is off for this context',
        PARENT_ENABLED: 'it is on for this context',
        VARIANT_NOT_EXPECTED: `its variant is ${quote(decision.parentVariant)}`,
      }[decision.cause]
      return `${flag} is off: it needs parent ${quote(decision.parent)} ${want}, but ${why}.`
    }
    case 'STRATEGIES_NOT_AN_ARRAY':
      return `${flag} is off: its strategies are not a list.`
    case 'NO_STRATEGIES':
      return `${flag} is on: it is enabled and has no strategies.${variantPart(explanation)}`
    case 'STRATEGY_MATCHED': {
      const matched = strategies.find((s) => s.strategyIndex === decision.strategyIndex)
      const bucket =
        matched?.bucket !== undefined
          ? ` (bucket ${matched.bucket} ≤ rollout ${matched.rollout}%)`
          : ''
      const label = `strategy #${decision.strategyIndex} (${decision.strategyName})`
      return `${flag} is on: ${label} matched${bucket}.${variantPart(explanation)}`
    }
    case 'NO_STRATEGY_MATCHED': {
      const reasons = strategies
        .map((outcome) =>
          outcome.failure ? `${strategyLabel(outcome)} ${describeFailure(outcome.failure)}` : '',
        )
        .filter(Boolean)
      return `${flag} is off: no strategy matched; ${reasons.join('; ')}.`
    }
  }
}

import type { VariantResult } from './client-features.js'

/** Where a failing constraint came from: the strategy itself or one of its segments. */
export type ConstraintOrigin =
  | { kind: 'strategy'; constraintIndex: number }
  | { kind: 'segment'; segmentId: number; constraintIndex: number }

/** Why one strategy did not enable the flag. */
export type StrategyFailure =
  | { code: 'UNKNOWN_STRATEGY' }
  | { code: 'SEGMENT_NOT_FOUND'; segmentId: number }
  | {
      code: 'CONSTRAINT_FAILED'
      origin: ConstraintOrigin
      contextName: string
      operator: string
      values?: string[]
      value?: string
      inverted: boolean
      caseInsensitive: boolean
      /** The context value the operator saw (for DATE_* operators: the current time). */
      contextValue: string | undefined
      /** Set when the constraint can never match: unknown operator, invalid regex, semver or date. */
      invalid?: string
    }
  | { code: 'STICKINESS_MISSING'; stickiness: string }
  | {
      code: 'ROLLOUT_NOT_REACHED'
      stickiness: string
      stickinessValue: string
      groupId: string
      bucket: number
      rollout: number
    }
  | { code: 'RANDOM_NOT_REACHED'; roll: number; rollout: number }
  | { code: 'USER_NOT_LISTED'; userId: string | undefined }
  | { code: 'REMOTE_ADDRESS_NOT_LISTED'; remoteAddress: string | undefined }
  | { code: 'HOSTNAME_NOT_LISTED'; hostname: string | undefined }

export interface StrategyOutcome {
  strategyIndex: number
  strategyName: string
  matched: boolean
  failure?: StrategyFailure
  /** For rollout strategies that matched: the bucket that got in. */
  bucket?: number
  rollout?: number
}

export type DependencyFailureCause =
  | 'PARENT_NOT_FOUND'
  | 'PARENT_HAS_DEPENDENCIES'
  | 'PARENT_DISABLED'
  | 'PARENT_ENABLED'
  | 'VARIANT_NOT_EXPECTED'

/** The decision that settled whether the flag is on. */
export type Decision =
  | { code: 'FLAG_NOT_FOUND' }
  | { code: 'FLAG_DISABLED' }
  | {
      code: 'DEPENDENCY_UNMET'
      parent: string
      expected: 'enabled' | 'disabled'
      expectedVariants?: string[]
      cause: DependencyFailureCause
      parentVariant?: string
    }
  | { code: 'STRATEGIES_NOT_AN_ARRAY' }
  | { code: 'NO_STRATEGIES' }
  | { code: 'STRATEGY_MATCHED'; strategyIndex: number; strategyName: string }
  | { code: 'NO_STRATEGY_MATCHED' }

export type VariantSource =
  | { code: 'STRATEGY_VARIANT'; strategyIndex: number; override: boolean; bucket?: number }
  | { code: 'FEATURE_VARIANT'; override: boolean; bucket?: number }
  | { code: 'FLAG_OFF' }
  | { code: 'NO_VARIANTS' }

export interface Explanation {
  flagName: string
  enabled: boolean
  variant: VariantResult
  decision: Decision
  variantSource: VariantSource
  /** Every strategy looked at, in order, up to the one that matched. */
  strategies: StrategyOutcome[]
  /** One sentence a person can read. */
  message: string
}

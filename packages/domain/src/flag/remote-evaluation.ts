import {
  type CompiledFlags,
  type Explanation,
  explain,
  type Feature,
  type UnleashContext,
  type VariantResult,
} from '@ringmaster/flag-evaluator'
import { InvalidInputError } from '../errors.js'

/** Context fields Unleash keeps at the top level; every other field goes into `properties`. */
const topLevelFields = new Set([
  'userId',
  'sessionId',
  'remoteAddress',
  'environment',
  'appName',
  'currentTime',
])

/** A context field the evaluator cannot use; the OFREP API answers it as INVALID_CONTEXT. */
export class InvalidContextError extends InvalidInputError {
  constructor(field: string, message: string) {
    super('invalid-context', message, { field })
  }
}

function contextText(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new InvalidContextError(
    field,
    `context field '${field}' is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}; Unleash contexts hold text, numbers or booleans`,
  )
}

/**
 * An Unleash context from loosely typed fields (a query string, a JSON body): known fields stay at
 * the top level, `properties` and every other field become properties, numbers and booleans become
 * text. The frontend API sends properties as `properties[name]=value` query parameters.
 */
export function unleashContext(fields: Record<string, unknown>): UnleashContext {
  const context: UnleashContext = {}
  const properties: Record<string, string> = {}
  for (const [field, value] of Object.entries(fields)) {
    const single = Array.isArray(value) && field !== 'properties' ? value[0] : value
    if (field === 'properties') {
      if (single === undefined || single === null) continue
      if (typeof single !== 'object' || Array.isArray(single)) {
        throw new InvalidContextError(field, "context field 'properties' must be an object")
      }
      for (const [name, property] of Object.entries(single as Record<string, unknown>)) {
        const text = contextText(`properties.${name}`, property)
        if (text !== undefined) properties[name] = text
      }
      continue
    }
    const bracketed = /^properties\[(.+)\]$/.exec(field)
    const text = contextText(field, single)
    if (text === undefined) continue
    if (bracketed) properties[bracketed[1]!] = text
    else if (topLevelFields.has(field)) context[field] = text
    else properties[field] = text
  }
  if (Object.keys(properties).length > 0) context.properties = properties
  return context
}

export type OfrepReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT'
export type OfrepErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'PARSE_ERROR'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'GENERAL'

export interface OfrepSuccess {
  key: string
  reason: OfrepReason
  variant: string
  /** Absent when the flag has variants and none applies: the caller's code default holds. */
  value?: boolean | string | number | Record<string, unknown> | unknown[]
  metadata: Record<string, string | number | boolean>
}

export interface OfrepFailure {
  key: string
  errorCode: OfrepErrorCode
  errorDetails: string
}

export type OfrepEvaluation = OfrepSuccess | OfrepFailure

export function isOfrepFailure(evaluation: OfrepEvaluation): evaluation is OfrepFailure {
  return 'errorCode' in evaluation
}

/**
 * An OpenFeature evaluation context as an Unleash context: `targetingKey` is the `userId`, every
 * other attribute is handled as in `unleashContext`.
 */
export function ofrepContext(context: Record<string, unknown> | undefined): UnleashContext {
  if (context === undefined) return {}
  const { targetingKey, ...attributes } = context
  if (targetingKey !== undefined && targetingKey !== null && typeof targetingKey !== 'string') {
    throw new InvalidContextError('targetingKey', 'targetingKey must be a string')
  }
  const unleash = unleashContext(attributes)
  if (typeof targetingKey === 'string' && targetingKey !== '') unleash.userId = targetingKey
  return unleash
}

/** Whether the flag serves variants in this ring (feature variants or strategy variants). */
export function hasVariants(feature: Feature): boolean {
  return (
    (feature.variants?.length ?? 0) > 0 ||
    (feature.strategies ?? []).some((strategy) => (strategy.variants?.length ?? 0) > 0)
  )
}

const rolloutStrategies = new Set([
  'flexibleRollout',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
])

function reasonOf(explanation: Explanation, feature: Feature): OfrepReason {
  const { decision, variantSource } = explanation
  switch (decision.code) {
    case 'FLAG_DISABLED':
      return 'DISABLED'
    case 'NO_STRATEGIES':
      return variantSource.code === 'FEATURE_VARIANT' && !variantSource.override
        ? 'SPLIT'
        : 'STATIC'
    case 'STRATEGY_MATCHED': {
      if (
        (variantSource.code === 'STRATEGY_VARIANT' || variantSource.code === 'FEATURE_VARIANT') &&
        !variantSource.override
      ) {
        return 'SPLIT'
      }
      if (variantSource.code === 'STRATEGY_VARIANT' || variantSource.code === 'FEATURE_VARIANT') {
        return 'TARGETING_MATCH'
      }
      const strategy = feature.strategies?.[decision.strategyIndex]
      const outcome = explanation.strategies.find(
        (candidate) => candidate.strategyIndex === decision.strategyIndex,
      )
      if (rolloutStrategies.has(decision.strategyName) && (outcome?.rollout ?? 100) < 100) {
        return 'SPLIT'
      }
      const targeted =
        (strategy?.constraints?.length ?? 0) > 0 || (strategy?.segments?.length ?? 0) > 0
      return decision.strategyName === 'default' && !targeted ? 'STATIC' : 'TARGETING_MATCH'
    }
    default:
      return 'DEFAULT'
  }
}

/** True when the flag is off only because a strategy needed a userId and the context had none. */
function missedForWantOfTargetingKey(explanation: Explanation, context: UnleashContext): boolean {
  if (context.userId !== undefined || explanation.decision.code !== 'NO_STRATEGY_MATCHED') {
    return false
  }
  return explanation.strategies.some(
    ({ failure }) =>
      (failure?.code === 'STICKINESS_MISSING' && failure.stickiness === 'userId') ||
      (failure?.code === 'USER_NOT_LISTED' && failure.userId === undefined),
  )
}

type VariantValue = NonNullable<OfrepSuccess['value']>

function variantValue(variant: VariantResult): VariantValue {
  const payload = variant.payload
  if (!payload) return variant.name
  switch (payload.type) {
    case 'json':
      return JSON.parse(payload.value) as VariantValue
    case 'number': {
      const number = Number(payload.value)
      if (payload.value.trim() === '' || !Number.isFinite(number)) {
        throw new Error(`variant '${variant.name}' has a number payload that is not a number`)
      }
      return number
    }
    default:
      return payload.value
  }
}

/**
 * One flag per the OpenFeature Remote Evaluation Protocol. A flag without variants is a boolean
 * (`on`/`off`); a flag with variants answers the chosen variant's payload (JSON parsed, numbers as
 * numbers, text as text, the variant name when it has no payload), and no value when no variant
 * applies, so the caller's code default holds.
 */
export function evaluateOfrep(
  compiled: CompiledFlags,
  key: string,
  context: UnleashContext,
): OfrepEvaluation {
  const flag = compiled.flags.get(key)
  if (!flag) {
    return {
      key,
      errorCode: 'FLAG_NOT_FOUND',
      errorDetails: `no flag '${key}' in this ring`,
    }
  }
  const explanation = explain(compiled, key, context)
  if (missedForWantOfTargetingKey(explanation, context)) {
    return {
      key,
      errorCode: 'TARGETING_KEY_MISSING',
      errorDetails: `flag '${key}' targets users by id; send context.targetingKey`,
    }
  }
  const reason = reasonOf(explanation, flag.feature)
  const metadata: OfrepSuccess['metadata'] = { featureEnabled: explanation.enabled }
  if (explanation.decision.code === 'STRATEGY_MATCHED') {
    metadata.strategy = explanation.decision.strategyName
  }
  if (!hasVariants(flag.feature)) {
    return {
      key,
      reason,
      variant: explanation.enabled ? 'on' : 'off',
      value: explanation.enabled,
      metadata,
    }
  }
  const variant = explanation.variant
  if (!variant.enabled) {
    return { key, reason, variant: variant.name, metadata }
  }
  try {
    return { key, reason, variant: variant.name, value: variantValue(variant), metadata }
  } catch (error) {
    return {
      key,
      errorCode: 'GENERAL',
      errorDetails: `flag '${key}': ${error instanceof SyntaxError ? `variant '${variant.name}' has a json payload that is not valid JSON` : (error as Error).message}`,
    }
  }
}

/** Every flag of the ring, in name order, for the bulk endpoint. */
export function evaluateOfrepAll(
  compiled: CompiledFlags,
  context: UnleashContext,
): OfrepEvaluation[] {
  return [...compiled.flags.keys()].map((key) => evaluateOfrep(compiled, key, context))
}

/** Explanations for the named flags, or for every flag of the ring in name order. */
export function explainFlags(
  compiled: CompiledFlags,
  context: UnleashContext,
  flags?: readonly string[],
): Explanation[] {
  return (flags ?? [...compiled.flags.keys()]).map((name) => explain(compiled, name, context))
}

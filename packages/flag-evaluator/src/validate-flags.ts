import type {
  ClientFeaturesState,
  Constraint,
  Feature,
  Strategy,
  VariantDefinition,
} from './client-features.js'
import {
  cleanValues,
  compileRegex,
  MULTI_VALUE_OPERATORS,
  OPERATORS,
  SINGLE_VALUE_OPERATORS,
} from './compile-constraint.js'
import { STRATEGY_NAMES } from './compile-flags.js'
import { parseIpv4, parseIpv6 } from './ip-address.js'
import { parseSemver } from './semver.js'

export interface ValidationProblem {
  /** Where the problem is, e.g. `features[2].strategies[0].constraints[1].value`. */
  path: string
  message: string
}

const PAYLOAD_TYPES = ['string', 'json', 'csv', 'number']
const ROLLOUT_PARAMETER: Record<string, string> = {
  flexibleRollout: 'rollout',
  gradualRolloutUserId: 'percentage',
  gradualRolloutSessionId: 'percentage',
  gradualRolloutRandom: 'percentage',
}
const LIST_PARAMETER: Record<string, string> = {
  userWithId: 'userIds',
  remoteAddress: 'IPs',
  applicationHostname: 'hostNames',
}

const quote = (value: unknown) => JSON.stringify(value) ?? String(value)
const isMultiValue = (operator: string) =>
  (MULTI_VALUE_OPERATORS as readonly string[]).includes(operator)
const isSingleValue = (operator: string) =>
  (SINGLE_VALUE_OPERATORS as readonly string[]).includes(operator)

const validateConstraint = (
  constraint: Constraint,
  path: string,
  problems: ValidationProblem[],
) => {
  const report = (where: string, message: string) =>
    problems.push({ path: `${path}${where}`, message })
  if (typeof constraint.contextName !== 'string' || constraint.contextName === '') {
    report('.contextName', 'contextName must name a context field, e.g. "userId"')
  }
  const { operator } = constraint
  if (!OPERATORS.includes(operator)) {
    report(
      '.operator',
      `unknown operator ${quote(operator)}; use one of ${OPERATORS.join(', ')}. Unleash SDKs evaluate an unknown operator to false`,
    )
    return
  }
  if (isMultiValue(operator)) {
    if (!Array.isArray(constraint.values)) {
      report('.values', `${operator} needs a list of values`)
      return
    }
    if (cleanValues(constraint.values).length === 0) {
      report(
        '.values',
        `${operator} needs at least one non-empty value; as written it never matches`,
      )
    }
    if (operator === 'IN_CIDR') {
      for (const [i, value] of constraint.values.entries()) {
        const text = String(value).trim()
        if (text && !parseIpv4(text) && !parseIpv6(text)) {
          report(
            `.values[${i}]`,
            `${quote(value)} is not an IP address or CIDR range (e.g. "10.0.0.0/8", "2001:db8::/32")`,
          )
        }
      }
    }
    return
  }
  if (!isSingleValue(operator)) return
  const { value } = constraint
  if (typeof value !== 'string' || value === '') {
    report('.value', `${operator} needs a single value in "value"`)
    return
  }
  if (operator.startsWith('NUM_') && Number.isNaN(Number(value))) {
    report('.value', `${quote(value)} is not a number`)
  }
  if (operator.startsWith('DATE_') && Number.isNaN(new Date(value).getTime())) {
    report('.value', `${quote(value)} is not a date; use ISO 8601, e.g. "2025-01-31T12:00:00Z"`)
  }
  if (operator.startsWith('SEMVER_') && !parseSemver(value)) {
    report(
      '.value',
      `${quote(value)} is not a semantic version; use MAJOR.MINOR.PATCH, e.g. "1.4.0"`,
    )
  }
  if (operator === 'REGEX') {
    try {
      compileRegex(value, !!constraint.caseInsensitive)
    } catch (error) {
      report(
        '.value',
        `${quote(value)} is not a valid RE2 regular expression (${(error as Error).message}); lookarounds and backreferences are not supported`,
      )
    }
  }
}

const validateVariants = (variants: unknown, path: string, problems: ValidationProblem[]): void => {
  if (variants === undefined || variants === null) return
  if (!Array.isArray(variants)) {
    problems.push({ path, message: 'variants must be a list' })
    return
  }
  let total = 0
  for (const [i, variant] of (variants as VariantDefinition[]).entries()) {
    const at = `${path}[${i}]`
    if (typeof variant.name !== 'string' || variant.name === '') {
      problems.push({ path: `${at}.name`, message: 'a variant needs a name' })
    }
    if (!Number.isInteger(variant.weight) || variant.weight < 0) {
      problems.push({
        path: `${at}.weight`,
        message: `weight ${quote(variant.weight)} must be a whole number, 0 or more`,
      })
    } else {
      total += variant.weight
    }
    if (variant.payload !== undefined) {
      const { type, value } = variant.payload
      if (!PAYLOAD_TYPES.includes(type)) {
        problems.push({
          path: `${at}.payload.type`,
          message: `payload type ${quote(type)} must be one of ${PAYLOAD_TYPES.join(', ')}`,
        })
      } else if (typeof value !== 'string') {
        problems.push({ path: `${at}.payload.value`, message: 'payload value must be a string' })
      } else if (type === 'json') {
        try {
          JSON.parse(value)
        } catch {
          problems.push({
            path: `${at}.payload.value`,
            message: 'payload of type json is not valid JSON',
          })
        }
      } else if (type === 'number' && (value.trim() === '' || Number.isNaN(Number(value)))) {
        problems.push({
          path: `${at}.payload.value`,
          message: `payload of type number is not a number: ${quote(value)}`,
        })
      }
    }
    for (const [j, override] of (variant.overrides ?? []).entries()) {
      if (typeof override.contextName !== 'string' || override.contextName === '') {
        problems.push({
          path: `${at}.overrides[${j}].contextName`,
          message: 'an override needs a contextName',
        })
      }
      if (!Array.isArray(override.values) || override.values.length === 0) {
        problems.push({
          path: `${at}.overrides[${j}].values`,
          message: 'an override needs at least one value',
        })
      }
    }
  }
  if (variants.length > 0 && total <= 0) {
    problems.push({
      path,
      message:
        'variant weights add up to 0, so no variant can ever be served; give at least one a weight',
    })
  }
}

const validateStrategy = (
  strategy: Strategy,
  path: string,
  segmentIds: Set<number>,
  problems: ValidationProblem[],
) => {
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategy.name)) {
    problems.push({
      path: `${path}.name`,
      message: `unknown strategy ${quote(strategy.name)}; use one of ${STRATEGY_NAMES.join(', ')}. Unleash SDKs evaluate an unknown strategy to false`,
    })
    return
  }
  const parameters: Record<string, unknown> = strategy.parameters ?? {}
  const rolloutName = ROLLOUT_PARAMETER[strategy.name]
  if (rolloutName !== undefined) {
    const raw = parameters[rolloutName]
    const rollout = Number(raw)
    if (raw === undefined || raw === '' || Number.isNaN(rollout) || rollout < 0 || rollout > 100) {
      problems.push({
        path: `${path}.parameters.${rolloutName}`,
        message: `${rolloutName} ${quote(raw)} must be a number from 0 to 100`,
      })
    }
  }
  const listName = LIST_PARAMETER[strategy.name]
  if (listName !== undefined) {
    const raw = parameters[listName]
    if (typeof raw !== 'string' || raw.trim() === '') {
      problems.push({
        path: `${path}.parameters.${listName}`,
        message: `${strategy.name} needs ${listName} as a comma-separated list`,
      })
    } else if (strategy.name === 'remoteAddress') {
      for (const entry of raw.split(/\s*,\s*/)) {
        if (!parseIpv4(entry)) {
          problems.push({
            path: `${path}.parameters.IPs`,
            message: `${quote(entry)} is not an IPv4 address or range; SDKs only match it as exact text`,
          })
        }
      }
    }
  }
  for (const [i, constraint] of (strategy.constraints ?? []).entries()) {
    validateConstraint(constraint, `${path}.constraints[${i}]`, problems)
  }
  for (const [i, segmentId] of (strategy.segments ?? []).entries()) {
    if (!segmentIds.has(segmentId)) {
      problems.push({
        path: `${path}.segments[${i}]`,
        message: `segment ${quote(segmentId)} does not exist; SDKs treat a missing segment as a failed constraint`,
      })
    }
  }
  validateVariants(strategy.variants, `${path}.variants`, problems)
}

const findCycles = (features: Feature[]): string[][] => {
  const edges = new Map(
    features.map((f) => [f.name, (f.dependencies ?? []).map((d) => d.feature)] as const),
  )
  const cycles: string[][] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (name: string) => {
    state.set(name, 'visiting')
    stack.push(name)
    for (const next of edges.get(name) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next) && edges.has(next)) visit(next)
    }
    stack.pop()
    state.set(name, 'done')
  }
  for (const name of edges.keys()) if (!state.has(name)) visit(name)
  return cycles
}

/**
 * Problems in flag definitions that Unleash SDKs would silently evaluate to "off" (or reject),
 * each with the path of the offending field and a message a person can act on.
 */
export const validateFlags = (state: ClientFeaturesState): ValidationProblem[] => {
  const problems: ValidationProblem[] = []
  const segmentIds = new Set<number>()
  for (const [i, segment] of (state.segments ?? []).entries()) {
    segmentIds.add(segment.id)
    for (const [j, constraint] of (segment.constraints ?? []).entries()) {
      validateConstraint(constraint, `segments[${i}].constraints[${j}]`, problems)
    }
  }
  const byName = new Map<string, Feature>()
  for (const [i, feature] of state.features.entries()) {
    const path = `features[${i}]`
    if (typeof feature.name !== 'string' || feature.name === '') {
      problems.push({ path: `${path}.name`, message: 'a flag needs a name' })
    } else if (byName.has(feature.name)) {
      problems.push({
        path: `${path}.name`,
        message: `flag ${quote(feature.name)} is defined twice`,
      })
    }
    byName.set(feature.name, feature)
    if (typeof feature.enabled !== 'boolean') {
      problems.push({ path: `${path}.enabled`, message: 'enabled must be true or false' })
    }
    if (!Array.isArray(feature.strategies)) {
      problems.push({
        path: `${path}.strategies`,
        message: 'strategies must be a list (an empty list means on for everyone)',
      })
    } else {
      for (const [j, strategy] of feature.strategies.entries()) {
        validateStrategy(strategy, `${path}.strategies[${j}]`, segmentIds, problems)
      }
    }
    validateVariants(feature.variants, `${path}.variants`, problems)
  }
  for (const [i, feature] of state.features.entries()) {
    for (const [j, dependency] of (feature.dependencies ?? []).entries()) {
      const at = `features[${i}].dependencies[${j}]`
      const parent = byName.get(dependency.feature)
      if (dependency.feature === feature.name) {
        problems.push({
          path: `${at}.feature`,
          message: `flag ${quote(feature.name)} cannot depend on itself`,
        })
      } else if (!parent) {
        problems.push({
          path: `${at}.feature`,
          message: `parent flag ${quote(dependency.feature)} does not exist; the child would always be off`,
        })
      } else if ((parent.dependencies ?? []).length > 0) {
        problems.push({
          path: `${at}.feature`,
          message: `parent flag ${quote(dependency.feature)} has dependencies of its own; SDKs evaluate one level only, so the child would always be off`,
        })
      }
      if (dependency.variants !== undefined && !Array.isArray(dependency.variants)) {
        problems.push({
          path: `${at}.variants`,
          message: 'variants must be a list of variant names',
        })
      }
    }
  }
  for (const cycle of findCycles(state.features)) {
    const index = state.features.findIndex((f) => f.name === cycle[0])
    problems.push({
      path: `features[${index}].dependencies`,
      message: `dependency cycle: ${cycle.map((name) => quote(name)).join(' -> ')}`,
    })
  }
  return problems
}

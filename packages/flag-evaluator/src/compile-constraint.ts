import { RE2JS } from 're2js'
import type { Constraint, UnleashContext } from './client-features.js'
import { contextValue } from './context-value.js'
import type { ConstraintOrigin } from './explanation.js'
import { matchesRange, parseIpv4, parseIpv6 } from './ip-address.js'
import { compareSemver, parseSemver } from './semver.js'

export const MULTI_VALUE_OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'IN_CIDR',
] as const
export const SINGLE_VALUE_OPERATORS = [
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
] as const
export const OPERATORS: readonly string[] = [...MULTI_VALUE_OPERATORS, ...SINGLE_VALUE_OPERATORS]

export interface Clock {
  now: () => number
}

export interface CompiledConstraint {
  kind: 'constraint'
  source: Constraint
  origin: ConstraintOrigin
  /** Why the constraint can never match as written, if so (it still honours `inverted`). */
  invalid?: string
  /** The constraint's verdict, `inverted` already applied. */
  test: (context: UnleashContext) => boolean
  /** The value the operator looks at, for explanations. */
  observed: (context: UnleashContext) => string | undefined
}

export interface MissingSegment {
  kind: 'missing-segment'
  segmentId: number
}

export type ConstraintCheck = CompiledConstraint | MissingSegment

/** Trims and drops empty entries, as unleash-client does before comparing. */
export const cleanValues = (values: unknown): string[] =>
  Array.isArray(values)
    ? values.filter((value) => !!value).map((value) => String(value).trim())
    : []

type Test = (context: UnleashContext) => boolean
interface OperatorTest {
  test: Test
  invalid?: string
}

const inTest = (constraint: Constraint): OperatorTest => {
  const values = new Set(cleanValues(constraint.values))
  const name = constraint.contextName
  const isIn: Test = (context) => {
    const value = contextValue(context, name)
    return value !== undefined && values.has(value)
  }
  return { test: constraint.operator === 'IN' ? isIn : (context) => !isIn(context) }
}

const stringTest = (constraint: Constraint): OperatorTest => {
  const caseInsensitive = !!constraint.caseInsensitive
  const values = cleanValues(constraint.values).map((value) =>
    caseInsensitive ? value.toLocaleLowerCase() : value,
  )
  const name = constraint.contextName
  const matches =
    constraint.operator === 'STR_STARTS_WITH'
      ? (value: string, candidate: string) => value.startsWith(candidate)
      : constraint.operator === 'STR_ENDS_WITH'
        ? (value: string, candidate: string) => value.endsWith(candidate)
        : (value: string, candidate: string) => value.includes(candidate)
  return {
    test: (context) => {
      let value = contextValue(context, name)
      if (value === undefined) return false
      if (caseInsensitive) value = value.toLocaleLowerCase()
      const seen = value
      return values.some((candidate) => matches(seen, candidate))
    },
  }
}

const numberTest = (constraint: Constraint): OperatorTest => {
  const target = Number(constraint.value)
  const name = constraint.contextName
  const compare: (value: number) => boolean =
    constraint.operator === 'NUM_EQ'
      ? (value) => value === target
      : constraint.operator === 'NUM_GT'
        ? (value) => value > target
        : constraint.operator === 'NUM_GTE'
          ? (value) => value >= target
          : constraint.operator === 'NUM_LT'
            ? (value) => value < target
            : (value) => value <= target
  if (Number.isNaN(target)) {
    return {
      test: () => false,
      invalid: `value ${JSON.stringify(constraint.value)} is not a number`,
    }
  }
  return {
    test: (context) => {
      const value = Number(contextValue(context, name))
      return !Number.isNaN(value) && compare(value)
    },
  }
}

export const currentTime = (context: UnleashContext, clock: Clock): number =>
  context.currentTime ? new Date(context.currentTime).getTime() : clock.now()

const dateTest = (constraint: Constraint, clock: Clock): OperatorTest => {
  // unleash-client compares the current time (context.currentTime or now) whatever the contextName.
  const target = new Date(constraint.value as string).getTime()
  const after = constraint.operator === 'DATE_AFTER'
  return {
    test: (context) => {
      const now = currentTime(context, clock)
      return after ? now > target : now < target
    },
    ...(Number.isNaN(target)
      ? { invalid: `value ${JSON.stringify(constraint.value)} is not a date` }
      : {}),
  }
}

const semverTest = (constraint: Constraint): OperatorTest => {
  const target = parseSemver(constraint.value)
  const name = constraint.contextName
  if (!target) {
    return {
      test: () => false,
      invalid: `value ${JSON.stringify(constraint.value)} is not a semantic version`,
    }
  }
  const accept: (order: number) => boolean = {
    SEMVER_EQ: (order: number) => order === 0,
    SEMVER_GT: (order: number) => order > 0,
    SEMVER_GTE: (order: number) => order >= 0,
    SEMVER_LT: (order: number) => order < 0,
    SEMVER_LTE: (order: number) => order <= 0,
  }[constraint.operator as 'SEMVER_EQ']
  return {
    test: (context) => {
      const value = contextValue(context, name)
      if (!value || value.startsWith('v')) return false
      const version = parseSemver(value)
      return version !== null && accept(compareSemver(version, target))
    },
  }
}

/** Compiles an RE2 pattern the way unleash-client does; throws with RE2's message when invalid. */
export const compileRegex = (pattern: string, caseInsensitive: boolean): RE2JS =>
  RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)

const regexTest = (constraint: Constraint): OperatorTest => {
  const name = constraint.contextName
  let regex: RE2JS
  try {
    if (typeof constraint.value !== 'string') throw new Error('no pattern')
    regex = compileRegex(constraint.value, !!constraint.caseInsensitive)
  } catch (error) {
    return {
      test: () => false,
      invalid: `value ${JSON.stringify(constraint.value)} is not a valid RE2 regular expression (${(error as Error).message})`,
    }
  }
  return {
    test: (context) => {
      const value = contextValue(context, name)
      return value !== undefined && regex.matcher(value).find()
    },
  }
}

const cidrTest = (constraint: Constraint): OperatorTest => {
  const ranges = cleanValues(constraint.values).map((range) => ({
    v4: parseIpv4(range),
    v6: parseIpv6(range),
  }))
  const name = constraint.contextName
  return {
    test: (context) => {
      const value = contextValue(context, name)
      if (value === undefined) return false
      const v4 = parseIpv4(value)
      if (v4) return ranges.some((range) => range.v4 !== null && matchesRange(v4, range.v4))
      const v6 = parseIpv6(value)
      if (v6) return ranges.some((range) => range.v6 !== null && matchesRange(v6, range.v6))
      return false
    },
  }
}

const operatorTest = (constraint: Constraint, clock: Clock): OperatorTest | undefined => {
  switch (constraint.operator) {
    case 'IN':
    case 'NOT_IN':
      return inTest(constraint)
    case 'STR_CONTAINS':
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
      return stringTest(constraint)
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE':
      return numberTest(constraint)
    case 'DATE_AFTER':
    case 'DATE_BEFORE':
      return dateTest(constraint, clock)
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE':
      return semverTest(constraint)
    case 'REGEX':
      return regexTest(constraint)
    case 'IN_CIDR':
      return cidrTest(constraint)
    default:
      return undefined
  }
}

export const compileConstraint = (
  constraint: Constraint,
  origin: ConstraintOrigin,
  clock: Clock,
): CompiledConstraint => {
  const isDate = constraint.operator === 'DATE_AFTER' || constraint.operator === 'DATE_BEFORE'
  const observed = isDate
    ? (context: UnleashContext) => {
        const time = currentTime(context, clock)
        return Number.isNaN(time) ? String(context.currentTime) : new Date(time).toISOString()
      }
    : (context: UnleashContext) => contextValue(context, constraint.contextName)
  const operator = operatorTest(constraint, clock)
  if (!operator) {
    // An unknown operator is false even when inverted, as in unleash-client.
    return {
      kind: 'constraint',
      source: constraint,
      origin,
      invalid: `unknown operator ${JSON.stringify(constraint.operator)}`,
      test: () => false,
      observed,
    }
  }
  const { test, invalid } = operator
  return {
    kind: 'constraint',
    source: constraint,
    origin,
    ...(invalid === undefined ? {} : { invalid }),
    test: constraint.inverted ? (context) => !test(context) : test,
    observed,
  }
}

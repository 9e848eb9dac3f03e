import { RE2JS } from 're2js'
import type { Constraint } from './client-features.js'
import type { EvaluationScope, FieldTable } from './evaluation-scope.js'
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

export interface CompiledConstraint {
  kind: 'constraint'
  source: Constraint
  origin: ConstraintOrigin
  /** Why the constraint can never match as written, if so (it still honours `inverted`). */
  invalid?: string
  /** The constraint's verdict, `inverted` already applied. */
  test: (scope: EvaluationScope) => boolean
  /** The value the operator looks at, for explanations. */
  observed: (scope: EvaluationScope) => string | undefined
}

export interface MissingSegment {
  kind: 'missing-segment'
  segmentId: number
  /** Always false: a strategy that uses a missing segment never matches. */
  test: (scope: EvaluationScope) => boolean
}

export type ConstraintCheck = CompiledConstraint | MissingSegment

/** Trims and drops empty entries, as unleash-client does before comparing. */
export const cleanValues = (values: unknown): string[] =>
  Array.isArray(values)
    ? values.filter((value) => !!value).map((value) => String(value).trim())
    : []

type Test = (scope: EvaluationScope) => boolean
interface OperatorTest {
  test: Test
  invalid?: string
}

const inTest = (constraint: Constraint, field: number): OperatorTest => {
  const values = new Set(cleanValues(constraint.values))
  const isIn: Test = (scope) => {
    const value = scope.value(field)
    return value !== undefined && values.has(value)
  }
  return { test: constraint.operator === 'IN' ? isIn : (scope) => !isIn(scope) }
}

const stringTest = (constraint: Constraint, field: number): OperatorTest => {
  const caseInsensitive = !!constraint.caseInsensitive
  const values = cleanValues(constraint.values).map((value) =>
    caseInsensitive ? value.toLocaleLowerCase() : value,
  )
  const matches =
    constraint.operator === 'STR_STARTS_WITH'
      ? (value: string, candidate: string) => value.startsWith(candidate)
      : constraint.operator === 'STR_ENDS_WITH'
        ? (value: string, candidate: string) => value.endsWith(candidate)
        : (value: string, candidate: string) => value.includes(candidate)
  return {
    test: (scope) => {
      const value = caseInsensitive ? scope.lowerCase(field) : scope.value(field)
      if (value === undefined) return false
      for (const candidate of values) if (matches(value, candidate)) return true
      return false
    },
  }
}

const numberTest = (constraint: Constraint, field: number): OperatorTest => {
  const target = Number(constraint.value)
  if (Number.isNaN(target)) {
    return {
      test: () => false,
      invalid: `value ${JSON.stringify(constraint.value)} is not a number`,
    }
  }
  // NaN (absent or not a number) fails every comparison, as unleash-client's does.
  switch (constraint.operator) {
    case 'NUM_EQ':
      return { test: (scope) => scope.number(field) === target }
    case 'NUM_GT':
      return { test: (scope) => scope.number(field) > target }
    case 'NUM_GTE':
      return { test: (scope) => scope.number(field) >= target }
    case 'NUM_LT':
      return { test: (scope) => scope.number(field) < target }
    default:
      return { test: (scope) => scope.number(field) <= target }
  }
}

const dateTest = (constraint: Constraint): OperatorTest => {
  // unleash-client compares the current time (context.currentTime or now) whatever the contextName.
  const target = new Date(constraint.value as string).getTime()
  const after = constraint.operator === 'DATE_AFTER'
  return {
    test: after ? (scope) => scope.now() > target : (scope) => scope.now() < target,
    ...(Number.isNaN(target)
      ? { invalid: `value ${JSON.stringify(constraint.value)} is not a date` }
      : {}),
  }
}

const semverTest = (constraint: Constraint, field: number): OperatorTest => {
  const target = parseSemver(constraint.value)
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
    test: (scope) => {
      const version = scope.semver(field)
      return version !== null && accept(compareSemver(version, target))
    },
  }
}

/** Compiles an RE2 pattern the way unleash-client does; throws with RE2's message when invalid. */
export const compileRegex = (pattern: string, caseInsensitive: boolean): RE2JS =>
  RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)

const regexTest = (constraint: Constraint, field: number): OperatorTest => {
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
    test: (scope) => {
      const value = scope.value(field)
      return value !== undefined && regex.matcher(value).find()
    },
  }
}

const cidrTest = (constraint: Constraint, field: number): OperatorTest => {
  const ranges = cleanValues(constraint.values).map((range) => ({
    v4: parseIpv4(range),
    v6: parseIpv6(range),
  }))
  const v4Ranges = ranges.flatMap((range) => (range.v4 ? [range.v4] : []))
  const v6Ranges = ranges.flatMap((range) => (range.v6 ? [range.v6] : []))
  return {
    test: (scope) => {
      const address = scope.address(field)
      if (address === null) return false
      for (const range of address.family === 4 ? v4Ranges : v6Ranges) {
        if (matchesRange(address, range)) return true
      }
      return false
    },
  }
}

const operatorTest = (constraint: Constraint, field: number): OperatorTest | undefined => {
  switch (constraint.operator) {
    case 'IN':
    case 'NOT_IN':
      return inTest(constraint, field)
    case 'STR_CONTAINS':
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
      return stringTest(constraint, field)
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE':
      return numberTest(constraint, field)
    case 'DATE_AFTER':
    case 'DATE_BEFORE':
      return dateTest(constraint)
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE':
      return semverTest(constraint, field)
    case 'REGEX':
      return regexTest(constraint, field)
    case 'IN_CIDR':
      return cidrTest(constraint, field)
    default:
      return undefined
  }
}

/** Compiles one constraint; its context field gets a number from `fields`. */
export const compileConstraint = (
  constraint: Constraint,
  origin: ConstraintOrigin,
  fields: FieldTable,
): CompiledConstraint => {
  const isDate = constraint.operator === 'DATE_AFTER' || constraint.operator === 'DATE_BEFORE'
  const field = fields.index(String(constraint.contextName))
  const observed = isDate
    ? (scope: EvaluationScope) => {
        const time = scope.now()
        return Number.isNaN(time) ? String(scope.context.currentTime) : new Date(time).toISOString()
      }
    : (scope: EvaluationScope) => scope.value(field)
  const operator = operatorTest(constraint, field)
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
    test: constraint.inverted ? (scope) => !test(scope) : test,
    observed,
  }
}

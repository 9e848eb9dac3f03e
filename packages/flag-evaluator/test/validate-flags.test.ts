import t from 'tap'
import type { ClientFeaturesState, Feature, Strategy } from '../src/index.js'
import { validateFlags } from '../src/index.js'

const withStrategy = (strategy: Strategy): ClientFeaturesState => ({
  features: [{ name: 'f', enabled: true, strategies: [strategy] }],
  segments: [{ id: 1, constraints: [] }],
})
const withFeatures = (...features: Feature[]): ClientFeaturesState => ({ features })
const constraint = (c: Record<string, unknown>) =>
  withStrategy({ name: 'default', constraints: [{ contextName: 'userId', operator: 'IN', ...c }] })

const cases: {
  name: string
  state: ClientFeaturesState
  problems: { path: string; message: RegExp }[]
}[] = [
  {
    name: 'a valid flag',
    state: withStrategy({
      name: 'flexibleRollout',
      parameters: { rollout: '50', stickiness: 'default', groupId: 'f' },
    }),
    problems: [],
  },
  {
    name: 'unknown strategy',
    state: withStrategy({ name: 'gradualRollout' }),
    problems: [
      {
        path: 'features[0].strategies[0].name',
        message:
          /^unknown strategy "gradualRollout"; use one of default, userWithId, .*evaluate an unknown strategy to false$/,
      },
    ],
  },
  {
    name: 'rollout above 100',
    state: withStrategy({ name: 'flexibleRollout', parameters: { rollout: '150' } }),
    problems: [
      {
        path: 'features[0].strategies[0].parameters.rollout',
        message: /^rollout "150" must be a number from 0 to 100$/,
      },
    ],
  },
  {
    name: 'percentage that is not a number',
    state: withStrategy({ name: 'gradualRolloutUserId', parameters: { percentage: 'half' } }),
    problems: [
      {
        path: 'features[0].strategies[0].parameters.percentage',
        message: /"half" must be a number from 0 to 100/,
      },
    ],
  },
  {
    name: 'unknown operator',
    state: constraint({ operator: 'STR_EQUALS', values: ['a'] }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].operator',
        message: /^unknown operator "STR_EQUALS"; use one of IN, NOT_IN/,
      },
    ],
  },
  {
    name: 'invalid regex',
    state: constraint({ operator: 'REGEX', value: '(unclosed' }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].value',
        message: /^"\(unclosed" is not a valid RE2 regular expression \(.+\)/,
      },
    ],
  },
  {
    name: 'regex with a backreference RE2 rejects',
    state: constraint({ operator: 'REGEX', value: '^(a)\\1$' }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].value',
        message: /lookarounds and backreferences are not supported/,
      },
    ],
  },
  {
    name: 'invalid semver',
    state: constraint({ operator: 'SEMVER_GT', value: '1.2' }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].value',
        message: /^"1\.2" is not a semantic version; use MAJOR\.MINOR\.PATCH/,
      },
    ],
  },
  {
    name: 'invalid date',
    state: constraint({ operator: 'DATE_AFTER', value: 'next tuesday' }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].value',
        message: /^"next tuesday" is not a date; use ISO 8601/,
      },
    ],
  },
  {
    name: 'number operator with text',
    state: constraint({ operator: 'NUM_GT', value: 'ten' }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].value',
        message: /^"ten" is not a number$/,
      },
    ],
  },
  {
    name: 'invalid CIDR entry',
    state: constraint({ operator: 'IN_CIDR', values: ['10.0.0.0/8', '10.0.0.0/33'] }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].values[1]',
        message: /^"10\.0\.0\.0\/33" is not an IP address or CIDR range/,
      },
    ],
  },
  {
    name: 'IN without values',
    state: constraint({ values: [] }),
    problems: [
      {
        path: 'features[0].strategies[0].constraints[0].values',
        message: /IN needs at least one non-empty value/,
      },
    ],
  },
  {
    name: 'missing segment',
    state: withStrategy({ name: 'default', segments: [1, 2] }),
    problems: [
      { path: 'features[0].strategies[0].segments[1]', message: /^segment 2 does not exist/ },
    ],
  },
  {
    name: 'variant weights that are negative or sum to zero',
    state: withFeatures({
      name: 'f',
      enabled: true,
      strategies: [],
      variants: [
        { name: 'a', weight: -1 },
        { name: 'b', weight: 0 },
      ],
    }),
    problems: [
      {
        path: 'features[0].variants[0].weight',
        message: /^weight -1 must be a whole number, 0 or more$/,
      },
      { path: 'features[0].variants', message: /^variant weights add up to 0/ },
    ],
  },
  {
    name: 'json payload that does not parse',
    state: withStrategy({
      name: 'default',
      variants: [{ name: 'a', weight: 1, payload: { type: 'json', value: '{' } }],
    }),
    problems: [
      {
        path: 'features[0].strategies[0].variants[0].payload.value',
        message: /^payload of type json is not valid JSON$/,
      },
    ],
  },
  {
    name: 'missing parent',
    state: withFeatures({
      name: 'child',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'ghost' }],
    }),
    problems: [
      {
        path: 'features[0].dependencies[0].feature',
        message: /^parent flag "ghost" does not exist/,
      },
    ],
  },
  {
    name: 'dependency cycle',
    state: withFeatures(
      { name: 'a', enabled: true, strategies: [], dependencies: [{ feature: 'b' }] },
      { name: 'b', enabled: true, strategies: [], dependencies: [{ feature: 'a' }] },
    ),
    problems: [
      {
        path: 'features[0].dependencies[0].feature',
        message: /parent flag "b" has dependencies of its own/,
      },
      {
        path: 'features[1].dependencies[0].feature',
        message: /parent flag "a" has dependencies of its own/,
      },
      { path: 'features[0].dependencies', message: /^dependency cycle: "a" -> "b" -> "a"$/ },
    ],
  },
  {
    name: 'self dependency',
    state: withFeatures({
      name: 'a',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'a' }],
    }),
    problems: [
      {
        path: 'features[0].dependencies[0].feature',
        message: /^flag "a" cannot depend on itself$/,
      },
      { path: 'features[0].dependencies', message: /^dependency cycle: "a" -> "a"$/ },
    ],
  },
]

for (const { name, state, problems } of cases) {
  t.test(name, async (t) => {
    const found = validateFlags(state)
    t.equal(found.length, problems.length, JSON.stringify(found))
    problems.forEach((expected, i) => {
      t.equal(found[i]?.path, expected.path)
      t.match(found[i]?.message, expected.message)
    })
  })
}

import t from 'tap'
import type { ClientFeaturesDelta, ClientFeaturesState, UnleashContext } from '../src/index.js'
import { compileFlags, evaluateAll, getVariant, isEnabled } from '../src/index.js'
import { readSpecFiles } from './fixtures/spec-dir.js'

const files = readSpecFiles()
let enabledCases = 0
let variantCases = 0

for (const { file, spec } of files) {
  const compiled = compileFlags(spec.state as ClientFeaturesState | ClientFeaturesDelta)
  for (const test of spec.tests ?? []) {
    enabledCases++
    t.test(`${file} / ${test.description}`, async (t) => {
      t.equal(
        isEnabled(compiled, test.toggleName, test.context as UnleashContext),
        test.expectedResult,
      )
      const toggle = evaluateAll(compiled, test.context as UnleashContext).find(
        (toggle) => toggle.name === test.toggleName,
      )
      t.equal(toggle !== undefined, test.expectedResult, 'evaluateAll agrees')
    })
  }
  for (const test of spec.variantTests ?? []) {
    variantCases++
    t.test(`${file} / ${test.description}`, async (t) => {
      const actual = getVariant(compiled, test.toggleName, test.context as UnleashContext)
      t.equal(
        actual.featureEnabled,
        actual.feature_enabled,
        'featureEnabled mirrors feature_enabled',
      )
      const { featureEnabled: _mirror, payload, ...rest } = actual
      const comparable = 'payload' in test.expectedResult ? { ...rest, payload } : rest
      t.same(comparable, test.expectedResult)
      t.strictSame(Object.keys(comparable).sort(), Object.keys(test.expectedResult).sort())
      const toggle = evaluateAll(compiled, test.context as UnleashContext).find(
        (toggle) => toggle.name === test.toggleName,
      )
      if (actual.feature_enabled) t.same(toggle?.variant, actual, 'evaluateAll agrees')
      else t.equal(toggle, undefined, 'evaluateAll leaves the flag out')
    })
  }
}

t.test('the specification has the expected number of cases', async (t) => {
  t.equal(files.length, 22)
  t.equal(enabledCases, 227)
  t.equal(variantCases, 52)
})

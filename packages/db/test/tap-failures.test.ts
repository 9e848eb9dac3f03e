import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { failedResults, tapFailures } from '../src/testing/tap-failures.js'

// What tap 21 wrote for test/fixtures/failing-tests.mjs (how to regenerate it is in that file).
const failingTap = readFileSync(new URL('fixtures/failing-tests.tap', import.meta.url), 'utf8')

t.test('each failure once, under the path of its subtests, with its diagnostics', async (t) => {
  const failures = tapFailures(failingTap)
  t.equal(failures.length, 3, 'the three that failed')
  const [assertion, thrown, timeout] = failures
  t.match(assertion, /^not ok: outer > inner > two is three\n/)
  t.match(assertion, /lineNumber: 11\n/, 'where it failed')
  t.match(assertion, /--- expected\n\s+\+\+\+ actual\n[\s\S]*-3\n\s+\+2/, 'and the diff')
  t.notMatch(assertion, /stack:/, 'the stack repeats `at`, so it is left out')
  t.match(thrown, /^not ok: throws between assertions > timed out waiting for the thing\n/)
  t.match(timeout, /^not ok: runs past its timeout > timeout!\n\s+expired: runs past its timeout/)
  t.notMatch(failures.join('\n'), /not ok: outer\n|not ok: passes/, 'no passing or parent test')
})

t.test('a passing file has no failures', async (t) => {
  t.same(
    tapFailures('TAP version 14\n# Subtest: a\n    ok 1 - fine\n    1..1\nok 1 - a\n1..1\n'),
    [],
  )
})

t.test('failedResults reads the results this run wrote, and only those', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tap-results-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'test', 'routes'), { recursive: true })
  const since = Date.now() - 1000
  writeFileSync(join(dir, 'test', 'routes', 'a.test.ts.tap'), failingTap)
  writeFileSync(join(dir, 'test', 'b.test.ts.tap'), 'TAP version 14\nok 1 - b\n1..1\n')
  // A failure from an earlier run (the other database's pass) is not this run's.
  const old = join(dir, 'test', 'old.test.ts.tap')
  writeFileSync(old, failingTap)
  utimesSync(old, new Date(since - 60_000), new Date(since - 60_000))

  const found = failedResults(dir, since)
  t.same(
    found.map((result) => result.file),
    ['test/routes/a.test.ts'],
  )
  t.equal(found[0]?.failures.length, 3)
  t.same(failedResults(join(dir, 'missing'), since), [], 'no results folder, nothing to say')
})

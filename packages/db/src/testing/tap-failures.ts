import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/** How many lines of a failure's diagnostics are kept: the diff and the source, not the stack. */
const diagnosticLines = 24

/**
 * The failures in one test file's TAP output, each as the path of subtests down to the failed
 * assertion and the start of its YAML diagnostics. A CI log keeps only its tail, and with many
 * files passing the failure itself scrolls out of it; this is printed again at the end.
 */
export function tapFailures(tap: string): string[] {
  const failures: string[] = []
  // The open subtests by indentation (TAP nests a subtest four spaces deeper), and whether a
  // failure inside each was reported already.
  const subtests: { name: string; reported: boolean }[] = []
  const failedSubtests = new Set<string>()
  const lines = tap.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const depth = (line.length - line.trimStart().length) / 4
    const subtest = /^\s*# Subtest: (.*)$/.exec(line)
    if (subtest) {
      subtests.length = depth
      subtests[depth] = { name: subtest[1]!, reported: false }
      continue
    }
    const failed = /^\s*not ok \d+ - (.*?)(?: # time=.*)?$/.exec(line)
    if (!failed) continue
    const closing = subtests[depth]?.name === failed[1] ? subtests[depth] : undefined
    subtests.length = depth
    const path = [...subtests.map((open) => open.name), failed[1]!].join(' > ')
    // A subtest fails because of what failed inside it, said already. tap says a subtest that
    // timed out once more at the end, outside it.
    if (closing?.reported) {
      failedSubtests.add(path)
      continue
    }
    if (failedSubtests.has(path)) continue
    const block: string[] = []
    if (lines[index + 1]?.trim() === '---') {
      // The YAML sits two spaces in from the assertion; the stack repeats `at`, so it goes.
      const indent = depth * 4 + 2
      let inStack = false
      for (let next = index + 2; next < lines.length; next++) {
        const text = lines[next]!.slice(indent)
        if (text.trim() === '...') break
        const key = /^\S/.test(text)
        if (key) inStack = text.startsWith('stack:')
        if (!inStack) block.push(`    ${text}`)
      }
    }
    failures.push([`not ok: ${path}`, ...block.slice(0, diagnosticLines)].join('\n'))
    for (const open of subtests) open.reported = true
  }
  return failures
}

/** Every `.tap` result under `dir` written since `since` (ms) that has a failure, with them. */
export function failedResults(dir: string, since: number): { file: string; failures: string[] }[] {
  const found: { file: string; failures: string[] }[] = []
  const visit = (folder: string) => {
    let entries: string[]
    try {
      entries = readdirSync(folder)
    } catch {
      return
    }
    for (const entry of entries.sort()) {
      const path = join(folder, entry)
      const stat = statSync(path)
      if (stat.isDirectory()) visit(path)
      else if (entry.endsWith('.tap') && stat.mtimeMs >= since) {
        const failures = tapFailures(readFileSync(path, 'utf8'))
        if (failures.length > 0)
          found.push({ file: relative(dir, path).replace(/\.tap$/, ''), failures })
      }
    }
  }
  visit(dir)
  return found
}

export interface Semver {
  major: number
  minor: number
  patch: number
  prerelease: string[]
}

const MAX_LENGTH = 256
const NUMERIC = '0|[1-9]\\d*'
const NON_NUMERIC = '\\d*[a-zA-Z-][a-zA-Z0-9-]*'
const PRERELEASE_ID = `(?:${NON_NUMERIC}|${NUMERIC})`
const BUILD_ID = '[a-zA-Z0-9-]+'
const FULL = new RegExp(
  `^v?(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
)
const DIGITS = /^[0-9]+$/

/** `major.minor.patch` and nothing else, the common case, without the regular expression. */
const parsePlain = (version: string): Semver | null => {
  const parts = [0, 0, 0]
  let part = 0
  let start = 0
  for (let i = 0; i <= version.length; i++) {
    const code = version.charCodeAt(i)
    if (code >= 48 && code <= 57) {
      parts[part] = (parts[part] as number) * 10 + (code - 48)
      continue
    }
    const digits = i - start
    // Leading zeros and long numbers take the full path, which rejects or range-checks them.
    if (digits === 0 || digits > 15 || (digits > 1 && version.charCodeAt(start) === 48)) return null
    if (i === version.length) break
    if (code !== 46 || part === 2) return null
    part++
    start = i + 1
  }
  if (part !== 2) return null
  return {
    major: parts[0] as number,
    minor: parts[1] as number,
    patch: parts[2] as number,
    prerelease: [],
  }
}

/** Parses like `new SemVer(version)` of the `semver` package (strict mode); null when it throws. */
export const parseSemver = (version: unknown): Semver | null => {
  if (typeof version !== 'string' || version.length > MAX_LENGTH) return null
  const plain = parsePlain(version)
  if (plain) return plain
  const match = FULL.exec(version.trim())
  if (!match) return null
  const major = Number(match[1])
  const minor = Number(match[2])
  const patch = Number(match[3])
  if (
    major > Number.MAX_SAFE_INTEGER ||
    minor > Number.MAX_SAFE_INTEGER ||
    patch > Number.MAX_SAFE_INTEGER
  ) {
    return null
  }
  return { major, minor, patch, prerelease: match[4] ? match[4].split('.') : [] }
}

const compareIdentifiers = (a: string, b: string): number => {
  const aNumeric = DIGITS.test(a)
  const bNumeric = DIGITS.test(b)
  if (aNumeric && bNumeric) {
    const x = Number(a)
    const y = Number(b)
    return x === y ? 0 : x < y ? -1 : 1
  }
  if (a === b) return 0
  if (aNumeric) return -1
  if (bNumeric) return 1
  return a < b ? -1 : 1
}

/** Semver precedence (build metadata ignored), as `semver.compare`. */
export const compareSemver = (a: Semver, b: Semver): number => {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1
  const ap = a.prerelease
  const bp = b.prerelease
  if (ap.length && !bp.length) return -1
  if (!ap.length && bp.length) return 1
  for (let i = 0; ; i++) {
    const x = ap[i]
    const y = bp[i]
    if (x === undefined && y === undefined) return 0
    if (y === undefined) return 1
    if (x === undefined) return -1
    const order = compareIdentifiers(x, y)
    if (order !== 0) return order
  }
}

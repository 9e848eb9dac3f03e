/**
 * Rules every request value obeys, whatever its route's schema says, because the database or
 * the logs cannot take anything else. PostgreSQL refuses NUL in text and jsonb and an unpaired
 * surrogate in jsonb; control characters forge log lines and break terminals; a number past
 * 2^53 is not an id JavaScript can hold, and Infinity (1e309 in JSON, `Infinity` in a query)
 * fits no column.
 */

/** What one request value broke, in the shape Ajv reports its own issues. */
export interface RequestValueIssue {
  instancePath: string
  /** Names the rule, as Ajv's schemaPath names the schema keyword. */
  schemaPath: string
  keyword: 'text' | 'finite'
  message: string
  params: Record<string, unknown>
}

// C0 controls except tab, line feed and carriage return; DEL and the C1 controls; and, with the
// u flag, a surrogate that is not half of a pair.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const forbiddenCharacter = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\p{Cs}]/u

/** Reports at most this many issues: enough to act on, small enough for a problem document. */
const maxIssues = 20

/** Every string (values and object keys) and number in `value` that breaks a rule above. */
export function requestValueIssues(value: unknown): RequestValueIssue[] {
  const issues: RequestValueIssue[] = []
  visit(value, undefined, issues)
  return issues
}

/**
 * Where a value sits, as a chain from its parent. The JSON Pointer is built only for a value
 * that breaks a rule: building one for each of the 100,000 values of a big import held the
 * event loop for longer than checking them.
 */
interface Place {
  parent: Place | undefined
  /** An array index, or an object key not yet escaped. */
  step: number | string
}

function pointer(place: Place | undefined): string {
  const steps: string[] = []
  for (let at = place; at; at = at.parent) {
    steps.push(typeof at.step === 'number' ? String(at.step) : escapePointer(at.step))
  }
  return steps.length === 0 ? '' : `/${steps.reverse().join('/')}`
}

function visit(value: unknown, place: Place | undefined, issues: RequestValueIssue[]): void {
  if (issues.length >= maxIssues) return
  if (typeof value === 'string') {
    const issue = textIssue(value, place)
    if (issue) issues.push(issue)
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      issues.push({
        instancePath: pointer(place),
        schemaPath: '#/finite',
        keyword: 'finite',
        message: 'must be a finite number',
        params: {},
      })
    }
  } else if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      visit(value[index], { parent: place, step: index }, issues)
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const keyPlace = { parent: place, step: key }
      const keyIssue = textIssue(key, keyPlace)
      if (keyIssue) issues.push({ ...keyIssue, message: `the field name ${keyIssue.message}` })
      visit((value as Record<string, unknown>)[key], keyPlace, issues)
    }
  }
}

function textIssue(text: string, place: Place | undefined): RequestValueIssue | undefined {
  const found = forbiddenCharacter.exec(text)
  if (!found) return undefined
  const codePoint = found[0].codePointAt(0) ?? 0
  const name = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`
  return {
    instancePath: pointer(place),
    schemaPath: '#/text',
    keyword: 'text',
    message:
      codePoint >= 0xd800 && codePoint <= 0xdfff
        ? `must be well-formed Unicode: it has an unpaired surrogate (${name}) at character ${found.index}`
        : `must not contain control characters: it has ${name} at character ${found.index}`,
    params: { codePoint: name, index: found.index },
  }
}

/** JSON Pointer escaping, so a path names the field even when its name has `/` or `~`. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

// Values, not schemas: an integer in a default or an example needs no bounds.
const valueKeywords = new Set(['enum', 'const', 'default', 'examples', 'description'])
// Maps from a name (a field's, a definition's) to a schema.
const schemaMapKeywords = new Set(['properties', 'patternProperties', '$defs', 'definitions'])

/**
 * A copy of a request schema in which every integer without bounds of its own is a safe
 * integer: ids past 2^53 (or past PostgreSQL's bigint) are refused by validation, not by the
 * database after the handler ran.
 */
export function withSafeIntegers<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item) => withSafeIntegers(item)) as T
  if (schema === null || typeof schema !== 'object') return schema
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (valueKeywords.has(key)) copy[key] = value
    else if (schemaMapKeywords.has(key) && value !== null && typeof value === 'object') {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([name, member]) => [name, withSafeIntegers(member)]),
      )
    } else copy[key] = withSafeIntegers(value)
  }
  const type = copy.type
  if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) {
    if (copy.maximum === undefined && copy.exclusiveMaximum === undefined) {
      copy.maximum = Number.MAX_SAFE_INTEGER
    }
    if (copy.minimum === undefined && copy.exclusiveMinimum === undefined) {
      copy.minimum = -Number.MAX_SAFE_INTEGER
    }
  }
  return copy as T
}

/**
 * A token's subject names a person or a pipeline. Two spellings that a reader cannot tell apart
 * (`jane-x`, `JANE-X`, the full-width `ｊａｎｅ-ｘ`, `jane-x` with a zero-width space) are the same
 * person, so every comparison of identities goes through `canonicalSubject`. Subjects are stored
 * and shown as written; only comparisons use the canonical form.
 *
 * The form is NFKC case folding (Unicode's identifier caseless match, UAX #31 / UTS #39):
 * compatibility-normalise, drop default-ignorable code points, fold case, normalise again.
 * JavaScript has no full case fold; lower-, upper-, then lower-casing gives the same classes for
 * the letters that matter here (ß and ẞ become ss, final sigma σ, the Kelvin sign k).
 */
export function canonicalSubject(subject: string): string {
  return subject
    .normalize('NFKC')
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
}

/** Whether two subjects name the same identity. */
export function sameSubject(a: string, b: string): boolean {
  return canonicalSubject(a) === canonicalSubject(b)
}

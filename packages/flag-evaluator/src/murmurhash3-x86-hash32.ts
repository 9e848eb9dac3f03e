/**
 * MurmurHash3, x86 32-bit, exactly as the `murmurhash3js` package that unleash-client uses: each
 * UTF-16 code unit contributes only its low byte and the length is counted in code units. It does
 * not UTF-8 encode, so non-ASCII input hashes differently from a byte-oriented implementation, and
 * we must do the same to bucket users like the Node SDK does.
 */
export const murmurhash3X86Hash32 = (key: string, seed = 0): number =>
  murmurhash3X86Hash32Rest(seed | 0, 0, 0, 0, key)

/**
 * The hash state after a fixed prefix such as `"<groupId>:"`: whole 4-byte blocks are mixed into
 * `h1`, the last 0–3 bytes wait in `pending`. Hashing `prefix + key` then only reads `key`.
 */
export interface HashPrefix {
  readonly h1: number
  readonly pending: number
  readonly pendingBytes: number
  readonly length: number
}

const mixBlock = (h1: number, block: number): number => {
  let k1 = Math.imul(block, 0xcc9e2d51)
  k1 = (k1 << 15) | (k1 >>> 17)
  k1 = Math.imul(k1, 0x1b873593)
  h1 ^= k1
  h1 = (h1 << 13) | (h1 >>> 19)
  return (Math.imul(h1, 5) + 0xe6546b64) | 0
}

export const hashPrefix = (prefix: string, seed = 0): HashPrefix => {
  const whole = prefix.length & ~3
  let h1 = seed | 0
  for (let i = 0; i < whole; i += 4) {
    h1 = mixBlock(
      h1,
      (prefix.charCodeAt(i) & 0xff) |
        ((prefix.charCodeAt(i + 1) & 0xff) << 8) |
        ((prefix.charCodeAt(i + 2) & 0xff) << 16) |
        ((prefix.charCodeAt(i + 3) & 0xff) << 24),
    )
  }
  let pending = 0
  for (let i = whole; i < prefix.length; i++) {
    pending |= (prefix.charCodeAt(i) & 0xff) << ((i - whole) * 8)
  }
  return { h1, pending, pendingBytes: prefix.length - whole, length: prefix.length }
}

/** `murmurhash3X86Hash32(prefix + key, seed)` for the prefix and seed `hashPrefix` was given. */
export const murmurhash3X86Hash32After = (prefix: HashPrefix, key: string): number =>
  murmurhash3X86Hash32Rest(prefix.h1, prefix.pending, prefix.pendingBytes, prefix.length, key)

const murmurhash3X86Hash32Rest = (
  seedState: number,
  pendingState: number,
  pendingBytes: number,
  prefixLength: number,
  key: string,
): number => {
  const length = key.length
  let h1 = seedState
  let pending = pendingState
  let i = 0
  // Complete the prefix's unfinished block with the first bytes of the key.
  if (pendingBytes > 0) {
    let filled = pendingBytes
    for (; filled < 4 && i < length; filled++, i++) {
      pending |= (key.charCodeAt(i) & 0xff) << (filled * 8)
    }
    if (filled < 4) return finish(h1, pending, prefixLength + length)
    h1 = mixBlock(h1, pending)
    pending = 0
  }
  const whole = i + ((length - i) & ~3)
  for (; i < whole; i += 4) {
    let k1 =
      (key.charCodeAt(i) & 0xff) |
      ((key.charCodeAt(i + 1) & 0xff) << 8) |
      ((key.charCodeAt(i + 2) & 0xff) << 16) |
      ((key.charCodeAt(i + 3) & 0xff) << 24)
    k1 = Math.imul(k1, 0xcc9e2d51)
    k1 = (k1 << 15) | (k1 >>> 17)
    k1 = Math.imul(k1, 0x1b873593)
    h1 ^= k1
    h1 = (h1 << 13) | (h1 >>> 19)
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0
  }
  for (let shift = 0; i < length; i++, shift += 8) {
    pending |= (key.charCodeAt(i) & 0xff) << shift
  }
  return finish(h1, pending, prefixLength + length)
}

const finish = (state: number, pending: number, length: number): number => {
  let h1 = state
  if (pending !== 0) {
    let k1 = Math.imul(pending, 0xcc9e2d51)
    k1 = (k1 << 15) | (k1 >>> 17)
    k1 = Math.imul(k1, 0x1b873593)
    h1 ^= k1
  }
  h1 ^= length
  h1 ^= h1 >>> 16
  h1 = Math.imul(h1, 0x85ebca6b)
  h1 ^= h1 >>> 13
  h1 = Math.imul(h1, 0xc2b2ae35)
  h1 ^= h1 >>> 16
  return h1 >>> 0
}

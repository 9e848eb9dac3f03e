/**
 * MurmurHash3, x86 32-bit, exactly as the `murmurhash3js` package that unleash-client uses: each
 * UTF-16 code unit contributes only its low byte and the length is counted in code units. It does
 * not UTF-8 encode, so non-ASCII input hashes differently from a byte-oriented implementation, and
 * we must do the same to bucket users like the Node SDK does.
 */
export const murmurhash3X86Hash32 = (key: string, seed = 0): number => {
  const length = key.length
  const remainder = length & 3
  const bytes = length - remainder
  let h1 = seed | 0
  let i = 0
  for (; i < bytes; i += 4) {
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
  if (remainder > 0) {
    let k1 = 0
    if (remainder === 3) k1 ^= (key.charCodeAt(i + 2) & 0xff) << 16
    if (remainder >= 2) k1 ^= (key.charCodeAt(i + 1) & 0xff) << 8
    k1 ^= key.charCodeAt(i) & 0xff
    k1 = Math.imul(k1, 0xcc9e2d51)
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

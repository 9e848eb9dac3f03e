/**
 * An IPv4 or IPv6 address with its prefix length, parsed with the same acceptance rules as the
 * `ip-address` package (10.x) that unleash-client uses, so that the same strings are valid.
 * IPv4 is one 32-bit word; IPv6 is eight 16-bit groups.
 */
export interface IpAddress {
  family: 4 | 6
  words: number[]
  prefix: number
}

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`)
const IPV6_SUFFIX = /\/\d{1,3}(?=%|$)/
const IPV6_BAD_CHARACTERS = /[^0-9a-f:/%]/i
const IPV6_BAD_SHAPE = /([0-9a-f]{5,}|:{3,}|[^:]:$|^:[^:]|\/$)/i
const LEADING_ZERO = /^0\d/

const DOT = 46
const SLASH = 47
const ZERO = 48
const digit = (code: number): number => (code >= ZERO && code <= ZERO + 9 ? code - ZERO : -1)

/**
 * A dotted quad with an optional `/0`–`/32` suffix. Hand-written for speed, it accepts what the
 * ip-address rules do: four decimal octets of at most 255, no leading zeros, nothing else.
 */
export const parseIpv4 = (input: string): IpAddress | null => {
  let end = input.length
  let prefix = 32
  const last = end > 1 ? digit(input.charCodeAt(end - 1)) : -1
  if (last !== -1) {
    if (input.charCodeAt(end - 2) === SLASH) {
      prefix = last
      end -= 2
    } else if (end > 2 && input.charCodeAt(end - 3) === SLASH) {
      const tens = digit(input.charCodeAt(end - 2))
      if (tens !== -1) {
        prefix = tens * 10 + last
        if (prefix > 32) return null
        end -= 3
      }
    }
  }
  if (end > 15) return null
  let word = 0
  let octets = 0
  let i = 0
  for (;;) {
    const start = i
    let octet = 0
    for (let d = digit(input.charCodeAt(i)); i < end && d !== -1; d = digit(input.charCodeAt(i))) {
      octet = octet * 10 + d
      i++
    }
    const length = i - start
    if (length === 0 || length > 3 || octet > 255) return null
    if (length > 1 && input.charCodeAt(start) === ZERO) return null
    word = word * 256 + octet
    octets++
    if (i === end) break
    if (input.charCodeAt(i) !== DOT || octets === 4) return null
    i++
  }
  return octets === 4 ? { family: 4, words: [word], prefix } : null
}

export const parseIpv6 = (input: string): IpAddress | null => {
  let address = input
  let prefix = 128
  const suffix = IPV6_SUFFIX.exec(address)
  if (suffix) {
    prefix = Number.parseInt(suffix[0].slice(1), 10)
    if (prefix > 128) return null
    address = address.replace(IPV6_SUFFIX, '')
  }
  if (address.includes('/')) return null
  const zoneStart = address.indexOf('%')
  if (zoneStart !== -1 && /^.*$/.test(address.slice(zoneStart))) {
    address = address.slice(0, zoneStart)
  }
  if (address.length > 45) return null
  if (address.includes('.')) {
    const groups = address.split(':')
    const last = groups[groups.length - 1] ?? ''
    const octets = last.split('.')
    if (
      octets.length === 4 &&
      octets.every((octet) => /^\d{1,3}$/.test(octet)) &&
      octets.some((octet) => LEADING_ZERO.test(octet))
    ) {
      return null
    }
    if (IPV4.test(last)) {
      const hex = octets.map((octet) => Number(octet).toString(16).padStart(2, '0'))
      groups[groups.length - 1] = `${hex[0]}${hex[1]}:${hex[2]}${hex[3]}`
      address = groups.join(':')
    }
  }
  if (IPV6_BAD_CHARACTERS.test(address) || IPV6_BAD_SHAPE.test(address)) return null
  const halves = address.split('::')
  let groups: string[]
  if (halves.length === 2) {
    const first = halves[0] === '' ? [] : (halves[0] ?? '').split(':')
    const last = halves[1] === '' ? [] : (halves[1] ?? '').split(':')
    const elided = 8 - (first.length + last.length)
    if (elided <= 0) return null
    groups = [...first, ...Array.from({ length: elided }, () => '0'), ...last]
  } else if (halves.length === 1) {
    groups = address.split(':')
  } else {
    return null
  }
  if (groups.length !== 8) return null
  const words = groups.map((group) => Number.parseInt(group, 16))
  if (words.some((word) => Number.isNaN(word))) return null
  return { family: 6, words, prefix }
}

const sameAddress = (a: IpAddress, b: IpAddress): boolean =>
  a.words.every((word, i) => word === b.words[i])

const samePrefix = (a: IpAddress, b: IpAddress, bits: number): boolean => {
  const wordBits = a.family === 4 ? 32 : 16
  let remaining = bits
  for (let i = 0; remaining > 0; i++) {
    const take = Math.min(remaining, wordBits)
    const shift = wordBits - take
    // Words are unsigned and below 2^32, and shift is at most 31, so >>> is an exact division.
    const x = (a.words[i] ?? 0) >>> shift
    const y = (b.words[i] ?? 0) >>> shift
    if (x !== y) return false
    remaining -= take
  }
  return true
}

/** `address.isInSubnet(range)` of ip-address: the address's network lies inside the range. */
export const isInSubnet = (address: IpAddress, range: IpAddress): boolean =>
  address.family === range.family &&
  address.prefix >= range.prefix &&
  samePrefix(address, range, range.prefix)

/** The IN_CIDR rule of unleash-client: same address (prefixes ignored) or inside the range. */
export const matchesRange = (address: IpAddress, range: IpAddress): boolean =>
  address.family === range.family && (sameAddress(address, range) || isInSubnet(address, range))

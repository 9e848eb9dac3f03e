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
const IPV4_SUFFIX = /\/\d{1,2}$/
const IPV6_SUFFIX = /\/\d{1,3}(?=%|$)/
const IPV6_BAD_CHARACTERS = /[^0-9a-f:/%]/i
const IPV6_BAD_SHAPE = /([0-9a-f]{5,}|:{3,}|[^:]:$|^:[^:]|\/$)/i
const LEADING_ZERO = /^0\d/

const parseIpv4Words = (address: string): number | null => {
  if (address.length > 15) return null
  const octets = address.split('.')
  if (octets.some((octet) => LEADING_ZERO.test(octet))) return null
  if (!IPV4.test(address)) return null
  return octets.reduce((word, octet) => word * 256 + Number(octet), 0)
}

export const parseIpv4 = (input: string): IpAddress | null => {
  let address = input
  let prefix = 32
  const suffix = IPV4_SUFFIX.exec(address)
  if (suffix) {
    prefix = Number.parseInt(suffix[0].slice(1), 10)
    if (prefix > 32) return null
    address = address.replace(IPV4_SUFFIX, '')
  }
  const word = parseIpv4Words(address)
  return word === null ? null : { family: 4, words: [word], prefix }
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
    const x = Math.floor((a.words[i] ?? 0) / 2 ** shift)
    const y = Math.floor((b.words[i] ?? 0) / 2 ** shift)
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

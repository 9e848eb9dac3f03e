import { Address4, Address6 } from 'ip-address'
import semver from 'semver'
import t from 'tap'
import { isInSubnet, matchesRange, parseIpv4, parseIpv6 } from '../src/ip-address.js'
import { compareSemver, parseSemver } from '../src/semver.js'
import { picker, seededRandom } from './fixtures/random-flag-state.js'

const pick = picker(seededRandom(7))

const ipCandidates = (): string[] => {
  const fixed = [
    '',
    '1.2.3.4',
    '01.2.3.4',
    '1.2.3.04',
    '255.255.255.255',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4/0',
    '1.2.3.4/32',
    '1.2.3.4/33',
    '1.2.3.4/033',
    '1.2.3.4/',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '::',
    '::1',
    ':::',
    '1::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3::4:5:6:7:8',
    '1::2::3',
    ':1::',
    '1:',
    'fe80::1%eth0',
    'fe80::1%',
    'fe80::1%eth0/64',
    'fe80::1/64%eth0',
    '::ffff:1.2.3.4',
    '::ffff:1.2.3.04',
    '::ffff:1.2.3.400',
    '2001:DB8::1',
    '2001:db8::/32',
    '2001:db8::/129',
    '::/0/1',
    '12345::',
    'g::1',
    '1.2.3.4.5',
    '1.2.3.4\n',
    'fe80::1%a\nb',
    '0:0:0:0:0:0:0:0',
    '::ffff:1.2.3.4/120',
    '1.2.3.4/8',
  ]
  const parts = [
    '1',
    '0',
    '255',
    '10',
    'ff',
    'db8',
    '2001',
    '',
    ':',
    '::',
    '.',
    '/',
    '24',
    '%',
    'x',
  ]
  const generated = Array.from({ length: 3000 }, () => pick.some(parts, 10).join(''))
  return [...fixed, ...generated]
}

t.test('IPv4 and IPv6 acceptance matches ip-address', async (t) => {
  let mismatches = 0
  for (const candidate of ipCandidates()) {
    if ((parseIpv4(candidate) !== null) !== Address4.isValid(candidate)) {
      mismatches++
      t.fail(`IPv4 ${JSON.stringify(candidate)}`)
    }
    if ((parseIpv6(candidate) !== null) !== Address6.isValid(candidate)) {
      mismatches++
      t.fail(`IPv6 ${JSON.stringify(candidate)}`)
    }
  }
  t.equal(mismatches, 0)
})

t.test('dotted quads parse to the address and prefix ip-address reads', async (t) => {
  const octets = ['0', '1', '9', '10', '99', '100', '199', '249', '255', '256', '00', '01', '']
  const suffixes = ['', '', '/0', '/8', '/24', '/32', '/33', '/08', '/', '/123', '//8', ' ', '.']
  let compared = 0
  let valid = 0
  for (let i = 0; i < 5000; i++) {
    const candidate =
      Array.from({ length: pick.chance(0.9) ? 4 : pick.int(3, 5) }, () => pick(octets)).join('.') +
      pick(suffixes)
    const ours = parseIpv4(candidate)
    if ((ours !== null) !== Address4.isValid(candidate)) t.fail(`IPv4 ${JSON.stringify(candidate)}`)
    if (ours) {
      const reference = new Address4(candidate)
      if (
        BigInt(ours.words[0] ?? -1) !== reference.bigInt() ||
        ours.prefix !== reference.subnetMask
      ) {
        t.fail(`IPv4 ${JSON.stringify(candidate)} read as ${ours.words[0]}/${ours.prefix}`)
      }
      valid++
    }
    compared++
  }
  t.equal(compared, 5000)
  t.ok(valid > 250, `${valid} valid addresses compared`)
})

t.test('subnet membership matches ip-address', async (t) => {
  const v4 = [
    '10.0.0.1',
    '10.0.0.0/8',
    '10.0.0.0/16',
    '10.255.0.1/24',
    '11.0.0.0',
    '0.0.0.0/0',
    '192.168.1.7/31',
  ]
  const v6 = [
    '2001:db8::1',
    '2001:db8::/32',
    '2001:db8:1::/48',
    '2001:db9::1',
    '::/0',
    'fe80::1%eth0/10',
  ]
  for (const a of v4) {
    for (const b of v4) {
      const ours = isInSubnet(parseIpv4(a)!, parseIpv4(b)!)
      t.equal(ours, new Address4(a).isInSubnet(new Address4(b)), `${a} in ${b}`)
      const same = new Address4(a).correctForm() === new Address4(b).correctForm()
      t.equal(matchesRange(parseIpv4(a)!, parseIpv4(b)!), same || ours, `${a} matches ${b}`)
    }
  }
  for (const a of v6) {
    for (const b of v6) {
      t.equal(
        isInSubnet(parseIpv6(a)!, parseIpv6(b)!),
        new Address6(a).isInSubnet(new Address6(b)),
        `${a} in ${b}`,
      )
    }
  }
})

t.test('semver parsing and ordering match the semver package', async (t) => {
  const parts = [
    '0',
    '1',
    '2',
    '10',
    '01',
    '.',
    '-',
    '+',
    'alpha',
    'beta',
    'rc',
    'v',
    ' ',
    'x',
    '9007199254740993',
  ]
  const fixed = [
    '1.2.3',
    'v1.2.3',
    '=1.2.3',
    ' 1.2.3 ',
    '1.2.3-0a',
    '1.2.3-01',
    '01.2.3',
    '1.2',
    '1.2.3+b.1',
    '1.2.3-',
    '1.2.3-a..b',
    '9007199254740993.0.0',
  ]
  const number = () => pick(['0', '1', '2', '10', '01', '9007199254740993', 'x'])
  const identifier = () => pick(['alpha', 'beta', 'rc', '0', '1', '2', '10', '01', '0a', '-', ''])
  const shaped = () =>
    `${pick(['', '', 'v', ' ', '='])}${number()}.${number()}.${number()}` +
    (pick.chance(0.5)
      ? `-${pick.some(['alpha', 'beta', '1', '2', '10', '01', 'x-y'], 3).join('.')}`
      : '') +
    (pick.chance(0.2) ? `+${identifier()}` : '') +
    (pick.chance(0.1) ? identifier() : '')
  const candidates = [
    ...fixed,
    ...Array.from({ length: 1000 }, () => pick.some(parts, 9).join('')),
    ...Array.from({ length: 3000 }, shaped),
  ]
  let valid = 0
  for (const candidate of candidates) {
    const ours = parseSemver(candidate)
    const theirs = semver.valid(candidate)
    if ((ours !== null) !== (theirs !== null)) t.fail(`validity of ${JSON.stringify(candidate)}`)
    if (ours) valid++
  }
  t.ok(valid > 200, `${valid} valid versions generated`)
  const versions = candidates.filter((c) => semver.valid(c))
  for (let i = 0; i < 3000; i++) {
    const a = pick(versions)
    const b = pick(versions)
    const ours = compareSemver(parseSemver(a)!, parseSemver(b)!)
    if (ours !== semver.compare(a, b)) t.fail(`compare ${a} ${b}`)
  }
  t.equal(compareSemver(parseSemver('1.2.3-beta.2')!, parseSemver('1.2.3-beta.10')!), -1)
  t.equal(compareSemver(parseSemver('1.2.3')!, parseSemver('1.2.3-rc.1')!), 1)
})

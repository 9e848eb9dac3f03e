import { createRequire } from 'node:module'
import t from 'tap'
import { rolloutBucketIn, rolloutGroup, variantBucketIn, variantGroup } from '../src/bucket.js'
import { murmurhash3X86Hash32, rolloutBucket, variantBucket } from '../src/index.js'
import { hashPrefix, murmurhash3X86Hash32After } from '../src/murmurhash3-x86-hash32.js'
import { picker, seededRandom } from './fixtures/random-flag-state.js'

const require = createRequire(import.meta.url)
const reference = require('murmurhash3js') as {
  x86: { hash32: (key: string, seed?: number) => number }
}
const unleashBuckets = require('unleash-client/lib/strategy/util.js') as {
  normalizedStrategyValue: (id: string, groupId: string) => number
  normalizedVariantValue: (id: string, groupId: string, normalizer: number) => number
}

t.test('matches the published MurmurHash3 x86_32 vectors', async (t) => {
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['hello', 0, 613153351],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ]
  for (const [key, seed, expected] of vectors) {
    t.equal(murmurhash3X86Hash32(key, seed), expected, `${JSON.stringify(key)} seed ${seed}`)
  }
})

t.test('hashes non-ASCII text like murmurhash3js: low byte of each UTF-16 unit', async (t) => {
  t.equal(murmurhash3X86Hash32('ø'), murmurhash3X86Hash32('\u00f8'))
  t.equal(murmurhash3X86Hash32('ø'), murmurhash3X86Hash32('\u01f8'), 'only the low byte counts')
  t.not(murmurhash3X86Hash32('ø'), murmurhash3X86Hash32('\u00c3\u00b8'), 'not UTF-8 encoded')
  for (const key of ['ø', '😊', '你好', 'Feature.UTF-8.😊_φriend_你好_🌍:user-1', 'abc\u0000d']) {
    t.equal(murmurhash3X86Hash32(key, 86028157), reference.x86.hash32(key, 86028157), key)
  }
})

t.test('agrees with murmurhash3js and unleash-client buckets on random input', async (t) => {
  const random = seededRandom(20240601)
  const pick = picker(random)
  const alphabet = ['a', 'Z', '0', ':', '-', 'ø', '😊', '你', ' ', '\u0101', '\uffff']
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const id = pick.some(alphabet, 12).join('')
    const group = pick.some(alphabet, 6).join('')
    const seed = Math.floor(random() * 2 ** 32)
    if (murmurhash3X86Hash32(id, seed) !== reference.x86.hash32(id, seed)) {
      t.fail(`hash of ${JSON.stringify(id)} seed ${seed}`)
    }
    if (rolloutBucket(id, group) !== unleashBuckets.normalizedStrategyValue(id, group)) {
      t.fail(`rollout bucket of ${JSON.stringify(group)}:${JSON.stringify(id)}`)
    }
    if (variantBucket(id, group, 1000) !== unleashBuckets.normalizedVariantValue(id, group, 1000)) {
      t.fail(`variant bucket of ${JSON.stringify(group)}:${JSON.stringify(id)}`)
    }
    checked++
  }
  t.equal(checked, 2000)
  t.equal(rolloutBucket('123', 'gr1'), 73)
  t.equal(variantBucket('123', 'gr1', 1000), 796)
})

t.test('a pre-hashed prefix gives the hash of prefix + key for every split', async (t) => {
  const random = seededRandom(77)
  const pick = picker(random)
  const alphabet = ['a', 'Z', '0', ':', '-', 'ø', '😊', '你', '\u0000', '\uffff']
  let checked = 0
  for (let i = 0; i < 3000; i++) {
    const prefix = pick.some(alphabet, 9).join('')
    const key = pick.some(alphabet, 9).join('')
    const seed = Math.floor(random() * 2 ** 32)
    if (
      murmurhash3X86Hash32After(hashPrefix(prefix, seed), key) !==
      murmurhash3X86Hash32(prefix + key, seed)
    ) {
      t.fail(`${JSON.stringify(prefix)} + ${JSON.stringify(key)} seed ${seed}`)
    }
    if (rolloutBucketIn(rolloutGroup(prefix), key) !== rolloutBucket(key, prefix)) {
      t.fail(`rollout bucket of ${JSON.stringify(prefix)}:${JSON.stringify(key)}`)
    }
    if (variantBucketIn(variantGroup(prefix), key, 1000) !== variantBucket(key, prefix, 1000)) {
      t.fail(`variant bucket of ${JSON.stringify(prefix)}:${JSON.stringify(key)}`)
    }
    checked++
  }
  t.equal(checked, 3000)
})

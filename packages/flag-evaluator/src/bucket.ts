import {
  type HashPrefix,
  hashPrefix,
  murmurhash3X86Hash32,
  murmurhash3X86Hash32After,
} from './murmurhash3-x86-hash32.js'

const STRATEGY_SEED = 0
const VARIANT_SEED = 86028157

/** The 1..100 bucket a stickiness value falls in for a rollout group. */
export const rolloutBucket = (stickinessValue: string, groupId: string): number =>
  (murmurhash3X86Hash32(`${groupId}:${stickinessValue}`, STRATEGY_SEED) % 100) + 1

/** The 1..totalWeight target a stickiness value points at among weighted variants. */
export const variantBucket = (stickinessValue: string, groupId: string, totalWeight: number) =>
  (murmurhash3X86Hash32(`${groupId}:${stickinessValue}`, VARIANT_SEED) % totalWeight) + 1

/** A group id hashed once at compile time, so a bucket only hashes the stickiness value. */
export type BucketGroup = HashPrefix

export const rolloutGroup = (groupId: string): BucketGroup =>
  hashPrefix(`${groupId}:`, STRATEGY_SEED)

export const variantGroup = (groupId: string): BucketGroup =>
  hashPrefix(`${groupId}:`, VARIANT_SEED)

/** `rolloutBucket(stickinessValue, groupId)` for a group made by `rolloutGroup(groupId)`. */
export const rolloutBucketIn = (group: BucketGroup, stickinessValue: string): number =>
  (murmurhash3X86Hash32After(group, stickinessValue) % 100) + 1

/** `variantBucket(stickinessValue, groupId, totalWeight)` for a group from `variantGroup`. */
export const variantBucketIn = (group: BucketGroup, stickinessValue: string, totalWeight: number) =>
  (murmurhash3X86Hash32After(group, stickinessValue) % totalWeight) + 1

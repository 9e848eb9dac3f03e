import { murmurhash3X86Hash32 } from './murmurhash3-x86-hash32.js'

const STRATEGY_SEED = 0
const VARIANT_SEED = 86028157

/** The 1..100 bucket a stickiness value falls in for a rollout group. */
export const rolloutBucket = (stickinessValue: string, groupId: string): number =>
  (murmurhash3X86Hash32(`${groupId}:${stickinessValue}`, STRATEGY_SEED) % 100) + 1

/** The 1..totalWeight target a stickiness value points at among weighted variants. */
export const variantBucket = (stickinessValue: string, groupId: string, totalWeight: number) =>
  (murmurhash3X86Hash32(`${groupId}:${stickinessValue}`, VARIANT_SEED) % totalWeight) + 1

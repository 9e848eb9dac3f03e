import type { Constraint, Dependency, Payload, VariantDefinition } from '@ringmaster/flag-evaluator'

export type { Constraint, Dependency, Payload, VariantDefinition }

export const flagTypes = [
  'release',
  'experiment',
  'operational',
  'kill-switch',
  'permission',
] as const
export type FlagType = (typeof flagTypes)[number]

/**
 * A strategy as people write it: segments are named, not numbered. The numeric ids Unleash SDKs
 * expect are given out by the store and only appear on the SDK APIs.
 */
export interface FlagStrategy {
  name: string
  parameters: Record<string, string>
  constraints: Constraint[]
  segments: string[]
  variants: VariantDefinition[]
}

/** How a flag behaves in one ring (an Unleash environment). */
export interface FlagRingState {
  ring: string
  enabled: boolean
  strategies: FlagStrategy[]
}

/** Everything about a flag that is the same in every ring. */
export interface FlagDefinition {
  key: string
  project: string
  description: string
  type: FlagType
  owner: string | null
  tags: string[]
  impressionData: boolean
  stale: boolean
  variants: VariantDefinition[]
  dependencies: Dependency[]
}

export interface Flag extends FlagDefinition {
  /** Archived flags are gone from every SDK answer; putting the key again brings one back. */
  archived: boolean
  /** Only rings that have been configured; every other ring sees the flag disabled. */
  rings: FlagRingState[]
  createdAt: string
  updatedAt: string
}

/** A named, shared set of constraints that strategies refer to. */
export interface Segment {
  /** The number Unleash SDKs see in `strategies[].segments`. */
  id: number
  name: string
  description: string
  constraints: Constraint[]
  createdAt: string
  updatedAt: string
}

/** The ring's flag state at one revision, as the SDK-facing APIs serve it. */
export interface RingFlagState {
  ring: string
  /** Bumped by every change that can alter an answer in this ring; 0 before the first one. */
  revision: number
  flags: Flag[]
  segments: Segment[]
  /** Changes after `since` (oldest first), for delta clients; absent names were removed. */
  changes: FlagChange[]
}

/** One entry of a ring's change log: what the delta API tells clients to refetch or drop. */
export type FlagChange =
  | { ring: string; revision: number; kind: 'flag'; name: string }
  | { ring: string; revision: number; kind: 'segment'; name: string; segmentId: number }

/** Evaluation counts an SDK reported, folded into one hour. */
export interface FlagMetricsBucket {
  flag: string
  ring: string
  /** Start of the hour, ISO 8601. */
  hour: string
  yes: number
  no: number
  variants: Record<string, number>
}

export type SdkKind = 'client' | 'frontend'

/** An SDK instance that said hello (`/api/client/register`). */
export interface SdkRegistration {
  ring: string
  kind: SdkKind
  appName: string
  instanceId: string
  sdkVersion: string | null
  strategies: string[]
  startedAt: string | null
  intervalMs: number | null
  seenAt: string
}

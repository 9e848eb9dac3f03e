import type { ReadOptions } from '../read-options.js'
import type {
  Flag,
  FlagChange,
  FlagDefinition,
  FlagMetricsBucket,
  FlagRingState,
  FlagType,
  RingFlagState,
  SdkKind,
  SdkRegistration,
  Segment,
} from './flag.js'

export interface FlagFilter {
  tag?: string | undefined
  type?: FlagType | undefined
  project?: string | undefined
  includeArchived?: boolean | undefined
}

export interface FlagRepository {
  /** Archived flags too; `forUpdate` locks the flag row. */
  findByKey(key: string, options?: ReadOptions): Promise<Flag | null>
  /** Ordered by key. */
  list(filter: FlagFilter): Promise<Flag[]>
  /** Inserts or replaces the definition; an archived flag comes back unarchived. */
  upsert(definition: FlagDefinition): Promise<Flag>
  archive(key: string): Promise<Flag>
  /** Inserts or replaces the flag's state in one ring. */
  putRingState(key: string, state: FlagRingState): Promise<Flag>
  /**
   * `findByKey` for many keys in a few statements (archived flags too); keys that are not there
   * are left out. In key order; `forUpdate` locks the rows in that order.
   */
  findManyByKeys(keys: readonly string[], options?: ReadOptions): Promise<Map<string, Flag>>
  /**
   * `upsert` then `putRingState` for each flag, in a few statements whatever their number (an
   * import of thousands must not hold its transaction for a round trip per flag). Keys are
   * distinct. Returns the flags afterwards, by key.
   */
  putMany(
    flags: readonly { definition: FlagDefinition; ringState: FlagRingState }[],
  ): Promise<Map<string, Flag>>
  /** Keys of live flags that list `parent` among their dependencies. */
  listDependents(parent: string): Promise<string[]>
  /** Keys of live flags with a strategy (in any ring) that names `segment`. */
  listUsingSegment(segment: string): Promise<string[]>
}

export interface SegmentRepository {
  findByName(name: string, options?: ReadOptions): Promise<Segment | null>
  /** Ordered by name. */
  list(): Promise<Segment[]>
  /** Inserts (giving out a new id) or replaces description and constraints, keeping the id. */
  upsert(segment: {
    name: string
    description: string
    constraints: Segment['constraints']
  }): Promise<Segment>
  delete(name: string): Promise<void>
}

/**
 * Per-ring revisions and the change log behind the delta API. `bump` takes each ring's revision
 * row lock until the transaction ends, so changes to one ring commit in revision order, and it
 * tells every replica (PostgreSQL NOTIFY on channel `ringmaster_flags`, payload the ring name) once
 * the transaction commits.
 */
export interface FlagRevisionRepository {
  /** Adds one to each ring's revision and appends the changes under it; returns the new revisions. */
  bump(
    rings: readonly string[],
    changes: readonly (
      | { kind: 'flag'; name: string }
      | { kind: 'segment'; name: string; segmentId: number }
    )[],
  ): Promise<Map<string, number>>
  /** 0 for a ring that never changed. */
  current(ring: string): Promise<number>
  /** Every ring's revision, for a cheap "did anything change" check. */
  currentAll(): Promise<Map<string, number>>
  /** Up to `limit` changes of `ring` after `since`, oldest first. */
  listChanges(ring: string, since: number, limit: number): Promise<FlagChange[]>
  /** The ring's whole flag state in one consistent read (live flags only). */
  loadRing(ring: string, changesSince: number, changesLimit: number): Promise<RingFlagState>
}

export interface FlagMetricsRepository {
  /** Adds the counts to what is stored for each flag, ring and hour. */
  add(buckets: readonly FlagMetricsBucket[]): Promise<void>
  /** Oldest hour first. */
  list(
    flag: string,
    filter: { ring?: string | undefined; from: string; to: string },
  ): Promise<FlagMetricsBucket[]>
}

export interface SdkRegistrationRepository {
  /** Inserts or refreshes the registration of (ring, kind, appName, instanceId). */
  upsert(registration: SdkRegistration): Promise<void>
  list(filter: {
    ring?: string | undefined
    kind?: SdkKind | undefined
  }): Promise<SdkRegistration[]>
}

export interface FlagStoreTransaction {
  flags: FlagRepository
  segments: SegmentRepository
  flagRevisions: FlagRevisionRepository
  flagMetrics: FlagMetricsRepository
  sdkRegistrations: SdkRegistrationRepository
}

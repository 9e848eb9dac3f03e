import {
  ConflictError,
  type Flag,
  type FlagChange,
  type FlagMetricsBucket,
  type FlagStoreTransaction,
  type SdkRegistration,
  type Segment,
} from '@ringmaster/domain'
import { foldMetrics } from './flag-store.js'

/** The part of the memory store's state feature flags live in. */
export interface MemoryFlagState {
  /** Only asked whether a ring exists, as the ring states' foreign key does. */
  rings: Map<string, unknown>
  /** Each flag with its ring states, sorted by ring. */
  flags: Map<string, Flag>
  segments: Map<string, Segment>
  flagRevisions: Map<string, number>
  flagChanges: FlagChange[]
  /** Keyed by flag, ring and hour. */
  flagMetrics: Map<string, FlagMetricsBucket>
  /** Keyed by ring, kind, app name and instance id. */
  sdkRegistrations: Map<string, SdkRegistration>
}

const copy = <T>(value: T): T => structuredClone(value)
const byName = (a: string, b: string) => a.localeCompare(b)
// A timestamptz comes back from the database in UTC with milliseconds; so it does here.
const utc = (value: string): string => new Date(value).toISOString()
const key = (...parts: string[]) => parts.join('\u0000')

/** What the database's foreign keys say when a ring state names a missing flag or ring. */
const missingReference = () =>
  new ConflictError(
    'concurrent-change',
    'something this change refers to (a service, ring, scale unit or release) was changed or deleted at the same time; read it again and retry',
  )

/** The in-memory feature-flag repositories; `nextSegmentId` hands out ids like a sequence. */
export function memoryFlagRepositories(
  state: () => MemoryFlagState,
  now: () => string,
  nextSegmentId: () => number,
): FlagStoreTransaction {
  const liveFlags = () =>
    [...state().flags.values()]
      .filter((flag) => !flag.archived)
      .sort((a, b) => byName(a.key, b.key))

  const flagRepository: FlagStoreTransaction['flags'] = {
    // Transactions already run one at a time here, so there is nothing to lock.
    async findByKey(flagKey, _options) {
      const flag = state().flags.get(flagKey)
      return flag ? copy(flag) : null
    },
    async list(filter) {
      return [...state().flags.values()]
        .filter((flag) => filter.tag === undefined || flag.tags.includes(filter.tag))
        .filter((flag) => filter.type === undefined || flag.type === filter.type)
        .filter((flag) => filter.project === undefined || flag.project === filter.project)
        .filter((flag) => filter.includeArchived || !flag.archived)
        .sort((a, b) => byName(a.key, b.key))
        .map(copy)
    },
    async upsert(definition) {
      const existing = state().flags.get(definition.key)
      const flag: Flag = {
        key: definition.key,
        project: definition.project,
        description: definition.description,
        type: definition.type,
        owner: definition.owner,
        tags: copy(definition.tags),
        impressionData: definition.impressionData,
        stale: definition.stale,
        variants: copy(definition.variants),
        dependencies: copy(definition.dependencies),
        archived: false,
        rings: existing?.rings ?? [],
        createdAt: existing?.createdAt ?? now(),
        updatedAt: now(),
      }
      state().flags.set(flag.key, flag)
      return copy(flag)
    },
    async archive(flagKey) {
      const flag = state().flags.get(flagKey)!
      flag.archived = true
      flag.updatedAt = now()
      return copy(flag)
    },
    async findManyByKeys(keys, options) {
      const found = new Map<string, Flag>()
      for (const flagKey of [...new Set(keys)].sort(byName)) {
        const flag = await flagRepository.findByKey(flagKey, options)
        if (flag) found.set(flagKey, flag)
      }
      return found
    },
    async putMany(entries) {
      const after = new Map<string, Flag>()
      for (const { definition, ringState } of entries) {
        await flagRepository.upsert(definition)
        after.set(definition.key, await flagRepository.putRingState(definition.key, ringState))
      }
      return after
    },
    async putRingState(flagKey, ringState) {
      const flag = state().flags.get(flagKey)
      if (!flag || !state().rings.has(ringState.ring)) throw missingReference()
      flag.rings = [
        ...flag.rings.filter((candidate) => candidate.ring !== ringState.ring),
        {
          ring: ringState.ring,
          enabled: ringState.enabled,
          strategies: copy(ringState.strategies),
        },
      ].sort((a, b) => byName(a.ring, b.ring))
      flag.updatedAt = now()
      return copy(flag)
    },
    async listDependents(parent) {
      return liveFlags()
        .filter((flag) => flag.dependencies.some((dependency) => dependency.feature === parent))
        .map((flag) => flag.key)
    },
    async listUsingSegment(segment) {
      return liveFlags()
        .filter((flag) =>
          flag.rings.some((ring) =>
            ring.strategies.some((strategy) => strategy.segments.includes(segment)),
          ),
        )
        .map((flag) => flag.key)
    },
  }

  const segmentRepository: FlagStoreTransaction['segments'] = {
    async findByName(name, _options) {
      const segment = state().segments.get(name)
      return segment ? copy(segment) : null
    },
    async list() {
      return [...state().segments.values()].sort((a, b) => byName(a.name, b.name)).map(copy)
    },
    async upsert(input) {
      const existing = state().segments.get(input.name)
      const segment: Segment = {
        id: existing?.id ?? nextSegmentId(),
        name: input.name,
        description: input.description,
        constraints: copy(input.constraints),
        createdAt: existing?.createdAt ?? now(),
        updatedAt: now(),
      }
      state().segments.set(segment.name, segment)
      return copy(segment)
    },
    async delete(name) {
      state().segments.delete(name)
    },
  }

  const listChanges = (ring: string, since: number, limit: number): FlagChange[] =>
    state()
      .flagChanges.filter((change) => change.ring === ring && change.revision > since)
      .sort((a, b) => a.revision - b.revision || byName(a.kind, b.kind) || byName(a.name, b.name))
      .slice(0, limit)
      .map(copy)

  const revisionRepository: FlagStoreTransaction['flagRevisions'] = {
    async bump(rings, changes) {
      const s = state()
      const distinct = new Map(changes.map((change) => [key(change.kind, change.name), change]))
      const revisions = new Map<string, number>()
      for (const ring of [...new Set(rings)].sort()) {
        const revision = (s.flagRevisions.get(ring) ?? 0) + 1
        s.flagRevisions.set(ring, revision)
        revisions.set(ring, revision)
        for (const change of distinct.values()) {
          s.flagChanges.push(
            change.kind === 'segment'
              ? { ring, revision, kind: 'segment', name: change.name, segmentId: change.segmentId }
              : { ring, revision, kind: 'flag', name: change.name },
          )
        }
      }
      return revisions
    },
    async current(ring) {
      return state().flagRevisions.get(ring) ?? 0
    },
    async currentAll() {
      return new Map([...state().flagRevisions].sort(([a], [b]) => byName(a, b)))
    },
    async listChanges(ring, since, limit) {
      return listChanges(ring, since, limit)
    },
    async loadRing(ring, changesSince, changesLimit) {
      return {
        ring,
        revision: state().flagRevisions.get(ring) ?? 0,
        flags: liveFlags().map((flag) => ({
          ...copy(flag),
          rings: copy(flag.rings.filter((candidate) => candidate.ring === ring)),
        })),
        segments: await segmentRepository.list(),
        changes: listChanges(ring, changesSince, changesLimit),
      }
    },
  }

  const metricsRepository: FlagStoreTransaction['flagMetrics'] = {
    async add(buckets) {
      const stored = state().flagMetrics
      for (const bucket of foldMetrics(buckets)) {
        const id = key(bucket.flag, bucket.ring, bucket.hour)
        const sum = stored.get(id) ?? { ...bucket, yes: 0, no: 0, variants: {} }
        sum.yes += bucket.yes
        sum.no += bucket.no
        for (const [variant, count] of Object.entries(bucket.variants)) {
          sum.variants[variant] = (sum.variants[variant] ?? 0) + count
        }
        stored.set(id, sum)
      }
    },
    async list(flag, filter) {
      const from = Date.parse(filter.from)
      const to = Date.parse(filter.to)
      return [...state().flagMetrics.values()]
        .filter((bucket) => bucket.flag === flag)
        .filter((bucket) => filter.ring === undefined || bucket.ring === filter.ring)
        .filter((bucket) => Date.parse(bucket.hour) >= from && Date.parse(bucket.hour) <= to)
        .sort((a, b) => Date.parse(a.hour) - Date.parse(b.hour) || byName(a.ring, b.ring))
        .map(copy)
    },
  }

  const registrationRepository: FlagStoreTransaction['sdkRegistrations'] = {
    async upsert(registration) {
      state().sdkRegistrations.set(
        key(registration.ring, registration.kind, registration.appName, registration.instanceId),
        {
          ...copy(registration),
          startedAt: registration.startedAt === null ? null : utc(registration.startedAt),
          seenAt: utc(registration.seenAt),
        },
      )
    },
    async list(filter) {
      return [...state().sdkRegistrations.values()]
        .filter((registration) => filter.ring === undefined || registration.ring === filter.ring)
        .filter((registration) => filter.kind === undefined || registration.kind === filter.kind)
        .sort(
          (a, b) =>
            byName(a.ring, b.ring) ||
            byName(a.kind, b.kind) ||
            byName(a.appName, b.appName) ||
            byName(a.instanceId, b.instanceId),
        )
        .map(copy)
    },
  }

  return {
    flags: flagRepository,
    segments: segmentRepository,
    flagRevisions: revisionRepository,
    flagMetrics: metricsRepository,
    sdkRegistrations: registrationRepository,
  }
}

/** Deleting a ring drops every flag's state in it, as the ring states' foreign key cascades. */
export function dropRingStates(flags: Map<string, Flag>, ring: string): void {
  for (const flag of flags.values()) {
    flag.rings = flag.rings.filter((state) => state.ring !== ring)
  }
}

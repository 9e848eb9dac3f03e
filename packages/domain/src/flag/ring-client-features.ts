import {
  type ClientFeaturesState,
  type Constraint,
  type DeltaEvent,
  type Feature,
  murmurhash3X86Hash32,
  type Segment as SdkSegment,
} from '@ringmaster/flag-evaluator'
import type { FlagChange, RingFlagState, Segment } from './flag.js'
import { toUnleashFeature } from './unleash-feature.js'

/** What an SDK may narrow its flags to: `project` (any of), `namePrefix` and `tag` query parameters. */
export interface ClientFeaturesFilter {
  projects?: readonly string[] | undefined
  namePrefix?: string | undefined
  /** Unleash sends `type:value`; a flag matches when it has any of the values as a tag. */
  tags?: readonly string[] | undefined
}

/** The body of `GET /api/client/features`, as Unleash serves it. */
export interface ClientFeaturesBody {
  version: 2
  features: Feature[]
  segments?: SdkSegment[]
  query: {
    project?: string[]
    namePrefix?: string
    tag?: string[]
    environment: string
    inlineSegmentConstraints: boolean
  }
  meta: { revisionId: number; etag: string; queryHash: string }
}

/** Which shape of the client API a response is for; each has its own query hash and ETags. */
export type ClientFeaturesMode = 'inline-segments' | 'separate-segments' | 'delta'

/** The first `Unleash-Client-Spec` that understands a separate `segments` list. */
export const separateSegmentsSpecVersion = '4.2.0'

/**
 * Whether a client that sent this `Unleash-Client-Spec` header gets segments as a list; older
 * clients (and those that send nothing) get segment constraints copied into each strategy.
 */
export function acceptsSeparateSegments(specHeader: string | undefined): boolean {
  if (!specHeader) return false
  const match = /^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(specHeader)
  if (!match) return false
  const version = [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)]
  const minimum = separateSegmentsSpecVersion.split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== minimum[i]!) return version[i]! > minimum[i]!
  }
  return true
}

// Inlined, a segment the ring does not have becomes a constraint nothing meets, as with an id.
const missingSegmentConstraint: Constraint = {
  contextName: 'ringmasterMissingSegment',
  operator: 'IN',
  values: [],
  inverted: false,
  caseInsensitive: false,
}

export function toClientSegment(segment: Segment): SdkSegment {
  return { id: segment.id, name: segment.name, constraints: segment.constraints }
}

/** Segment constraints copied into the strategies that use them, for clients older than spec 4.2.0. */
export function inlineSegments(
  features: readonly Feature[],
  segments: ReadonlyMap<number, SdkSegment>,
): Feature[] {
  return features.map((feature) => {
    if (!Array.isArray(feature.strategies)) return feature
    return {
      ...feature,
      strategies: feature.strategies.map((strategy) => {
        const { segments: ids, ...rest } = strategy
        const constraints = [...(strategy.constraints ?? [])]
        for (const id of ids ?? []) {
          const segment = segments.get(id)
          if (segment) constraints.push(...(segment.constraints ?? []))
          else constraints.push(missingSegmentConstraint)
        }
        return { ...rest, constraints }
      }),
    }
  })
}

function normalizedFilter(filter: ClientFeaturesFilter = {}) {
  const projects = [...new Set(filter.projects ?? [])].filter(Boolean).sort()
  const tags = [...new Set(filter.tags ?? [])].filter(Boolean).sort()
  return {
    projects,
    namePrefix: filter.namePrefix || undefined,
    tags,
  }
}

export function isUnfiltered(filter: ClientFeaturesFilter | undefined): boolean {
  const normalized = normalizedFilter(filter)
  return (
    normalized.projects.length === 0 &&
    normalized.namePrefix === undefined &&
    normalized.tags.length === 0
  )
}

/** Whether a client that asked for `filter` should see the flag. */
export function matchesFilter(
  feature: Feature,
  tags: readonly string[],
  filter: ClientFeaturesFilter | undefined,
): boolean {
  if (!filter) return true
  if (filter.projects?.length && !filter.projects.includes(feature.project ?? 'default')) {
    return false
  }
  if (filter.namePrefix && !feature.name.startsWith(filter.namePrefix)) return false
  if (filter.tags?.length) {
    const wanted = filter.tags.map((tag) => {
      const colon = tag.indexOf(':')
      return colon === -1 ? tag : tag.slice(colon + 1)
    })
    if (!tags.some((tag) => wanted.includes(tag) || filter.tags!.includes(tag))) return false
  }
  return true
}

/**
 * A short, stable name for what a client asked for in one ring; it is part of every ETag, so an
 * answer for one filter or shape is never taken for another.
 */
export function clientFeaturesQueryHash(
  ring: string,
  mode: ClientFeaturesMode,
  filter?: ClientFeaturesFilter,
): string {
  const key = JSON.stringify([ring, mode, normalizedFilter(filter)])
  return murmurhash3X86Hash32(key, 0).toString(36)
}

export function clientFeaturesEtag(queryHash: string, revision: number): string {
  return `"${queryHash}:${revision}"`
}

/** The revision an ETag of ours names when it was made for `queryHash`, else undefined. */
export function revisionOfEtag(etag: string | undefined, queryHash: string): number | undefined {
  if (!etag) return undefined
  const match = /^(?:W\/)?"([0-9a-z]+):(\d{1,15})"$/.exec(etag.trim())
  if (!match || match[1] !== queryHash) return undefined
  return Number(match[2])
}

/**
 * A ring's flags at one revision in the shapes the SDK APIs serve: the client features body (with
 * or without inlined segments, filtered or not), the state the evaluator compiles, and delta events.
 */
export class RingClientFeatures {
  readonly ring: string
  readonly revision: number
  /** Ordered by name; strategies name segments by id. */
  readonly features: readonly Feature[]
  readonly segments: readonly SdkSegment[]
  /** What `compileFlags` takes: every live flag and segment of the ring. */
  readonly state: ClientFeaturesState
  private readonly featuresByName: ReadonlyMap<string, Feature>
  private readonly segmentsById: ReadonlyMap<number, SdkSegment>
  private readonly tagsByName: ReadonlyMap<string, readonly string[]>
  private inlined: Feature[] | undefined

  constructor(state: Pick<RingFlagState, 'ring' | 'revision' | 'flags' | 'segments'>) {
    this.ring = state.ring
    this.revision = state.revision
    const segmentIds = new Map(state.segments.map((segment) => [segment.name, segment.id]))
    const flags = state.flags
      .filter((flag) => !flag.archived)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    this.features = flags.map((flag) =>
      toUnleashFeature(
        flag,
        flag.rings.find((candidate) => candidate.ring === state.ring),
        segmentIds,
      ),
    )
    this.segments = [...state.segments]
      .sort((a, b) => a.id - b.id)
      .map((segment) => toClientSegment(segment))
    this.state = { version: 2, features: [...this.features], segments: [...this.segments] }
    this.featuresByName = new Map(this.features.map((feature) => [feature.name, feature]))
    this.segmentsById = new Map(this.segments.map((segment) => [segment.id, segment]))
    this.tagsByName = new Map(flags.map((flag) => [flag.key, flag.tags]))
  }

  feature(name: string): Feature | undefined {
    return this.featuresByName.get(name)
  }

  queryHash(mode: ClientFeaturesMode, filter?: ClientFeaturesFilter): string {
    return clientFeaturesQueryHash(this.ring, mode, filter)
  }

  etag(mode: ClientFeaturesMode, filter?: ClientFeaturesFilter): string {
    return clientFeaturesEtag(this.queryHash(mode, filter), this.revision)
  }

  private filtered(features: readonly Feature[], filter: ClientFeaturesFilter | undefined) {
    if (isUnfiltered(filter)) return [...features]
    return features.filter((feature) =>
      matchesFilter(feature, this.tagsByName.get(feature.name) ?? [], filter),
    )
  }

  /** The `GET /api/client/features` body. */
  body(options: { inlineSegments: boolean; filter?: ClientFeaturesFilter }): ClientFeaturesBody {
    const mode: ClientFeaturesMode = options.inlineSegments
      ? 'inline-segments'
      : 'separate-segments'
    const queryHash = this.queryHash(mode, options.filter)
    const normalized = normalizedFilter(options.filter)
    if (options.inlineSegments) this.inlined ??= inlineSegments(this.features, this.segmentsById)
    const source = options.inlineSegments ? (this.inlined ?? []) : this.features
    const features = this.filtered(source, options.filter)
    return {
      version: 2,
      features,
      ...(!options.inlineSegments && { segments: [...this.segments] }),
      query: {
        ...(normalized.projects.length > 0 && { project: normalized.projects }),
        ...(normalized.namePrefix !== undefined && { namePrefix: normalized.namePrefix }),
        ...(normalized.tags.length > 0 && { tag: normalized.tags }),
        environment: this.ring,
        inlineSegmentConstraints: options.inlineSegments,
      },
      meta: {
        revisionId: this.revision,
        etag: clientFeaturesEtag(queryHash, this.revision),
        queryHash,
      },
    }
  }

  /** Everything at once, as the first delta event of a client that has nothing (or too little). */
  hydration(filter?: ClientFeaturesFilter): DeltaEvent {
    return {
      type: 'hydration',
      eventId: this.revision,
      features: this.filtered(this.features, filter),
      segments: [...this.segments],
    }
  }

  /**
   * What a client that has every change up to some revision needs to catch up to this one:
   * `changes` are the ring's changes after the client's revision, oldest first. Each flag or
   * segment appears once, as it is now, under the revision of its last change.
   */
  delta(changes: readonly FlagChange[], filter?: ClientFeaturesFilter): DeltaEvent[] {
    const latest = new Map<string, FlagChange>()
    for (const change of changes) {
      if (change.revision > this.revision) continue
      const key = change.kind === 'flag' ? `flag:${change.name}` : `segment:${change.segmentId}`
      latest.delete(key)
      latest.set(key, change)
    }
    const events: DeltaEvent[] = []
    for (const change of latest.values()) {
      if (change.kind === 'segment') {
        const segment = this.segmentsById.get(change.segmentId)
        events.push(
          segment
            ? { type: 'segment-updated', eventId: change.revision, segment }
            : { type: 'segment-removed', eventId: change.revision, segmentId: change.segmentId },
        )
        continue
      }
      const feature = this.featuresByName.get(change.name)
      if (feature && matchesFilter(feature, this.tagsByName.get(feature.name) ?? [], filter)) {
        events.push({ type: 'feature-updated', eventId: change.revision, feature })
      } else {
        events.push({
          type: 'feature-removed',
          eventId: change.revision,
          featureName: change.name,
          ...(feature?.project !== undefined && { project: feature.project }),
        })
      }
    }
    return events
  }
}

import {
  type ClientFeaturesState,
  type Feature,
  type Segment as UnleashSegment,
  type ValidationProblem,
  validateFlags,
} from '@ringmaster/flag-evaluator'
import type { CommandContext } from '../actor.js'
import { audit, executeCommand } from '../command.js'
import { discardEffects, type EffectOutlet } from '../effect.js'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import type { Store, StoreTransaction } from '../store.js'
import { TimeSlice } from '../time-slice.js'
import {
  type Constraint,
  type Dependency,
  type Flag,
  type FlagDefinition,
  type FlagRingState,
  type FlagStrategy,
  type FlagType,
  flagTypes,
  type Segment,
  type VariantDefinition,
} from './flag.js'
import {
  cleanConstraint,
  cleanDependency,
  cleanVariant,
  fromUnleashStrategy,
  toUnleashFeature,
} from './unleash-feature.js'

export interface FlagStrategyInput {
  name: string
  parameters?: Record<string, string> | undefined
  constraints?: Constraint[] | undefined
  /** Segment names. */
  segments?: string[] | undefined
  variants?: VariantDefinition[] | undefined
}

export interface FlagRingInput {
  enabled: boolean
  strategies?: FlagStrategyInput[] | undefined
}

/** `PUT /v1/flags/{key}`: the whole definition; rings that are named replace their state. */
export interface PutFlagInput {
  project?: string | undefined
  description?: string | undefined
  type?: FlagType | undefined
  owner?: string | null | undefined
  tags?: string[] | undefined
  impressionData?: boolean | undefined
  stale?: boolean | undefined
  variants?: VariantDefinition[] | undefined
  dependencies?: Dependency[] | undefined
  rings?: Record<string, FlagRingInput> | undefined
}

export interface FlagListFilter {
  tag?: string | undefined
  type?: FlagType | undefined
  project?: string | undefined
  /** With `enabled`, only flags in that state in this ring. */
  ring?: string | undefined
  enabled?: boolean | undefined
  includeArchived?: boolean | undefined
}

export interface PutSegmentInput {
  description?: string | undefined
  constraints: Constraint[]
}

/** The body of Unleash's `GET /api/client/features`, accepted as is. */
export interface ImportFlagsInput {
  ring: string
  features: Feature[]
  segments?: UnleashSegment[] | undefined
}

export interface ImportOutcome {
  ring: string
  flags: string[]
  segments: string[]
  /** The ring's revision once the import committed. */
  revision: number
}

type RevisionChange =
  | { kind: 'flag'; name: string }
  | { kind: 'segment'; name: string; segmentId: number }

/**
 * Flags, their state per ring, and segments. Every change runs in one transaction that bumps the
 * revision of each ring whose answers it can change (that is what SDK caches and replicas key
 * on) and appends an audit event with the state before and after.
 */
export class FlagService {
  constructor(
    private readonly store: Store,
    /**
     * Hears which rings changed once a change commits, and is awaited, so the replica that made
     * the change serves it before answering (other replicas learn of it from the store's
     * notification).
     */
    private readonly afterCommit: EffectOutlet = discardEffects,
  ) {}

  /** `executeCommand`, recording the rings whose revision the work bumped as changed. */
  private async command<T>(
    context: CommandContext,
    work: (tx: StoreTransaction, bumped: Set<string>) => Promise<T>,
  ): Promise<T> {
    return executeCommand(
      this.store,
      context,
      async (tx, effects) => {
        const bumped = new Set<string>()
        const result = await work(tx, bumped)
        if (bumped.size > 0) effects.record({ kind: 'flags-changed', rings: [...bumped] })
        return result
      },
      { afterCommit: this.afterCommit },
    )
  }

  async putFlag(
    context: CommandContext,
    key: string,
    input: PutFlagInput,
  ): Promise<{ flag: Flag; created: boolean }> {
    return this.command(context, async (tx, bumped) => {
      const before = await tx.flags.findByKey(key, { forUpdate: true })
      const definition: FlagDefinition = {
        key,
        project: input.project ?? 'default',
        description: input.description ?? '',
        type: input.type ?? 'release',
        owner: input.owner ?? null,
        tags: [...new Set(input.tags ?? [])].sort(),
        impressionData: input.impressionData ?? false,
        stale: input.stale ?? false,
        variants: input.variants ?? [],
        dependencies: input.dependencies ?? [],
      }
      const ringStates = Object.entries(input.rings ?? {}).map(
        ([ring, state]): FlagRingState => ({
          ring,
          enabled: state.enabled,
          strategies: (state.strategies ?? []).map(normalizeStrategy),
        }),
      )
      for (const state of ringStates) await requireRing(tx, state.ring)
      const allStates = mergeRingStates(before?.rings ?? [], ringStates)
      await assertValidFlag(tx, definition, allStates)
      if (definition.dependencies.length > 0) await assertNotAParent(tx, key)

      let after = await tx.flags.upsert(definition)
      for (const state of ringStates) after = await tx.flags.putRingState(key, state)
      if (before && before.archived === after.archived && sameFlag(before, after)) {
        return { flag: after, created: false }
      }
      await bumpAllRings(tx, bumped, [{ kind: 'flag', name: key }])
      const created = before === null || before.archived
      await audit(tx, context, created ? 'flag.created' : 'flag.updated', `flag:${key}`, {
        before,
        after,
      })
      return { flag: after, created }
    })
  }

  async getFlag(key: string): Promise<Flag> {
    const flag = await this.store.read.flags.findByKey(key)
    if (!flag) throw flagNotFound(key)
    return flag
  }

  async listFlags(filter: FlagListFilter): Promise<Flag[]> {
    if (filter.enabled !== undefined && filter.ring === undefined) {
      throw new InvalidInputError(
        'enabled-needs-ring',
        'a flag is enabled or disabled per ring; add ring=<name> to filter by enabled',
      )
    }
    const flags = await this.store.read.flags.list({
      tag: filter.tag,
      type: filter.type,
      project: filter.project,
      includeArchived: filter.includeArchived,
    })
    if (filter.ring === undefined || filter.enabled === undefined) return flags
    const { ring, enabled } = filter
    return flags.filter(
      (flag) => (flag.rings.find((state) => state.ring === ring)?.enabled ?? false) === enabled,
    )
  }

  /** Unleash's delete: the flag leaves every SDK answer and its key can be put again later. */
  async archiveFlag(context: CommandContext, key: string): Promise<Flag> {
    return this.command(context, async (tx, bumped) => {
      const before = await tx.flags.findByKey(key, { forUpdate: true })
      if (!before) throw flagNotFound(key)
      if (before.archived) return before
      const dependents = await tx.flags.listDependents(key)
      if (dependents.length > 0) {
        throw new ConflictError(
          'flag-has-dependents',
          `flag '${key}' is a parent of ${quoteList(dependents)}; remove those dependencies first`,
          { dependents },
        )
      }
      const after = await tx.flags.archive(key)
      await bumpAllRings(tx, bumped, [{ kind: 'flag', name: key }])
      await audit(tx, context, 'flag.archived', `flag:${key}`, { before, after })
      return after
    })
  }

  async setRingEnabled(
    context: CommandContext,
    key: string,
    ring: string,
    enabled: boolean,
  ): Promise<Flag> {
    return this.changeRingState(context, key, ring, (state) => ({ ...state, enabled }))
  }

  async putRingStrategies(
    context: CommandContext,
    key: string,
    ring: string,
    strategies: FlagStrategyInput[],
  ): Promise<Flag> {
    return this.changeRingState(context, key, ring, (state) => ({
      ...state,
      strategies: strategies.map(normalizeStrategy),
    }))
  }

  private async changeRingState(
    context: CommandContext,
    key: string,
    ring: string,
    change: (state: FlagRingState) => FlagRingState,
  ): Promise<Flag> {
    return this.command(context, async (tx, bumped) => {
      const before = await tx.flags.findByKey(key, { forUpdate: true })
      if (!before || before.archived) throw flagNotFound(key)
      await requireRing(tx, ring)
      const current = before.rings.find((state) => state.ring === ring) ?? {
        ring,
        enabled: false,
        strategies: [],
      }
      const next = change(current)
      if (sameJson(next, current)) return before
      await assertValidFlag(tx, before, mergeRingStates(before.rings, [next]))
      const after = await tx.flags.putRingState(key, next)
      await tx.flagRevisions.bump([ring], [{ kind: 'flag', name: key }])
      bumped.add(ring)
      await audit(tx, context, 'flag.ring-changed', `flag:${key}:${ring}`, {
        before: current,
        after: next,
      })
      return after
    })
  }

  async putSegment(
    context: CommandContext,
    name: string,
    input: PutSegmentInput,
  ): Promise<{ segment: Segment; created: boolean }> {
    return this.command(context, async (tx, bumped) => {
      const before = await tx.segments.findByName(name, { forUpdate: true })
      const problems = validateFlags({
        features: [],
        segments: [{ id: 0, name, constraints: input.constraints }],
      })
      if (problems.length > 0) {
        throw invalidFlags(problems, (path) => fieldPath('body', path, firstSegment))
      }
      const description = input.description ?? ''
      if (
        before &&
        before.description === description &&
        sameJson(before.constraints, input.constraints)
      ) {
        return { segment: before, created: false }
      }
      const segment = await tx.segments.upsert({
        name,
        description,
        constraints: input.constraints,
      })
      await bumpAllRings(tx, bumped, [{ kind: 'segment', name, segmentId: segment.id }])
      await audit(tx, context, before ? 'segment.updated' : 'segment.created', `segment:${name}`, {
        before,
        after: segment,
      })
      return { segment, created: before === null }
    })
  }

  async getSegment(name: string): Promise<Segment> {
    const segment = await this.store.read.segments.findByName(name)
    if (!segment) throw segmentNotFound(name)
    return segment
  }

  listSegments(): Promise<Segment[]> {
    return this.store.read.segments.list()
  }

  async deleteSegment(context: CommandContext, name: string): Promise<void> {
    await this.command(context, async (tx, bumped) => {
      const segment = await tx.segments.findByName(name, { forUpdate: true })
      if (!segment) throw segmentNotFound(name)
      const users = await tx.flags.listUsingSegment(name)
      if (users.length > 0) {
        throw new ConflictError(
          'segment-in-use',
          `segment '${name}' is still used by ${quoteList(users)}; remove it from their strategies first`,
          { flags: users },
        )
      }
      await tx.segments.delete(name)
      await bumpAllRings(tx, bumped, [{ kind: 'segment', name, segmentId: segment.id }])
      await audit(tx, context, 'segment.deleted', `segment:${name}`, { before: segment })
    })
  }

  /**
   * Takes the body of Unleash's `/api/client/features` as is: segments are matched by name (one
   * without a name becomes `segment-<id>`), flag definitions are replaced (owner and tags, which
   * Unleash does not send, are kept), and each flag's state in `ring` is replaced. All of it
   * commits together or not at all.
   */
  async importFlags(context: CommandContext, input: ImportFlagsInput): Promise<ImportOutcome> {
    const importedSegments = input.segments ?? []
    return this.command(context, async (tx, bumped) => {
      // Thousands of flags are mapped, checked and audited on the event loop that also answers
      // halts and SDK reads: the loops below give it a turn every few milliseconds.
      const slice = new TimeSlice()
      await requireRing(tx, input.ring)
      const importedNames = new Set(input.features.map((feature) => feature.name))
      // Parents may already live here rather than in the body; cycles through them count too.
      const existing = (await tx.flags.list({})).filter((flag) => !importedNames.has(flag.key))
      const existingFeatures = await slice.map(existing, (flag) =>
        toUnleashFeature(flag, undefined, new Map()),
      )
      await slice.pass()
      const problems = validateFlags({
        features: [...input.features, ...existingFeatures],
        segments: importedSegments,
      })
      if (problems.length > 0) {
        throw invalidFlags(problems, (path) =>
          importPath(path, input.features.length, existingFeatures),
        )
      }
      await slice.pass()

      const segmentNames = new Map<number, string>()
      const changes: RevisionChange[] = []
      for (const imported of importedSegments) {
        const name = imported.name ?? `segment-${imported.id}`
        segmentNames.set(imported.id, name)
        const before = await tx.segments.findByName(name, { forUpdate: true })
        const constraints = (imported.constraints ?? []).map(cleanConstraint)
        if (before && sameJson(before.constraints, constraints)) continue
        const segment = await tx.segments.upsert({
          name,
          description: before?.description ?? '',
          constraints,
        })
        changes.push({ kind: 'segment', name, segmentId: segment.id })
        await audit(
          tx,
          context,
          before ? 'segment.updated' : 'segment.created',
          `segment:${name}`,
          {
            before,
            after: segment,
            importedInto: input.ring,
          },
        )
      }
      // A few statements for the whole body, not a few per flag: an import of thousands of flags
      // is one transaction, and every round trip lengthens it.
      const befores = await tx.flags.findManyByKeys([...importedNames], { forUpdate: true })
      const entries = await slice.map(input.features, (feature) => {
        const before = befores.get(feature.name)
        return {
          definition: {
            key: feature.name,
            project: feature.project ?? 'default',
            description: feature.description ?? '',
            type: isFlagType(feature.type) ? feature.type : 'release',
            owner: before?.owner ?? null,
            tags: before?.tags ?? [],
            impressionData: feature.impressionData ?? false,
            stale: feature.stale ?? false,
            variants: (feature.variants ?? []).map(cleanVariant),
            dependencies: (feature.dependencies ?? []).map(cleanDependency),
          },
          ringState: {
            ring: input.ring,
            enabled: feature.enabled,
            strategies: (feature.strategies ?? []).map((strategy) =>
              fromUnleashStrategy(strategy, segmentNames),
            ),
          },
        }
      })
      const afters = await tx.flags.putMany(entries)
      for (const feature of input.features) {
        await slice.pass()
        const before = befores.get(feature.name) ?? null
        const after = afters.get(feature.name)!
        if (before && !before.archived && sameFlag(before, after)) continue
        changes.push({ kind: 'flag', name: feature.name })
        await audit(tx, context, before ? 'flag.updated' : 'flag.created', `flag:${feature.name}`, {
          before,
          after,
          importedInto: input.ring,
        })
      }
      const revisions = await bumpAllRings(tx, bumped, changes)
      return {
        ring: input.ring,
        flags: changes.flatMap((change) => (change.kind === 'flag' ? [change.name] : [])),
        segments: changes.flatMap((change) => (change.kind === 'segment' ? [change.name] : [])),
        revision: revisions.get(input.ring) ?? (await tx.flagRevisions.current(input.ring)),
      }
    })
  }
}

function isFlagType(value: unknown): value is FlagType {
  return (flagTypes as readonly unknown[]).includes(value)
}

function normalizeStrategy(input: FlagStrategyInput): FlagStrategy {
  return {
    name: input.name,
    parameters: input.parameters ?? {},
    constraints: input.constraints ?? [],
    segments: input.segments ?? [],
    variants: input.variants ?? [],
  }
}

function mergeRingStates(current: FlagRingState[], replaced: FlagRingState[]): FlagRingState[] {
  const byRing = new Map(current.map((state) => [state.ring, state]))
  for (const state of replaced) byRing.set(state.ring, state)
  return [...byRing.values()].sort((a, b) => a.ring.localeCompare(b.ring))
}

/** Compares what SDKs and people see, leaving out timestamps. */
function sameFlag(a: Flag, b: Flag): boolean {
  const visible = ({ createdAt: _created, updatedAt: _updated, ...rest }: Flag) => rest
  return sameJson(visible(a), visible(b))
}

/** Equal as JSON whatever the key order (jsonb columns give keys back in their own order). */
function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b)
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )
}

/** A change to a definition or a segment can change answers in every ring. */
async function bumpAllRings(
  tx: StoreTransaction,
  bumped: Set<string>,
  changes: RevisionChange[],
): Promise<Map<string, number>> {
  if (changes.length === 0) return new Map()
  const rings = (await tx.rings.list()).map((ring) => ring.name)
  for (const ring of rings) bumped.add(ring)
  return tx.flagRevisions.bump(rings, changes)
}

async function requireRing(tx: StoreTransaction, ring: string): Promise<void> {
  if (!(await tx.rings.findByName(ring))) {
    throw new NotFoundError(
      'ring-not-found',
      `no ring named '${ring}'; rings are the environments flags are configured in`,
    )
  }
}

/**
 * Runs the evaluator's own validation over the flag as SDKs would see it in every ring, with its
 * parents beside it so that missing parents, parents with parents and cycles are caught.
 */
async function assertValidFlag(
  tx: StoreTransaction,
  definition: FlagDefinition,
  states: FlagRingState[],
): Promise<void> {
  const segments = await tx.segments.list()
  const segmentIds = new Map(segments.map((segment) => [segment.name, segment.id]))
  const problems: { path: string; message: string }[] = []
  for (const state of states) {
    for (const [j, strategy] of state.strategies.entries()) {
      for (const [k, name] of strategy.segments.entries()) {
        if (!segmentIds.has(name)) {
          problems.push({
            path: `body/rings/${state.ring}/strategies/${j}/segments/${k}`,
            message: `segment '${name}' does not exist; create it with PUT /v1/segments/${name}`,
          })
        }
      }
    }
    const feature = toUnleashFeature(definition, state, segmentIds)
    const ringProblems = validateFlags({
      features: [{ ...feature, dependencies: [], variants: [] }],
      segments: [],
    }).filter((problem) => !problem.path.includes('.segments['))
    problems.push(
      ...ringProblems.map((problem) => ({
        path: fieldPath(`body/rings/${state.ring}`, problem.path, firstFeature),
        message: problem.message,
      })),
    )
  }
  const parents: Feature[] = []
  for (const dependency of definition.dependencies) {
    const parent = await tx.flags.findByKey(dependency.feature)
    if (parent && !parent.archived) parents.push(toUnleashFeature(parent, undefined, segmentIds))
  }
  const state: ClientFeaturesState = {
    features: [
      toUnleashFeature(definition, { ring: '', enabled: true, strategies: [] }, segmentIds),
      ...parents,
    ],
  }
  problems.push(
    ...validateFlags(state)
      .filter((problem) => problem.path.startsWith('features[0].'))
      .map((problem) => ({
        path: fieldPath('body', problem.path, firstFeature),
        message: problem.message,
      })),
  )
  if (problems.length > 0) throw invalidFlags(problems, (path) => path)
}

/** SDKs evaluate one level of dependencies: a parent may not get parents of its own. */
async function assertNotAParent(tx: StoreTransaction, key: string): Promise<void> {
  const dependents = await tx.flags.listDependents(key)
  if (dependents.length > 0) {
    throw new InvalidInputError(
      'invalid-flag',
      `flag '${key}' is a parent of ${quoteList(dependents)}, so it cannot depend on other flags: SDKs evaluate one level of dependencies only`,
      {
        errors: [
          {
            path: 'body/dependencies',
            message: `'${key}' is a parent of ${quoteList(dependents)}; SDKs evaluate one level only`,
          },
        ],
      },
    )
  }
}

/** `features[0].strategies[1].parameters.rollout` under `prefix` as `<prefix>/strategies/1/parameters/rollout`. */
function fieldPath(prefix: string, validatorPath: string, strip: RegExp): string {
  const rest = validatorPath
    .replace(strip, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '')
  return [prefix, ...rest].join('/')
}

const firstFeature = /^features\[0\]\.?/
const firstSegment = /^segments\[0\]\.?/

function importPath(path: string, importedCount: number, existing: Feature[]): string {
  const match = /^features\[(\d+)\]\.?/.exec(path)
  if (match && Number(match[1]) >= importedCount) {
    const flag = existing[Number(match[1]) - importedCount]
    return fieldPath(`flags/${flag?.name ?? '?'}`, path, /^features\[\d+\]\.?/)
  }
  return fieldPath('body', path, /^$/)
}

function invalidFlags(
  problems: readonly ValidationProblem[],
  pathOf: (path: string) => string,
): InvalidInputError {
  const errors = problems.map((problem) => ({
    path: pathOf(problem.path),
    message: problem.message,
  }))
  const [first] = errors
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more problems, listed in errors)` : ''
  return new InvalidInputError('invalid-flag', `${first?.path}: ${first?.message}${more}`, {
    errors,
  })
}

function flagNotFound(key: string): NotFoundError {
  return new NotFoundError('flag-not-found', `no flag with key '${key}'`)
}

function segmentNotFound(name: string): NotFoundError {
  return new NotFoundError('segment-not-found', `no segment named '${name}'`)
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ')
}

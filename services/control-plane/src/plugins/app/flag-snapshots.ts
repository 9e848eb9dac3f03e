import { flagChangesChannel } from '@ringmaster/db'
import {
  type ClientFeaturesFilter,
  clientFeaturesEtag,
  type FlagChange,
  RingClientFeatures,
  type RingFlagState,
  type Store,
  UnavailableError,
  yieldToEventLoop,
} from '@ringmaster/domain'
import { type CompiledFlags, compileFlags } from '@ringmaster/flag-evaluator'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PeriodicTask } from '../../workers/periodic-task.js'

declare module 'fastify' {
  interface FastifyInstance {
    flagSnapshots: FlagSnapshots
  }
}

/** A response body serialized once and the ETag that names it. */
export interface ServedBody {
  body: string
  /** `body` as UTF-8, encoded once: large bodies sent as strings cost an encoding per request. */
  bytes: Buffer
  etag: string
}

/** What the delta API and the stream send a client at some revision (or with none). */
export interface DeltaAnswer extends ServedBody {
  /** The client is up to date: nothing to send (a 304). */
  upToDate: boolean
  hydration: boolean
}

/** A ring's flags at one revision, with everything the SDK APIs serve derived once. */
export interface RingSnapshot {
  ring: string
  revision: number
  view: RingClientFeatures
  compiled: CompiledFlags
  loadedAt: Date
  /** `changes` hold every change after this revision: clients from here on get deltas. */
  changesBase: number
  changes: readonly FlagChange[]
  /** Serialized bodies by what was asked, so a body is built once per revision. */
  bodies: Map<string, ServedBody>
}

export type SnapshotListener = (snapshot: RingSnapshot, previous: RingSnapshot | undefined) => void

/** The ring's flags could not be read and there is no earlier snapshot to serve (a 503). */
export class FlagStateUnavailableError extends UnavailableError {
  constructor(ring: string) {
    super(
      'flag-state-unavailable',
      `the flags of ring '${ring}' cannot be read right now; try again shortly`,
      { ring },
    )
  }
}

export interface FlagSnapshotOptions {
  /** How often every loaded ring's revision is compared with the database (missed NOTIFYs); 0 = never. */
  checkIntervalMs: number
  /** Delta clients at most this many revisions behind get changes, others a hydration. */
  maxDeltaRevisions?: number
  /** How many change-log entries are kept per ring for delta clients. */
  maxDeltaChanges?: number
}

interface RingEntry {
  ring: string
  snapshot: RingSnapshot | undefined
  loading: Promise<void> | undefined
  /** The `generation` the load started in: one from before an outage is not waited for. */
  loadingGeneration: number
  /** Another change arrived while loading: load once more afterwards. */
  again: boolean
  listeners: Set<SnapshotListener>
}

// Filtered answers are cached too, but only this many per revision, so odd filters cannot fill memory.
const maxCachedBodies = 256

/**
 * Each replica serves flags from memory: per ring, the state at one revision, compiled once, with
 * its client API bodies serialized once. A ring is loaded when first asked for and rebuilt when
 * its revision moves: PostgreSQL NOTIFY (in-process on PGlite) says which ring changed, and a
 * periodic comparison of every revision catches a notification missed while the listening
 * connection was down. When the database cannot be read, the last snapshot keeps being served.
 */
export class FlagSnapshots {
  private readonly entries = new Map<string, RingEntry>()
  private readonly maxDeltaRevisions: number
  private readonly maxDeltaChanges: number
  private checking: Promise<void> | undefined
  private checkingGeneration = 0
  /**
   * Moves on when the database comes back: a load or check begun before or during the outage may
   * never settle (its connection was lost), and must not stop the catching up.
   */
  private generation = 0
  private failingSince: number | undefined
  private closed = false
  /** How many snapshots were built, for tests and logs. */
  builds = 0

  constructor(
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
    options: Partial<FlagSnapshotOptions> = {},
  ) {
    this.maxDeltaRevisions = options.maxDeltaRevisions ?? 1000
    this.maxDeltaChanges = options.maxDeltaChanges ?? 5000
  }

  /** The ring's snapshot if it is loaded. */
  current(ring: string): RingSnapshot | undefined {
    return this.entries.get(ring)?.snapshot
  }

  /** The ring's snapshot, loading it on first use; throws FlagStateUnavailableError if it cannot. */
  async get(ring: string): Promise<RingSnapshot> {
    const loaded = this.entries.get(ring)?.snapshot
    if (loaded) return loaded
    let entry = this.entries.get(ring)
    if (!entry) {
      entry = {
        ring,
        snapshot: undefined,
        loading: undefined,
        loadingGeneration: 0,
        again: false,
        listeners: new Set(),
      }
      this.entries.set(ring, entry)
    }
    await this.refresh(ring)
    if (!entry.snapshot) {
      // Not kept: the next request tries the database again.
      if (entry.listeners.size === 0) this.entries.delete(ring)
      throw new FlagStateUnavailableError(ring)
    }
    return entry.snapshot
  }

  /**
   * Reloads a loaded ring. Calls during a load are folded into one more load after it, so a burst
   * of changes costs two loads, not one each. Never rejects: a failure is logged and the last
   * snapshot stays.
   */
  refresh(ring: string): Promise<void> {
    const entry = this.entries.get(ring)
    if (!entry || this.closed) return Promise.resolve()
    if (entry.loading && entry.loadingGeneration === this.generation) {
      entry.again = true
      return entry.loading
    }
    // Started on the next tick, so that `loading` is assigned before the body reads it.
    const loading: Promise<void> = Promise.resolve().then(async () => {
      do {
        entry.again = false
        try {
          await this.load(entry)
        } catch (error) {
          this.log.error(
            { err: error, ring, revision: entry.snapshot?.revision ?? null },
            entry.snapshot
              ? 'could not reload flags; serving the last snapshot'
              : 'could not load flags',
          )
        }
      } while (entry.again && !this.closed && entry.loading === loading)
      if (entry.loading === loading) entry.loading = undefined
    })
    entry.loading = loading
    entry.loadingGeneration = this.generation
    return entry.loading
  }

  /** Compares every loaded ring with the database's revisions and reloads those that moved. */
  checkAll(): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (this.checking && this.checkingGeneration === this.generation) return this.checking
    this.checkingGeneration = this.generation
    const checking: Promise<void> = Promise.resolve().then(async () => {
      try {
        if (this.entries.size === 0) return
        const revisions = await this.store.read.flagRevisions.currentAll()
        if (this.failingSince !== undefined) {
          this.log.info(
            { downForMs: Date.now() - this.failingSince },
            'flag revisions readable again',
          )
          this.failingSince = undefined
        }
        const stale = [...this.entries.values()].filter(
          (entry) => entry.snapshot?.revision !== (revisions.get(entry.ring) ?? 0),
        )
        await Promise.all(stale.map((entry) => this.refresh(entry.ring)))
      } catch (error) {
        // Logged once per outage; the snapshots keep serving meanwhile.
        if (this.failingSince === undefined) {
          this.failingSince = Date.now()
          this.log.error(
            { err: error },
            'could not read flag revisions; serving the last snapshots',
          )
        }
      } finally {
        if (this.checking === checking) this.checking = undefined
      }
    })
    this.checking = checking
    return checking
  }

  /**
   * The database answers again after an outage: checks every ring now, without waiting for a
   * check or load that began before (it may be stuck on a connection that was lost).
   */
  recover(): Promise<void> {
    this.generation++
    return this.checkAll()
  }

  /** Calls `listener` with each new snapshot of the ring until the returned function is called. */
  subscribe(ring: string, listener: SnapshotListener): () => void {
    const entry = this.entries.get(ring)
    if (!entry) throw new Error(`ring '${ring}' is not loaded; get() it first`)
    entry.listeners.add(listener)
    return () => entry.listeners.delete(listener)
  }

  /** The `GET /api/client/features` body for this shape and filter. */
  clientFeatures(
    snapshot: RingSnapshot,
    inlineSegments: boolean,
    filter?: ClientFeaturesFilter,
  ): ServedBody {
    const mode = inlineSegments ? 'inline-segments' : 'separate-segments'
    const key = snapshot.view.queryHash(mode, filter)
    return cached(snapshot, `features:${key}`, () => {
      const body = snapshot.view.body({ inlineSegments, filter })
      return served(JSON.stringify(body), body.meta.etag)
    })
  }

  /**
   * What a delta client that has everything up to `since` needs: nothing, the changes after it,
   * or (no revision, one from before the kept change log, or one this replica has not reached)
   * a hydration.
   */
  delta(
    snapshot: RingSnapshot,
    since: number | undefined,
    filter?: ClientFeaturesFilter,
  ): DeltaAnswer {
    const queryHash = snapshot.view.queryHash('delta', filter)
    const etag = clientFeaturesEtag(queryHash, snapshot.revision)
    if (since === snapshot.revision) {
      return { ...served('', etag), upToDate: true, hydration: false }
    }
    const inWindow =
      since !== undefined && since >= snapshot.changesBase && since < snapshot.revision
    const key = inWindow ? `delta:${queryHash}:${since}` : `hydration:${queryHash}`
    const answer = cached(snapshot, key, () => {
      const events = inWindow
        ? snapshot.view.delta(
            snapshot.changes.filter((change) => change.revision > since),
            filter,
          )
        : [snapshot.view.hydration(filter)]
      return served(JSON.stringify({ events }), etag)
    })
    return { ...answer, upToDate: false, hydration: !inWindow }
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([this.checking, ...[...this.entries.values()].map((entry) => entry.loading)])
  }

  private async load(entry: RingEntry): Promise<void> {
    const previous = entry.snapshot
    const revisions = this.store.read.flagRevisions
    const limit = this.maxDeltaChanges + 1
    let state: RingFlagState
    let changesBase: number
    let changes: FlagChange[]
    if (!previous) {
      const current = await revisions.current(entry.ring)
      const since = Math.max(0, current - this.maxDeltaRevisions)
      state = await revisions.loadRing(entry.ring, since, limit)
      // A change log cut short by the limit does not reach the revision: no deltas from before it.
      const complete = state.changes.length < limit
      changesBase = complete ? since : state.revision
      changes = complete ? state.changes : []
    } else {
      // A change announced twice (NOTIFY and the writer's own refresh) is loaded once: reading
      // thousands of flags to find the revision unchanged costs as much as a rebuild.
      if ((await revisions.current(entry.ring)) === previous.revision) return
      state = await revisions.loadRing(entry.ring, previous.revision, limit)
      if (state.revision === previous.revision) return
      if (state.revision < previous.revision || state.changes.length >= limit) {
        // The database went back in time (restored) or too much changed at once.
        changesBase = state.revision
        changes = []
      } else {
        changesBase = previous.changesBase
        changes = [...previous.changes, ...state.changes]
      }
    }
    ;({ changesBase, changes } = this.trim(state.revision, changesBase, changes))
    // Each step below is synchronous and, for thousands of flags, takes tens of milliseconds:
    // the SDK reads it keeps waiting are answered from the previous snapshot in between.
    await yieldToEventLoop()
    const view = new RingClientFeatures(state)
    await yieldToEventLoop()
    const compiled = compileFlags(view.state)
    await yieldToEventLoop()
    const snapshot: RingSnapshot = {
      ring: entry.ring,
      revision: state.revision,
      view,
      compiled,
      loadedAt: new Date(),
      changesBase,
      changes,
      bodies: new Map(),
    }
    // The two unfiltered shapes are what nearly every SDK asks for: serialize them now.
    this.clientFeatures(snapshot, false)
    await yieldToEventLoop()
    this.clientFeatures(snapshot, true)
    // A load from before an outage that settled late must not replace a newer snapshot.
    if (entry.snapshot !== previous && (entry.snapshot?.revision ?? -1) >= snapshot.revision) return
    entry.snapshot = snapshot
    this.builds++
    this.log.debug({ ring: entry.ring, revision: snapshot.revision }, 'flag snapshot built')
    for (const listener of entry.listeners) {
      try {
        listener(snapshot, previous)
      } catch (error) {
        this.log.error({ err: error, ring: entry.ring }, 'a flag snapshot listener failed')
      }
    }
  }

  /** Drops whole revisions from the front of the change log until it fits its bounds. */
  private trim(revision: number, base: number, changes: FlagChange[]) {
    let start = 0
    while (
      start < changes.length &&
      (changes.length - start > this.maxDeltaChanges || revision - base > this.maxDeltaRevisions)
    ) {
      const oldest = changes[start]!.revision
      while (start < changes.length && changes[start]!.revision === oldest) start++
      base = oldest
    }
    if (start === changes.length && revision - base > this.maxDeltaRevisions) base = revision
    return { changesBase: base, changes: start === 0 ? changes : changes.slice(start) }
  }
}

function served(body: string, etag: string): ServedBody {
  return { body, bytes: Buffer.from(body), etag }
}

function cached(snapshot: RingSnapshot, key: string, build: () => ServedBody): ServedBody {
  const hit = snapshot.bodies.get(key)
  if (hit) return hit
  const built = build()
  if (snapshot.bodies.size < maxCachedBodies) snapshot.bodies.set(key, built)
  return built
}

/**
 * Decorates `flagSnapshots`, listens for flag changes and runs the periodic revision check. The
 * check is per replica on purpose: each replica has its own snapshots to keep fresh.
 */
export const flagSnapshotsPlugin = fp(
  async (fastify: FastifyInstance, options: Partial<FlagSnapshotOptions>) => {
    const log = fastify.log.child({ component: 'flag-snapshots' })
    const snapshots = new FlagSnapshots(fastify.store, log, options)
    fastify.decorate('flagSnapshots', snapshots)
    // This replica's own changes, refreshed before the change is answered: a client that changes
    // a flag and then polls the same replica sees its change.
    fastify.afterCommit.subscribe('flags-changed', async (effect) => {
      await Promise.all(effect.rings.map((ring) => snapshots.refresh(ring)))
    })

    const unlisten = await fastify.database.listen(
      flagChangesChannel,
      (ring) => void snapshots.refresh(ring),
      // After a reconnect of the listening connection, notifications sent meanwhile are lost.
      () => void snapshots.checkAll(),
    )

    // Changes made while the database was away were announced to a LISTEN that was down: catch
    // up as soon as it answers again, not at the next periodic check.
    const stopWatching = fastify.database.availability.onChange((available) => {
      if (available) void snapshots.recover()
    })

    const periodicCheck = new PeriodicTask('flag snapshot check', () => snapshots.checkAll(), {
      intervalMs: options.checkIntervalMs ?? 5000,
      log,
    })
    periodicCheck.start()

    fastify.addHook('onClose', async () => {
      await periodicCheck.stop()
      stopWatching()
      await unlisten().catch((error) =>
        log.debug({ err: error }, 'stopping the flag listener failed (database already closed)'),
      )
      await snapshots.close()
    })
  },
  { name: 'flag-snapshots', dependencies: ['database', 'after-commit'] },
)

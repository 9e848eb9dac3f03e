import type { Flag, FlagChange, RingFlagState, Store } from '@ringmaster/domain'
import type { FastifyBaseLogger } from 'fastify'
import t from 'tap'
import {
  FlagSnapshots,
  FlagStateUnavailableError,
} from '../../../src/plugins/app/flag-snapshots.js'

// The snapshot cache over a scripted store: coalesced reloads, the delta window, missed
// notifications, and serving the last snapshot when the store fails.

const at = '2030-01-01T00:00:00.000Z'

function flag(key: string, enabled: boolean): Flag {
  return {
    key,
    project: 'default',
    description: '',
    type: 'release',
    owner: null,
    tags: [],
    impressionData: false,
    stale: false,
    variants: [],
    dependencies: [],
    archived: false,
    rings: [{ ring: 'ring-0', enabled, strategies: [] }],
    createdAt: at,
    updatedAt: at,
  }
}

/** A ring whose revision moves when `change` is called; loads can be held open. */
class ScriptedStore {
  revision = 0
  changes: FlagChange[] = []
  flags = new Map<string, Flag>()
  loads: { since: number; limit: number }[] = []
  failing = false
  private gate: Promise<void> | undefined
  private openGate: (() => void) | undefined

  change(key: string, enabled: boolean, count = 1): void {
    this.revision++
    for (let i = 0; i < count; i++) {
      const name = count === 1 ? key : `${key}-${i}`
      this.flags.set(name, flag(name, enabled))
      this.changes.push({ ring: 'ring-0', revision: this.revision, kind: 'flag', name })
    }
  }

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve
    })
  }

  release(): void {
    this.openGate?.()
    this.gate = undefined
  }

  get store(): Store {
    const revisions = {
      current: async () => {
        if (this.failing) throw new Error('connection refused')
        return this.revision
      },
      currentAll: async () => {
        if (this.failing) throw new Error('connection refused')
        return new Map([['ring-0', this.revision]])
      },
      loadRing: async (ring: string, since: number, limit: number): Promise<RingFlagState> => {
        this.loads.push({ since, limit })
        const revision = this.revision
        const flags = [...this.flags.values()]
        const changes = this.changes
          .filter((change) => change.revision > since && change.revision <= revision)
          .slice(0, limit)
        await this.gate
        if (this.failing) throw new Error('connection refused')
        return { ring, revision, flags, segments: [], changes }
      },
    }
    return { read: { flagRevisions: revisions } } as unknown as Store
  }
}

const quiet = () => {}
const silent = {
  error: quiet,
  warn: quiet,
  info: quiet,
  debug: quiet,
  trace: quiet,
  fatal: quiet,
  child: () => silent,
} as unknown as FastifyBaseLogger

t.test('the first get loads; later gets are served from memory', async (t) => {
  const scripted = new ScriptedStore()
  scripted.change('a', true)
  const snapshots = new FlagSnapshots(scripted.store, silent)
  const first = await snapshots.get('ring-0')
  t.equal(first.revision, 1)
  t.equal(first.compiled.flags.size, 1)
  t.equal(await snapshots.get('ring-0'), first, 'no second load')
  t.equal(scripted.loads.length, 1)
  t.ok(first.bodies.size >= 2, 'both unfiltered client bodies are serialized up front')
})

t.test('changes during a load are folded into one more load', async (t) => {
  const scripted = new ScriptedStore()
  scripted.change('a', true)
  const snapshots = new FlagSnapshots(scripted.store, silent)
  await snapshots.get('ring-0')
  const seen: number[] = []
  snapshots.subscribe('ring-0', (snapshot, previous) => {
    seen.push(snapshot.revision)
    t.equal(previous?.revision, seen.length === 1 ? 1 : seen.at(-2))
  })
  scripted.hold()
  scripted.change('b', true)
  const refreshes = [snapshots.refresh('ring-0')]
  // The changes below must come while that load is under way, not before it starts.
  while (scripted.loads.length < 2) await new Promise(setImmediate)
  for (const key of ['c', 'd', 'e', 'f']) {
    scripted.change(key, true)
    refreshes.push(snapshots.refresh('ring-0'))
  }
  scripted.release()
  await Promise.all(refreshes)
  t.equal(scripted.loads.length, 3, 'the first load, one for the burst, one folded')
  t.equal(snapshots.current('ring-0')?.revision, 6)
  t.same(seen.at(-1), 6)
})

t.test('delta window: changes since any kept revision, else a hydration', async (t) => {
  const scripted = new ScriptedStore()
  const snapshots = new FlagSnapshots(scripted.store, silent, {
    maxDeltaRevisions: 3,
    maxDeltaChanges: 10,
  })
  scripted.change('a', true)
  await snapshots.get('ring-0')
  for (const key of ['b', 'c', 'd', 'e']) {
    scripted.change(key, true)
    await snapshots.refresh('ring-0')
  }
  const snapshot = snapshots.current('ring-0')!
  t.equal(snapshot.revision, 5)
  t.equal(snapshot.changesBase, 2, 'at most 3 revisions are kept')
  const fromThree = snapshots.delta(snapshot, 3)
  t.notOk(fromThree.hydration)
  t.same(
    JSON.parse(fromThree.body).events.map(
      (event: { feature: { name: string } }) => event.feature.name,
    ),
    ['d', 'e'],
  )
  t.ok(snapshots.delta(snapshot, 1).hydration, 'older than the window')
  t.ok(snapshots.delta(snapshot, undefined).hydration, 'no revision')
  t.ok(snapshots.delta(snapshot, 9).hydration, 'a revision this replica has not reached')
  t.ok(snapshots.delta(snapshot, 5).upToDate)
  t.equal(snapshots.delta(snapshot, 3).body, fromThree.body, 'answers are cached')
  t.equal(snapshot.bodies.size, 4, 'the two client bodies, one delta, one hydration')

  // One change touching more flags than the log keeps: deltas only from the new revision on.
  scripted.change('bulk', true, 11)
  await snapshots.refresh('ring-0')
  const after = snapshots.current('ring-0')!
  t.equal(after.changesBase, after.revision)
  t.ok(snapshots.delta(after, 5).hydration)
})

t.test('the periodic check catches a change whose notification was missed', async (t) => {
  const scripted = new ScriptedStore()
  scripted.change('a', true)
  const snapshots = new FlagSnapshots(scripted.store, silent)
  await snapshots.get('ring-0')
  scripted.change('a', false)
  t.equal(snapshots.current('ring-0')?.revision, 1, 'nobody told the cache')
  await snapshots.checkAll()
  t.equal(snapshots.current('ring-0')?.revision, 2)
  await snapshots.checkAll()
  t.equal(scripted.loads.length, 2, 'a check without changes loads nothing')
})

t.test('a failing store: the last snapshot is served, an unknown ring is a 503', async (t) => {
  const scripted = new ScriptedStore()
  scripted.change('a', true)
  const snapshots = new FlagSnapshots(scripted.store, silent)
  const before = await snapshots.get('ring-0')
  scripted.failing = true
  scripted.change('a', false)
  await snapshots.refresh('ring-0')
  await snapshots.checkAll()
  t.equal(await snapshots.get('ring-0'), before, 'still the last snapshot')
  await t.rejects(snapshots.get('ring-9'), FlagStateUnavailableError)
  t.equal(snapshots.current('ring-9'), undefined, 'a failed first load is not kept')
  scripted.failing = false
  await snapshots.checkAll()
  t.equal(snapshots.current('ring-0')?.revision, 2, 'caught up once the store is back')
})

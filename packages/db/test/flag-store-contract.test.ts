import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import {
  ConflictError,
  defaultRingPolicy,
  type FlagDefinition,
  type FlagRingState,
  type FlagStrategy,
  type SdkRegistration,
  type Store,
  type StoreTransaction,
} from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// The feature-flag repositories of the Store contract, on the DrizzleStore: PGlite and PostgreSQL.

const run = randomUUID().slice(0, 8)
let sequence = 0
const unique = (prefix: string) => `${prefix}-${run}-${++sequence}`
let nextOrder = 2_000_000 + Math.floor(Math.random() * 1_000_000)

type OpenStore = (t: Test) => Promise<Store>

const openDrizzle: OpenStore = async (t) => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return new DrizzleStore(connection.db)
}

const definition = (key: string, overrides: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key,
  project: 'default',
  description: 'a flag of the contract tests',
  type: 'release',
  owner: 'team-checkout',
  tags: [],
  impressionData: false,
  stale: false,
  variants: [],
  dependencies: [],
  ...overrides,
})

const strategy = (overrides: Partial<FlagStrategy> = {}): FlagStrategy => ({
  name: 'flexibleRollout',
  parameters: { rollout: '50', stickiness: 'default', groupId: 'g' },
  constraints: [{ contextName: 'region', operator: 'IN', values: ['westeurope'] }],
  segments: [],
  variants: [],
  ...overrides,
})

/** Resolves when `promise` settles or after `ms`, telling which. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false
  const watched = promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  await Promise.race([watched, delay(ms)])
  return settled
}

/** A transaction that runs `work`, then stays open until `commit()` is called. */
function heldTransaction<T>(store: Store, work: (tx: StoreTransaction) => Promise<T>) {
  let commit = () => {}
  const mayCommit = new Promise<void>((resolve) => {
    commit = resolve
  })
  let reportDone: (value: T) => void = () => {}
  const done = new Promise<T>((resolve) => {
    reportDone = resolve
  })
  const finished = store.transaction(async (tx) => {
    const value = await work(tx)
    reportDone(value)
    await mayCommit
    return value
  })
  return { done, commit, finished }
}

const entries = (map: Map<string, number>) => [...map].sort(([a], [b]) => a.localeCompare(b))

t.test(`DrizzleStore on ${testDatabaseKind}`, async (t) => {
  const store = await openDrizzle(t)

  const makeRing = (s: Store = store, name = unique('ring')) =>
    s.transaction(async (tx) => {
      await tx.rings.insert({
        name,
        order: nextOrder++,
        description: '',
        policy: defaultRingPolicy,
      })
      return name
    })
  const upsert = (flag: FlagDefinition, s: Store = store) =>
    s.transaction((tx) => tx.flags.upsert(flag))
  const putState = (key: string, state: FlagRingState, s: Store = store) =>
    s.transaction((tx) => tx.flags.putRingState(key, state))
  const archive = (key: string, s: Store = store) => s.transaction((tx) => tx.flags.archive(key))

  t.test('flags: upsert inserts, then replaces the definition keeping createdAt', async (t) => {
    const key = unique('flag')
    const input = definition(key, {
      tags: ['checkout', 'q3'],
      impressionData: true,
      variants: [{ name: 'blue', weight: 1000, stickiness: 'default' }],
      dependencies: [{ feature: 'parent-flag', enabled: true, variants: ['on'] }],
    })
    const created = await upsert(input)
    t.strictSame(
      { ...created, createdAt: 'x', updatedAt: 'x' },
      {
        ...input,
        archived: false,
        rings: [],
        createdAt: 'x',
        updatedAt: 'x',
      },
    )
    t.notOk(Number.isNaN(Date.parse(created.createdAt)))
    t.equal(created.updatedAt, created.createdAt)
    t.strictSame(await store.read.flags.findByKey(key), created)
    t.strictSame(
      await store.transaction((tx) => tx.flags.findByKey(key, { forUpdate: true })),
      created,
      'a locking read returns the same flag',
    )
    t.strictSame(
      await store.transaction((tx) => tx.flags.findByKey(key, { forShare: true })),
      created,
    )
    t.equal(await store.read.flags.findByKey(unique('missing')), null)

    await delay(5)
    const replaced = await upsert(
      definition(key, { description: 'now with a plan', type: 'experiment', owner: null }),
    )
    t.match(replaced, {
      key,
      description: 'now with a plan',
      type: 'experiment',
      owner: null,
      tags: [],
      variants: [],
      dependencies: [],
      createdAt: created.createdAt,
    })
    t.ok(Date.parse(replaced.updatedAt) > Date.parse(created.updatedAt), 'updatedAt moves')
    t.strictSame(await store.read.flags.findByKey(key), replaced)
  })

  t.test(
    'flags: putMany upserts many flags and one ring state each, as one by one would',
    async (t) => {
      const ring = await makeRing()
      const otherRing = await makeRing()
      const existing = unique('flag')
      await upsert(definition(existing, { owner: 'kept-owner', tags: ['old'] }))
      await putState(existing, { ring: otherRing, enabled: true, strategies: [] })
      await archive(existing)
      // More than one statement's worth, so that chunking is crossed.
      const keys = [existing, ...Array.from({ length: 1_102 }, () => unique('bulk'))]
      const wanted = keys.map((key, index) => ({
        definition: definition(key, {
          description: `flag ${index}`,
          tags: index === 0 ? ['old'] : [],
          variants: index % 2 ? [{ name: 'blue', weight: 1000, stickiness: 'default' }] : [],
        }),
        ringState: {
          ring,
          enabled: index % 3 === 0,
          strategies: index % 5 ? [] : [strategy({ parameters: { rollout: String(index % 100) } })],
        },
      }))
      // Out of key order on purpose: the store sorts.
      const afters = await store.transaction((tx) => tx.flags.putMany([...wanted].reverse()))
      t.equal(afters.size, keys.length, 'one flag back per key')

      const read = await store.read.flags.findManyByKeys([...keys, unique('missing')])
      t.strictSame([...read.keys()].sort(), [...keys].sort(), 'missing keys are left out')
      const visible = ({
        createdAt: _c,
        updatedAt: _u,
        ...rest
      }: {
        createdAt: string
        updatedAt: string
      }) => rest
      for (const [index, { definition: flag, ringState }] of wanted.entries()) {
        const after = afters.get(flag.key)!
        const rings =
          index === 0
            ? [{ ring: otherRing, enabled: true, strategies: [] }, ringState].sort((a, b) =>
                a.ring < b.ring ? -1 : 1,
              )
            : [ringState]
        const expected = { ...flag, archived: false, rings }
        if (!t.strictSame(visible(after), expected, `flag ${index} as put`)) break
        t.strictSame(read.get(flag.key), after, `flag ${index} read back the same`)
        t.strictSame(await store.read.flags.findByKey(flag.key), after, 'findByKey agrees')
        if (index > 3) break
      }
      const middle = wanted[700]!
      t.strictSame(
        visible(afters.get(middle.definition.key)!),
        { ...middle.definition, archived: false, rings: [middle.ringState] },
        'a flag of a later chunk too',
      )
      t.strictSame(
        visible((await store.read.flags.findByKey(existing))!),
        { ...wanted[0]!.definition, archived: false, rings: afters.get(existing)!.rings },
        'the archived flag came back, its other ring state kept',
      )
      const locked = await store.transaction((tx) =>
        tx.flags.findManyByKeys([keys[2]!, keys[1]!], { forUpdate: true }),
      )
      t.strictSame(
        [...locked.values()],
        [afters.get(keys[1]!), afters.get(keys[2]!)].sort((a, b) => (a!.key < b!.key ? -1 : 1)),
      )

      // More flags than loadRing reads per page: each once, in key order, with this ring's state.
      const loaded = await store.read.flagRevisions.loadRing(ring, 0, 0)
      const loadedKeys = loaded.flags.map((flag) => flag.key)
      t.strictSame(loadedKeys, [...loadedKeys].sort(), 'in key order')
      t.equal(new Set(loadedKeys).size, loadedKeys.length, 'each flag once')
      const bulk = loaded.flags.filter((flag) => afters.has(flag.key))
      t.equal(bulk.length, keys.length, 'every flag put, across pages')
      t.same(
        bulk.map((flag) => ({ key: flag.key, rings: flag.rings })),
        bulk.map((flag) => ({
          key: flag.key,
          rings: afters.get(flag.key)!.rings.filter((state) => state.ring === ring),
        })),
        "each with this ring's state only",
      )
    },
  )

  t.test('flags: list filters by tag, type and project and hides archived', async (t) => {
    const project = unique('project')
    const tag = unique('tag')
    const prefix = unique('flag')
    const a = await upsert(definition(`${prefix}-a`, { project, tags: [tag] }))
    const b = await upsert(
      definition(`${prefix}-b`, { project, tags: [tag, 'other'], type: 'experiment' }),
    )
    await upsert(definition(`${prefix}-c`, { project, tags: ['other'] }))
    const c = await archive(`${prefix}-c`)
    const elsewhere = await upsert(definition(`${prefix}-d`, { tags: [tag] }))

    const keys = async (filter: Parameters<Store['read']['flags']['list']>[0]) =>
      (await store.read.flags.list(filter)).map((flag) => flag.key)
    t.strictSame(await store.read.flags.list({ project }), [a, b], 'live flags, by key')
    t.strictSame(await store.read.flags.list({ project, includeArchived: true }), [a, b, c])
    t.strictSame(await keys({ tag }), [a.key, b.key, elsewhere.key], 'by tag, any project')
    t.strictSame(await keys({ project, tag: 'other' }), [b.key])
    t.strictSame(await keys({ project, tag: 'other', includeArchived: true }), [b.key, c.key])
    t.strictSame(await keys({ project, type: 'release' }), [a.key])
    t.strictSame(await keys({ project, type: 'experiment', tag }), [b.key])
    t.strictSame(await keys({ project: unique('nobody') }), [])
    const all = await keys({})
    t.ok(all.includes(a.key) && all.includes(elsewhere.key) && !all.includes(c.key))
  })

  t.test('flags: archive hides a flag; upsert brings it back with its states', async (t) => {
    const ring = await makeRing()
    const key = unique('flag')
    await upsert(definition(key))
    const state = { ring, enabled: true, strategies: [strategy()] }
    await putState(key, state)

    const archived = await archive(key)
    t.equal(archived.archived, true)
    t.strictSame(archived.rings, [state], 'archiving keeps the ring states')
    t.strictSame(await store.read.flags.findByKey(key), archived, 'still found by key')
    t.notOk(
      (await store.read.flags.list({})).some((flag) => flag.key === key),
      'not listed',
    )

    const revived = await upsert(definition(key, { description: 'back again' }))
    t.match(revived, { archived: false, description: 'back again', rings: [state] })
    t.ok((await store.read.flags.list({})).some((flag) => flag.key === key))
  })

  t.test(
    'flags: ring states are put, replaced, sorted by ring and dropped with the ring',
    async (t) => {
      const prefix = unique('ring')
      const later = await makeRing(store, `${prefix}-b`)
      const earlier = await makeRing(store, `${prefix}-a`)
      const key = unique('flag')
      const created = await upsert(definition(key))

      const laterState = { ring: later, enabled: false, strategies: [] }
      await delay(5)
      const first = await putState(key, laterState)
      t.strictSame(first.rings, [laterState])
      t.ok(Date.parse(first.updatedAt) > Date.parse(created.updatedAt), 'the flag was updated')
      t.equal(first.createdAt, created.createdAt)

      const earlierState = {
        ring: earlier,
        enabled: true,
        strategies: [strategy({ segments: ['beta-users'] }), strategy({ name: 'default' })],
      }
      const both = await putState(key, earlierState)
      t.strictSame(both.rings, [earlierState, laterState], 'sorted by ring name')

      const replaced = {
        ring: earlier,
        enabled: false,
        strategies: [strategy({ name: 'default' })],
      }
      t.strictSame((await putState(key, replaced)).rings, [replaced, laterState], 'replaced')
      t.strictSame((await store.read.flags.findByKey(key))!.rings, [replaced, laterState])
      t.strictSame(
        (await store.read.flags.list({})).find((flag) => flag.key === key)!.rings,
        [replaced, laterState],
        'list carries the ring states too',
      )

      await store.transaction((tx) => tx.rings.delete(earlier))
      t.strictSame(
        (await store.read.flags.findByKey(key))!.rings,
        [laterState],
        'deleting a ring drops the states in it',
      )

      await t.rejects(
        putState(key, { ring: unique('no-such-ring'), enabled: true, strategies: [] }),
        ConflictError,
        'a state in a ring that does not exist',
      )
      await t.rejects(
        putState(unique('no-such-flag'), { ring: later, enabled: true, strategies: [] }),
        ConflictError,
        'a state of a flag that does not exist',
      )
    },
  )

  t.test('segments: upsert gives an id and keeps it; list by name; delete', async (t) => {
    const prefix = unique('segment')
    const constraints = [{ contextName: 'userId', operator: 'IN', values: ['1', '2'] }]
    const b = await store.transaction((tx) =>
      tx.segments.upsert({ name: `${prefix}-b`, description: 'beta', constraints }),
    )
    t.match(b, { name: `${prefix}-b`, description: 'beta', constraints })
    t.type(b.id, 'number')
    t.equal(b.createdAt, b.updatedAt)
    const a = await store.transaction((tx) =>
      tx.segments.upsert({ name: `${prefix}-a`, description: '', constraints: [] }),
    )
    t.not(a.id, b.id, 'each segment its own id')

    await delay(5)
    const replaced = await store.transaction((tx) =>
      tx.segments.upsert({ name: `${prefix}-b`, description: 'beta testers', constraints: [] }),
    )
    t.strictSame(
      { ...replaced, updatedAt: 'x' },
      { ...b, description: 'beta testers', constraints: [], updatedAt: 'x' },
      'replacing keeps the id and createdAt',
    )
    t.ok(Date.parse(replaced.updatedAt) > Date.parse(b.updatedAt))
    t.strictSame(await store.read.segments.findByName(`${prefix}-b`), replaced)
    t.strictSame(
      await store.transaction((tx) => tx.segments.findByName(`${prefix}-b`, { forUpdate: true })),
      replaced,
    )
    t.equal(await store.read.segments.findByName(unique('missing')), null)
    const listed = (await store.read.segments.list()).filter((s) => s.name.startsWith(prefix))
    t.strictSame(listed, [a, replaced], 'by name')

    await store.transaction((tx) => tx.segments.delete(`${prefix}-a`))
    t.equal(await store.read.segments.findByName(`${prefix}-a`), null)
    t.strictSame(
      (await store.read.segments.list()).filter((s) => s.name.startsWith(prefix)),
      [replaced],
    )
    const again = await store.transaction((tx) =>
      tx.segments.upsert({ name: `${prefix}-a`, description: '', constraints: [] }),
    )
    t.not(again.id, a.id, 'a segment made again gets a new id')
  })

  t.test('flags: listUsingSegment names live flags with a strategy naming it', async (t) => {
    const [one, two] = [await makeRing(), await makeRing()]
    const segment = unique('segment')
    const prefix = unique('flag')
    for (const suffix of ['a', 'b', 'c', 'd', 'e']) await upsert(definition(`${prefix}-${suffix}`))
    // b names it in its second ring, c among other segments, d only while archived.
    await putState(`${prefix}-a`, { ring: one, enabled: true, strategies: [strategy()] })
    await putState(`${prefix}-b`, { ring: one, enabled: true, strategies: [strategy()] })
    await putState(`${prefix}-b`, {
      ring: two,
      enabled: false,
      strategies: [strategy(), strategy({ segments: [segment] })],
    })
    await putState(`${prefix}-c`, {
      ring: one,
      enabled: true,
      strategies: [strategy({ segments: ['other', segment] })],
    })
    await putState(`${prefix}-d`, {
      ring: one,
      enabled: true,
      strategies: [strategy({ segments: [segment] })],
    })
    await archive(`${prefix}-d`)
    await putState(`${prefix}-e`, {
      ring: one,
      enabled: true,
      strategies: [strategy({ segments: [`${segment}-longer`] })],
    })
    t.strictSame(await store.read.flags.listUsingSegment(segment), [`${prefix}-b`, `${prefix}-c`])
    t.strictSame(await store.read.flags.listUsingSegment(unique('unused')), [])
  })

  t.test('flags: listDependents names live flags depending on the parent', async (t) => {
    const parent = unique('parent')
    const prefix = unique('flag')
    await upsert(definition(`${prefix}-a`, { dependencies: [{ feature: parent }] }))
    await upsert(
      definition(`${prefix}-b`, {
        dependencies: [{ feature: 'other' }, { feature: parent, enabled: false }],
      }),
    )
    await upsert(definition(`${prefix}-c`, { dependencies: [{ feature: parent }] }))
    await archive(`${prefix}-c`)
    await upsert(definition(`${prefix}-d`, { dependencies: [{ feature: `${parent}-2` }] }))
    t.strictSame(await store.read.flags.listDependents(parent), [`${prefix}-a`, `${prefix}-b`])
    t.strictSame(await store.read.flags.listDependents(unique('nobody')), [])
  })

  t.test('revisions: bump counts per ring and logs the changes in order', async (t) => {
    const prefix = unique('ring')
    const [r1, r2] = [`${prefix}-a`, `${prefix}-b`]
    t.equal(await store.read.flagRevisions.current(r1), 0, '0 before the first change')

    const first = await store.transaction((tx) =>
      tx.flagRevisions.bump([r2, r1, r2], [{ kind: 'flag', name: 'checkout' }]),
    )
    t.strictSame(entries(first), [
      [r1, 1],
      [r2, 1],
    ])
    const second = await store.transaction((tx) =>
      tx.flagRevisions.bump(
        [r1],
        [
          { kind: 'segment', name: 'beta', segmentId: 7 },
          { kind: 'flag', name: 'search' },
          { kind: 'flag', name: 'search' },
        ],
      ),
    )
    t.strictSame(entries(second), [[r1, 2]])
    t.strictSame(
      entries(await store.transaction((tx) => tx.flagRevisions.bump([r2], []))),
      [[r2, 2]],
      'a bump may log nothing',
    )
    t.strictSame(entries(await store.transaction((tx) => tx.flagRevisions.bump([], []))), [])

    t.equal(await store.read.flagRevisions.current(r1), 2)
    t.equal(await store.read.flagRevisions.current(r2), 2)
    const all = await store.read.flagRevisions.currentAll()
    t.equal(all.get(r1), 2)
    t.equal(all.get(r2), 2)
    t.notOk(all.has(`${prefix}-c`))

    t.strictSame(await store.read.flagRevisions.listChanges(r1, 0, 10), [
      { ring: r1, revision: 1, kind: 'flag', name: 'checkout' },
      { ring: r1, revision: 2, kind: 'flag', name: 'search' },
      { ring: r1, revision: 2, kind: 'segment', name: 'beta', segmentId: 7 },
    ])
    t.strictSame(await store.read.flagRevisions.listChanges(r1, 1, 10), [
      { ring: r1, revision: 2, kind: 'flag', name: 'search' },
      { ring: r1, revision: 2, kind: 'segment', name: 'beta', segmentId: 7 },
    ])
    t.strictSame(await store.read.flagRevisions.listChanges(r1, 0, 1), [
      { ring: r1, revision: 1, kind: 'flag', name: 'checkout' },
    ])
    t.strictSame(await store.read.flagRevisions.listChanges(r1, 2, 10), [])
    t.strictSame(await store.read.flagRevisions.listChanges(r2, 0, 10), [
      { ring: r2, revision: 1, kind: 'flag', name: 'checkout' },
    ])
  })

  t.test('revisions: a rolled-back bump leaves nothing behind', async (t) => {
    const ring = unique('ring')
    await store.transaction((tx) => tx.flagRevisions.bump([ring], [{ kind: 'flag', name: 'f' }]))
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.flagRevisions.bump([ring], [{ kind: 'flag', name: 'g' }])
        throw new Error('the change failed')
      }),
      /the change failed/,
    )
    t.equal(await store.read.flagRevisions.current(ring), 1)
    t.equal((await store.read.flagRevisions.listChanges(ring, 0, 10)).length, 1)
  })

  t.test('revisions: concurrent bumps get distinct, consecutive revisions', async (t) => {
    const prefix = unique('ring')
    const rings = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]
    // Every order of the rings, so that a store locking them as given would deadlock.
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
      [0, 2, 1],
      [2, 0, 1],
      [1, 0, 2],
      [2, 1, 0],
      [0, 1, 2],
    ].map((order) => order.map((index) => rings[index]!))
    const results = await Promise.all(
      orders.map((order, index) =>
        store.transaction(async (tx) => {
          const revisions = await tx.flagRevisions.bump(order, [
            { kind: 'flag', name: `flag-${index}` },
          ])
          await delay(2)
          return revisions
        }),
      ),
    )
    for (const ring of rings) {
      const given = results.map((result) => result.get(ring)!).sort((a, b) => a - b)
      t.strictSame(given, [1, 2, 3, 4, 5, 6, 7, 8], `${ring}: each revision once`)
      const changes = await store.read.flagRevisions.listChanges(ring, 0, 100)
      t.strictSame(
        changes.map((change) => change.revision),
        [1, 2, 3, 4, 5, 6, 7, 8],
        'one change per revision, oldest first',
      )
      t.strictSame(
        changes.map((change) => change.name),
        given.map((revision) => `flag-${results.findIndex((r) => r.get(ring) === revision)}`),
        'each logged under the revision its bump returned',
      )
    }
  })

  t.test(
    'revisions and loadRing beside a transaction still open',
    {
      skip:
        testDatabaseKind === 'pglite' && 'needs PostgreSQL: PGlite runs one transaction at a time',
    },
    async (t) => {
      t.test('revisions: a bump waits for an uncommitted bump of the same ring', async (t) => {
        const prefix = unique('ring')
        const [r1, r2] = [`${prefix}-a`, `${prefix}-b`]
        const first = heldTransaction(store, (tx) =>
          tx.flagRevisions.bump([r1, r2], [{ kind: 'flag', name: 'first' }]),
        )
        t.strictSame(entries(await first.done), [
          [r1, 1],
          [r2, 1],
        ])
        const second = store.transaction((tx) =>
          tx.flagRevisions.bump([r2, r1], [{ kind: 'flag', name: 'second' }]),
        )
        t.notOk(await settlesWithin(second, 300), 'the second bump waits for the first to end')
        t.equal(await store.read.flagRevisions.current(r1), 0, 'readers do not see it yet')
        first.commit()
        await first.finished
        t.strictSame(entries(await second), [
          [r1, 2],
          [r2, 2],
        ])
        t.strictSame(
          (await store.read.flagRevisions.listChanges(r1, 0, 10)).map((c) => [c.revision, c.name]),
          [
            [1, 'first'],
            [2, 'second'],
          ],
        )
      })

      t.test('loadRing: neither waits for nor sees a change not yet committed', async (t) => {
        const store = await openDrizzle(t)
        const ring = await makeRing(store)
        const key = unique('flag')
        await upsert(definition(key, { description: 'before' }), store)
        await store.transaction((tx) =>
          tx.flagRevisions.bump([ring], [{ kind: 'flag', name: key }]),
        )
        const writer = heldTransaction(store, async (tx) => {
          await tx.flags.upsert(definition(key, { description: 'after' }))
          await tx.flags.putRingState(key, { ring, enabled: true, strategies: [] })
          return tx.flagRevisions.bump([ring], [{ kind: 'flag', name: key }])
        })
        await writer.done
        const during = await store.read.flagRevisions.loadRing(ring, 0, 10)
        t.match(during, { revision: 1, flags: [{ key, description: 'before', rings: [] }] })
        t.equal(during.changes.length, 1)
        writer.commit()
        await writer.finished
        const after = await store.read.flagRevisions.loadRing(ring, 0, 10)
        t.match(after, {
          revision: 2,
          flags: [{ key, description: 'after', rings: [{ ring, enabled: true }] }],
        })
        t.equal(after.changes.length, 2)
      })
    },
  )

  t.test(
    'loadRing: the live flags with this ring state, all segments, recent changes',
    async (t) => {
      const store = await openDrizzle(t)
      const [ring, other] = [await makeRing(store), await makeRing(store)]
      const prefix = unique('flag')
      const [configured, elsewhere, gone] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]
      const empty = await store.read.flagRevisions.loadRing(ring, 0, 10)
      t.strictSame(empty, { ring, revision: 0, flags: [], segments: [], changes: [] })

      const segment = await store.transaction((tx) =>
        tx.segments.upsert({ name: unique('segment'), description: '', constraints: [] }),
      )
      const state = {
        ring,
        enabled: true,
        strategies: [strategy({ segments: [segment.name] })],
      }
      await upsert(definition(configured, { tags: ['a'] }), store)
      await putState(configured, state, store)
      await putState(configured, { ring: other, enabled: false, strategies: [] }, store)
      await upsert(definition(elsewhere), store)
      await putState(elsewhere, { ring: other, enabled: true, strategies: [] }, store)
      await upsert(definition(gone), store)
      await putState(gone, state, store)
      await archive(gone, store)
      for (const name of [configured, elsewhere, gone]) {
        await store.transaction((tx) =>
          tx.flagRevisions.bump([ring, other], [{ kind: 'flag', name }]),
        )
      }
      await store.transaction((tx) =>
        tx.flagRevisions.bump(
          [ring],
          [{ kind: 'segment', name: segment.name, segmentId: segment.id }],
        ),
      )

      const loaded = await store.read.flagRevisions.loadRing(ring, 2, 10)
      const stored = async (key: string) => (await store.read.flags.findByKey(key))!
      t.strictSame(loaded, {
        ring,
        revision: 4,
        flags: [
          { ...(await stored(configured)), rings: [state] },
          { ...(await stored(elsewhere)), rings: [] },
        ],
        segments: [segment],
        changes: [
          { ring, revision: 3, kind: 'flag', name: gone },
          { ring, revision: 4, kind: 'segment', name: segment.name, segmentId: segment.id },
        ],
      })
      t.strictSame(
        (await store.read.flagRevisions.loadRing(ring, 0, 1)).changes,
        [{ ring, revision: 1, kind: 'flag', name: configured }],
        'up to the limit, oldest first',
      )
      t.strictSame(
        await store.transaction((tx) => tx.flagRevisions.loadRing(ring, 2, 10)),
        loaded,
        'the same inside a transaction',
      )
      const otherRing = await store.read.flagRevisions.loadRing(other, 0, 0)
      t.equal(otherRing.revision, 3)
      t.strictSame(
        otherRing.flags.map((flag) => [flag.key, flag.rings.map((r) => r.enabled)]),
        [
          [configured, [false]],
          [elsewhere, [true]],
        ],
      )
      t.strictSame(otherRing.changes, [], 'a limit of 0 lists no changes')
    },
  )

  t.test('metrics: counts are summed per flag, ring and hour, variants too', async (t) => {
    const flag = unique('flag')
    const [r1, r2] = [unique('ring'), unique('ring')]
    await store.transaction((tx) =>
      tx.flagMetrics.add([
        {
          flag,
          ring: r1,
          hour: '2025-03-01T10:00:00.000Z',
          yes: 3,
          no: 1,
          variants: { blue: 2 },
        },
        { flag, ring: r1, hour: '2025-03-01T10:59:59.999Z', yes: 1, no: 0, variants: { red: 1 } },
        { flag, ring: r2, hour: '2025-03-01T10:00:00.000Z', yes: 0, no: 5, variants: {} },
        { flag, ring: r1, hour: '2025-03-01T09:00:00.000Z', yes: 7, no: 7, variants: {} },
        {
          flag: `${flag}-other`,
          ring: r1,
          hour: '2025-03-01T10:00:00.000Z',
          yes: 1,
          no: 1,
          variants: {},
        },
      ]),
    )
    await store.transaction((tx) =>
      tx.flagMetrics.add([
        {
          flag,
          ring: r1,
          hour: '2025-03-01T10:30:00+01:00',
          yes: 1,
          no: 1,
          variants: { blue: 1 },
        },
        {
          flag,
          ring: r1,
          hour: '2025-03-01T10:00:00.000Z',
          yes: 2,
          no: 2,
          variants: { blue: 10, green: 4 },
        },
      ]),
    )
    await store.transaction((tx) => tx.flagMetrics.add([]))
    const day = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-02T00:00:00.000Z' }
    t.strictSame(
      await store.read.flagMetrics.list(flag, day),
      [
        {
          flag,
          ring: r1,
          hour: '2025-03-01T09:00:00.000Z',
          yes: 8,
          no: 8,
          variants: { blue: 1 },
        },
        {
          flag,
          ring: r1,
          hour: '2025-03-01T10:00:00.000Z',
          yes: 6,
          no: 3,
          variants: { blue: 12, red: 1, green: 4 },
        },
        { flag, ring: r2, hour: '2025-03-01T10:00:00.000Z', yes: 0, no: 5, variants: {} },
      ],
      'oldest hour first; a bucket is filed under the start of its hour',
    )
    t.strictSame(
      (await store.read.flagMetrics.list(flag, { ...day, ring: r2 })).map((b) => b.ring),
      [r2],
    )
    t.strictSame(
      (
        await store.read.flagMetrics.list(flag, {
          from: '2025-03-01T10:00:00.000Z',
          to: '2025-03-01T10:00:00.000Z',
        })
      ).map((b) => [b.ring, b.hour]),
      [
        [r1, '2025-03-01T10:00:00.000Z'],
        [r2, '2025-03-01T10:00:00.000Z'],
      ],
      'from and to are both included',
    )
    t.strictSame(await store.read.flagMetrics.list(unique('unknown'), day), [])
  })

  t.test('metrics: concurrent adds of the same hours lose nothing', async (t) => {
    const flag = unique('flag')
    const rings = [unique('ring'), unique('ring')]
    const hour = '2025-04-01T12:00:00.000Z'
    const reports = Array.from({ length: 12 }, (_, index) =>
      (index % 2 === 0 ? rings : [...rings].reverse()).map((ring) => ({
        flag,
        ring,
        hour,
        yes: 1,
        no: 2,
        variants: (index % 3 === 0 ? { a: 1 } : { a: 1, b: 2 }) as Record<string, number>,
      })),
    )
    await Promise.all(
      reports.map((buckets) => store.transaction((tx) => tx.flagMetrics.add(buckets))),
    )
    const listed = await store.read.flagMetrics.list(flag, { from: hour, to: hour })
    t.strictSame(
      listed,
      rings
        .sort((a, b) => a.localeCompare(b))
        .map((ring) => ({ flag, ring, hour, yes: 12, no: 24, variants: { a: 12, b: 16 } })),
    )
  })

  t.test('registrations: upsert inserts, then refreshes; list filters', async (t) => {
    const [r1, r2] = [`${unique('ring')}-a`, `${unique('ring')}-b`]
    const registration = (overrides: Partial<SdkRegistration>): SdkRegistration => ({
      ring: r1,
      kind: 'client',
      appName: 'checkout',
      instanceId: 'pod-1',
      sdkVersion: 'unleash-client-node:6.12.1',
      strategies: ['default', 'flexibleRollout'],
      startedAt: '2025-05-01T08:00:00.000Z',
      intervalMs: 15_000,
      seenAt: '2025-05-01T08:00:01.000Z',
      ...overrides,
    })
    const upsertRegistration = (value: SdkRegistration) =>
      store.transaction((tx) => tx.sdkRegistrations.upsert(value))

    const first = registration({})
    await upsertRegistration(first)
    t.strictSame(await store.read.sdkRegistrations.list({ ring: r1 }), [first])

    const refreshed = registration({
      sdkVersion: 'unleash-client-node:6.13.0',
      strategies: ['default'],
      startedAt: '2025-05-01T09:00:00+01:00',
      intervalMs: null,
      seenAt: '2025-05-01T09:30:00.000Z',
    })
    await upsertRegistration(refreshed)
    const browser = registration({
      kind: 'frontend',
      appName: 'web',
      instanceId: 'browser-1',
      sdkVersion: null,
      strategies: [],
      startedAt: null,
      intervalMs: null,
    })
    await upsertRegistration(browser)
    const secondPod = registration({ instanceId: 'pod-2' })
    await upsertRegistration(secondPod)
    const otherRing = registration({ ring: r2 })
    await upsertRegistration(otherRing)

    const asStored = { ...refreshed, startedAt: '2025-05-01T08:00:00.000Z' }
    t.strictSame(
      await store.read.sdkRegistrations.list({ ring: r1 }),
      [asStored, secondPod, browser],
      'refreshed in place; by kind, app name and instance',
    )
    t.strictSame(await store.read.sdkRegistrations.list({ ring: r1, kind: 'frontend' }), [browser])
    const clients = await store.read.sdkRegistrations.list({ kind: 'client' })
    t.ok(clients.some((r) => r.ring === r2) && !clients.some((r) => r.kind === 'frontend'))
    t.strictSame(await store.read.sdkRegistrations.list({ ring: unique('ring') }), [])
  })
})

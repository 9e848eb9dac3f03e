import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import {
  defaultRingPolicy,
  type NewDeployment,
  type NewRelease,
  type Release,
  type ReleaseState,
  type Stage,
  type StageState,
  type Store,
  type StoreTransaction,
} from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// The release engine's repositories of the Store contract, on the DrizzleStore: PGlite and PostgreSQL.

const run = randomUUID().slice(0, 8)
let sequence = 0
const unique = (prefix: string) => `${prefix}-${run}-${++sequence}`

interface NewWebhook {
  service: string
  events: string[]
  disabled?: boolean
}

interface QueuedDelivery {
  webhookId: number
  event: string
  payload: Record<string, unknown>
  state: string
}

interface Fixture {
  store: Store
  /** Registers a webhook through the webhook repository. */
  addWebhook(webhook: NewWebhook): Promise<number>
  /** The outbox rows of these webhooks, oldest first. */
  deliveries(webhookIds: number[]): Promise<QueuedDelivery[]>
}

type OpenFixture = (t: Test) => Promise<Fixture>

function webhookFixture(store: Store): Fixture {
  return {
    store,
    addWebhook: (webhook) =>
      store.transaction(async (tx) => {
        const { id } = await tx.webhooks.insert({
          service: webhook.service,
          url: 'https://executor.example/hook',
          secret: 'shh',
          events: webhook.events,
          createdBy: 'release-store-contract',
        })
        if (webhook.disabled) await tx.webhooks.disable(id, new Date().toISOString())
        return id
      }),
    async deliveries(ids) {
      const rows = (
        await Promise.all(ids.map((id) => store.read.webhooks.listDeliveries(id, 1000)))
      ).flat()
      return rows
        .sort((a, b) => a.id - b.id)
        .map(({ webhookId, event, payload, state }) => ({ webhookId, event, payload, state }))
    },
  }
}

const openDrizzle: OpenFixture = async (t) => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return webhookFixture(new DrizzleStore(connection.db))
}

const isoIn = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString()

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
  // The timer is cleared once the race is decided, so a long `ms` does not keep the file running.
  const gaveUp = new AbortController()
  await Promise.race([watched, delay(ms, undefined, { signal: gaveUp.signal })])
  gaveUp.abort()
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

t.test(`DrizzleStore on ${testDatabaseKind}`, async (t) => {
  const fixture = await openDrizzle(t)
  const { store } = fixture
  const tx = <T>(work: (tx: StoreTransaction) => Promise<T>) => store.transaction(work)

  const makeService = async () =>
    (await tx((tx) => tx.services.insert({ name: unique('svc'), description: '', owner: null })))
      .name

  const newRelease = (service: string, overrides: Partial<NewRelease> = {}): NewRelease => ({
    service,
    version: unique('v'),
    commit: null,
    commitTime: null,
    buildUrl: null,
    notes: '',
    kind: 'standard',
    reason: null,
    requester: 'carol@example.com',
    ringFrom: 'canary',
    ringTo: 'world',
    incidentId: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  })

  const makeRelease = async (service: string, state?: ReleaseState): Promise<Release> => {
    const release = await tx((tx) => tx.releases.insert(newRelease(service)))
    return state ? tx((tx) => tx.releases.update(release.id, { state })) : release
  }

  const makeStage = async (
    releaseId: number,
    ring: string,
    state?: StageState,
    position = 0,
  ): Promise<Stage> => {
    const [stage] = await tx((tx) =>
      tx.stages.insertMany([
        {
          releaseId,
          position,
          ring,
          ringOrder: position,
          policy: defaultRingPolicy,
          waves: [['su-a']],
        },
      ]),
    )
    return state ? tx((tx) => tx.stages.update(stage!.id, { state })) : stage!
  }

  const deploymentOf = (
    stage: Stage,
    service: string,
    scaleUnit: string,
    overrides: Partial<NewDeployment> = {},
  ): NewDeployment => ({
    releaseId: stage.releaseId,
    stageId: stage.id,
    ring: stage.ring,
    service,
    scaleUnit,
    wave: 0,
    kind: 'deploy',
    version: '2.0.0',
    previousVersion: '1.0.0',
    requestedAt: '2026-11-23T09:00:00.000Z',
    ...overrides,
  })

  t.test('services: findByName with forUpdate reads the same service', async (t) => {
    const name = await makeService()
    const plain = await store.read.services.findByName(name)
    const locked = await tx((tx) => tx.services.findByName(name, { forUpdate: true }))
    t.strictSame(locked, plain)
    t.equal(await tx((tx) => tx.services.findByName(unique('svc'), { forUpdate: true })), null)
  })

  t.test('services: a locked service holds back a second locker until commit', async (t) => {
    const name = await makeService()
    const first = heldTransaction(store, (tx) => tx.services.findByName(name, { forUpdate: true }))
    await first.done
    const second = tx((tx) => tx.services.findByName(name, { forUpdate: true }))
    t.notOk(await settlesWithin(second, 300), 'the second waits for the first')
    first.commit()
    await first.finished
    t.equal((await second)?.name, name)
  })

  t.test('releases: insert starts queued, findById reads it back', async (t) => {
    const service = await makeService()
    const input = newRelease(service, {
      commit: 'abc123',
      commitTime: '2026-01-02T03:04:05+01:00',
      buildUrl: 'https://ci.example/1',
      notes: 'Faster checkout',
      kind: 'hotfix',
      reason: 'the login page is down',
    })
    const release = await tx((tx) => tx.releases.insert(input))
    t.match(release, {
      service,
      version: input.version,
      commit: 'abc123',
      commitTime: '2026-01-02T02:04:05.000Z',
      buildUrl: 'https://ci.example/1',
      notes: 'Faster checkout',
      kind: 'hotfix',
      reason: 'the login page is down',
      requester: 'carol@example.com',
      ringFrom: 'canary',
      ringTo: 'world',
      state: 'queued',
      halt: null,
      outcome: null,
      finishedAt: null,
    })
    t.type(release.id, 'number')
    t.notOk(Number.isNaN(Date.parse(release.createdAt)))
    t.strictSame(await store.read.releases.findById(release.id), release)
    t.strictSame(
      await tx((tx) => tx.releases.findById(release.id, { forUpdate: true })),
      release,
      'a locking read returns the same release',
    )
    t.equal(await store.read.releases.findById(release.id + 1_000_000), null)
  })

  t.test('releases: update changes only the given fields and bumps updatedAt', async (t) => {
    const release = await makeRelease(await makeService())
    await delay(5)
    const halt = {
      by: 'dave@example.com',
      reason: 'error rate',
      cause: 'manual' as const,
      at: '2026-03-01T10:00:00.000Z',
      resumeTo: 'queued' as const,
    }
    const halted = await tx((tx) => tx.releases.update(release.id, { state: 'halted', halt }))
    t.strictSame(halted, { ...release, state: 'halted', halt, updatedAt: halted.updatedAt })
    t.ok(halted.updatedAt > release.updatedAt, 'updatedAt moved on')

    const finished = await tx((tx) =>
      tx.releases.update(release.id, {
        state: 'cancelled',
        halt: null,
        outcome: 'cancelled by dave',
        finishedAt: '2026-03-01T12:00:00+02:00',
      }),
    )
    t.match(finished, {
      state: 'cancelled',
      halt: null,
      outcome: 'cancelled by dave',
      finishedAt: '2026-03-01T10:00:00.000Z',
      version: release.version,
    })
    t.strictSame(await store.read.releases.findById(release.id), finished)
  })

  t.test('releases: list filters by service, states and beforeId, newest first', async (t) => {
    const service = await makeService()
    const other = await makeService()
    const a = await makeRelease(service)
    const b = await makeRelease(service, 'in_progress')
    const c = await makeRelease(service, 'succeeded')
    const d = await makeRelease(service)
    await makeRelease(other)
    const list = (filter: Parameters<StoreTransaction['releases']['list']>[0]) =>
      store.read.releases.list(filter).then((releases) => releases.map((r) => r.id))

    t.strictSame(await list({ service, limit: 10 }), [d.id, c.id, b.id, a.id])
    t.strictSame(await list({ service, limit: 2 }), [d.id, c.id], 'limit')
    t.strictSame(await list({ service, beforeId: c.id, limit: 10 }), [b.id, a.id], 'paging')
    t.strictSame(
      await list({ service, states: ['queued', 'in_progress'], limit: 10 }),
      [d.id, b.id, a.id],
      'states',
    )
    t.strictSame(await list({ service, states: [], limit: 10 }), [], 'no states, no releases')
    t.strictSame(await list({ service: unique('svc'), limit: 10 }), [])
    const everyService = await list({ limit: 100 })
    t.ok(everyService.includes(a.id) && everyService.length >= 5, 'no service: all of them')
    t.strictSame(
      everyService,
      [...everyService].sort((x, y) => y - x),
      'newest first',
    )
    t.strictSame((await store.read.releases.list({ service, limit: 1 }))[0], d, 'whole releases')
    const again = await tx((tx) =>
      tx.releases.insert(newRelease(service, { version: b.version, commit: 'c0ffee' })),
    )
    t.strictSame(
      await list({ service, version: b.version, limit: 10 }),
      [again.id, b.id],
      'version: the releases of one version',
    )
    t.strictSame(
      await list({ service, version: b.version, beforeId: again.id, limit: 10 }),
      [b.id],
      'version and beforeId: the earlier ones',
    )
    t.strictSame(await list({ service: other, version: b.version, limit: 10 }), [])
  })

  t.test('releases: leaseDue hands due releases to one owner at a time', async (t) => {
    // Its own store: leaseDue looks at every release, and other tests leave theirs behind.
    const { store } = await openDrizzle(t)
    const service = (
      await store.transaction((tx) =>
        tx.services.insert({ name: unique('svc'), description: '', owner: null }),
      )
    ).name
    const insert = (state?: ReleaseState, nextCheckAt?: string | null) =>
      store.transaction(async (tx) => {
        const release = await tx.releases.insert(newRelease(service))
        if (state || nextCheckAt !== undefined)
          await tx.releases.update(release.id, {
            ...(state && { state }),
            ...(nextCheckAt !== undefined && { nextCheckAt }),
          })
        return release.id
      })
    const queued = await insert()
    const running = await insert('in_progress')
    const dueNow = await insert('in_progress', isoIn(-1))
    const later = await insert('queued', isoIn(30))
    await insert('halted')
    await insert('succeeded')
    await insert('cancelled')
    const now = new Date().toISOString()
    const leaseUntil = isoIn(1)
    const lease = (owner: string, at = now, until = leaseUntil, limit = 10) =>
      store.transaction((tx) => tx.releases.leaseDue(owner, at, until, limit))

    const first = await lease('replica-a', now, leaseUntil, 2)
    t.strictSame(first, [queued, running], 'the oldest due ones, up to the limit')
    const second = await lease('replica-b')
    t.strictSame(second, [dueNow], 'not the leased, not-due, halted or finished ones')
    t.strictSame(await lease('replica-c'), [], 'nothing left for a third owner')
    t.strictSame(await lease('replica-a'), [queued, running], 'an owner may renew its own leases')

    t.strictSame(
      await lease('replica-c', isoIn(2), isoIn(3)),
      [queued, running, dueNow],
      'expired leases go to whoever asks',
    )
    t.strictSame(
      await lease('replica-c', isoIn(31), isoIn(32)),
      [queued, running, dueNow, later],
      'a release comes due at its nextCheckAt',
    )

    await store.transaction((tx) => tx.releases.update(running, { nextCheckAt: null }))
    t.strictSame(
      await lease('replica-d', now, leaseUntil),
      [running],
      'setting nextCheckAt ends the lease at once',
    )
  })

  t.test('releases: two owners leasing at once get disjoint releases', async (t) => {
    const { store } = await openDrizzle(t)
    const ids = await store.transaction(async (tx) => {
      const service = await tx.services.insert({
        name: unique('svc'),
        description: '',
        owner: null,
      })
      const ids: number[] = []
      for (let i = 0; i < 20; i += 1)
        ids.push((await tx.releases.insert(newRelease(service.name))).id)
      return ids
    })
    const now = new Date().toISOString()
    const [a, b] = await Promise.all(
      ['replica-a', 'replica-b'].map((owner) =>
        store.transaction((tx) => tx.releases.leaseDue(owner, now, isoIn(1), 15)),
      ),
    )
    t.strictSame(
      a!.filter((id) => b!.includes(id)),
      [],
      'no release leased twice',
    )
    t.strictSame(
      [...a!, ...b!].sort((x, y) => x - y),
      ids,
      'between them, every release',
    )
  })

  t.test('stages: insertMany starts pending; listByRelease in position order', async (t) => {
    const release = await makeRelease(await makeService())
    const policy = { ...defaultRingPolicy, bakeMinutes: 15, health: { maxErrorRate: 0.01 } }
    const inserted = await tx((tx) =>
      tx.stages.insertMany([
        { releaseId: release.id, position: 1, ring: 'world', ringOrder: 9, policy, waves: [] },
        {
          releaseId: release.id,
          position: 0,
          ring: 'canary',
          ringOrder: 1,
          policy: defaultRingPolicy,
          waves: [['su-1', 'su-2'], ['su-3']],
        },
      ]),
    )
    t.equal(inserted.length, 2)
    t.match(inserted[0], {
      releaseId: release.id,
      position: 1,
      ring: 'world',
      ringOrder: 9,
      state: 'pending',
      currentWave: -1,
      gate: null,
      startedAt: null,
      deployedAt: null,
      bakeUntil: null,
      approvalExpiresAt: null,
      finishedAt: null,
      freezeOverride: null,
    })
    t.strictSame(inserted[0]?.policy, policy, 'the policy snapshot')
    t.strictSame(inserted[1]?.waves, [['su-1', 'su-2'], ['su-3']], 'the waves snapshot')
    t.strictSame(
      await store.read.stages.listByRelease(release.id),
      [inserted[1], inserted[0]],
      'in position order',
    )
    t.strictSame(await tx((tx) => tx.stages.insertMany([])), [])
  })

  t.test('stages: update changes only the given fields', async (t) => {
    const release = await makeRelease(await makeService())
    const stage = await makeStage(release.id, 'canary')
    const freezeOverride = { by: 'erin', reason: 'hotfix', at: '2026-05-01T00:00:00.000Z' }
    const started = await tx((tx) =>
      tx.stages.update(stage.id, {
        state: 'awaiting_approval',
        gate: 'pre',
        startedAt: '2026-05-01T01:00:00+01:00',
        approvalExpiresAt: '2026-05-01T05:00:00+01:00',
        freezeOverride,
      }),
    )
    t.strictSame(started, {
      ...stage,
      state: 'awaiting_approval',
      gate: 'pre',
      startedAt: '2026-05-01T00:00:00.000Z',
      approvalExpiresAt: '2026-05-01T04:00:00.000Z',
      freezeOverride,
    })
    const baking = await tx((tx) =>
      tx.stages.update(stage.id, {
        state: 'baking',
        gate: null,
        currentWave: 0,
        deployedAt: '2026-05-01T00:10:00.000Z',
        bakeUntil: '2026-05-01T00:40:00.000Z',
        approvalExpiresAt: null,
      }),
    )
    t.strictSame(baking, {
      ...started,
      state: 'baking',
      gate: null,
      currentWave: 0,
      deployedAt: '2026-05-01T00:10:00.000Z',
      bakeUntil: '2026-05-01T00:40:00.000Z',
      approvalExpiresAt: null,
    })
    t.strictSame(await tx((tx) => tx.stages.update(stage.id, {})), baking, 'an empty change')
    t.strictSame(await store.read.stages.listByRelease(release.id), [baking])
  })

  t.test('stages: findRingHolders finds other live releases in the ring', async (t) => {
    const service = await makeService()
    const other = await makeService()
    const ring = unique('ring')
    const holding = ['deploying', 'baking', 'awaiting_approval'] as const

    const running = await makeRelease(service, 'in_progress')
    await makeStage(running.id, 'canary', 'succeeded', 0)
    await makeStage(running.id, ring, 'deploying', 1)
    const halted = await makeRelease(service, 'halted')
    await makeStage(halted.id, ring, 'baking')
    const queued = await makeRelease(service, 'queued')
    await makeStage(queued.id, ring, 'awaiting_approval')
    const finished = await makeRelease(service, 'succeeded')
    await makeStage(finished.id, ring, 'deploying')
    const failed = await makeRelease(service, 'failed')
    await makeStage(failed.id, ring, 'baking')
    const passedThrough = await makeRelease(service, 'in_progress')
    await makeStage(passedThrough.id, ring, 'succeeded')
    const otherService = await makeRelease(other, 'in_progress')
    await makeStage(otherService.id, ring, 'deploying')
    const asking = await makeRelease(service, 'in_progress')
    await makeStage(asking.id, ring, 'deploying')

    t.strictSame(
      await store.read.stages.findRingHolders(service, ring, holding, asking.id),
      [
        { releaseId: running.id, state: 'deploying' },
        { releaseId: halted.id, state: 'baking' },
        { releaseId: queued.id, state: 'awaiting_approval' },
      ],
      'not finished releases, stages out of the ring states, other services, or the asker',
    )
    t.strictSame(
      await store.read.stages.findRingHolders(service, ring, ['deploying'], running.id),
      [{ releaseId: asking.id, state: 'deploying' }],
    )
    t.strictSame(await store.read.stages.findRingHolders(service, ring, [], asking.id), [])
    t.strictSame(
      await store.read.stages.findRingHolders(service, unique('ring'), holding, asking.id),
      [],
    )
  })

  t.test('deployments: insertMany creates pending rows, never the same one twice', async (t) => {
    const service = await makeService()
    const release = await makeRelease(service, 'in_progress')
    const stage = await makeStage(release.id, 'canary', 'deploying')
    const [a, b] = [deploymentOf(stage, service, 'su-a'), deploymentOf(stage, service, 'su-b')]

    const created = await tx((tx) => tx.deployments.insertMany([a, b]))
    t.equal(created.length, 2)
    t.match(created[0], {
      ...a,
      state: 'pending',
      attempt: 1,
      message: null,
      logsUrl: null,
      startedAt: null,
      finishedAt: null,
    })
    t.notOk(Number.isNaN(Date.parse(created[0]?.createdAt ?? '')))

    const rollback = deploymentOf(stage, service, 'su-a', {
      kind: 'rollback',
      version: '1.0.0',
      previousVersion: '2.0.0',
    })
    const c = deploymentOf(stage, service, 'su-c', { wave: 1 })
    const again = await tx((tx) => tx.deployments.insertMany([b, rollback, a, c, c]))
    t.strictSame(
      again.map((d) => [d.scaleUnit, d.kind]),
      [
        ['su-a', 'rollback'],
        ['su-c', 'deploy'],
      ],
      'only the new rows, each once',
    )
    const all = await store.read.deployments.listByRelease(release.id)
    t.strictSame(all, [...created, ...again], 'in id order, nothing doubled')
    t.strictSame(await tx((tx) => tx.deployments.insertMany([])), [])
  })

  t.test('deployments: insertMany takes 10,000 rows at once', async (t) => {
    const service = await makeService()
    const release = await makeRelease(service, 'in_progress')
    const stage = await makeStage(release.id, 'world', 'deploying')
    const rows = Array.from({ length: 10_000 }, (_, i) =>
      deploymentOf(stage, service, `su-${i}`, { wave: Math.floor(i / 100) }),
    )
    const created = await tx((tx) => tx.deployments.insertMany(rows))
    t.equal(created.length, 10_000)
    t.equal(new Set(created.map((d) => d.scaleUnit)).size, 10_000)
    t.equal(created[9_999]?.scaleUnit, 'su-9999')
    t.strictSame(await tx((tx) => tx.deployments.insertMany(rows)), [], 'the second time: none')
    t.equal((await store.read.deployments.listByRelease(release.id)).length, 10_000)
    t.equal((await store.read.deployments.listByStageWave(stage.id, 42)).length, 100)
  })

  t.test('deployments: find, list and update', async (t) => {
    const service = await makeService()
    const unit = unique('su')
    const release = await makeRelease(service, 'in_progress')
    const stage = await makeStage(release.id, 'canary', 'deploying')
    const [first, second, otherUnit, nextWave] = await tx((tx) =>
      tx.deployments.insertMany([
        deploymentOf(stage, service, unit),
        deploymentOf(stage, service, `${unit}-2`),
        deploymentOf(stage, service, unique('su')),
        deploymentOf(stage, service, `${unit}-3`, { wave: 1 }),
      ]),
    )
    const rollback = (
      await tx((tx) =>
        tx.deployments.insertMany([deploymentOf(stage, service, unit, { kind: 'rollback' })]),
      )
    )[0]!

    t.strictSame(await store.read.deployments.findById(first!.id), first)
    t.strictSame(await tx((tx) => tx.deployments.findById(first!.id, { forUpdate: true })), first)
    t.equal(await store.read.deployments.findById(first!.id + 1_000_000), null)

    t.strictSame(
      await store.read.deployments.listByStageWave(stage.id, 0),
      [first, second, otherUnit],
      'deploy kind only, one wave',
    )
    t.strictSame(await store.read.deployments.listByStageWave(stage.id, 1), [nextWave])

    const started = await tx((tx) =>
      tx.deployments.update(first!.id, {
        state: 'in_progress',
        startedAt: '2026-06-01T00:00:00.000Z',
        logsUrl: 'https://logs.example/1',
      }),
    )
    t.strictSame(started, {
      ...first,
      state: 'in_progress',
      startedAt: '2026-06-01T00:00:00.000Z',
      logsUrl: 'https://logs.example/1',
    })
    t.strictSame(await tx((tx) => tx.deployments.update(first!.id, {})), started)
    t.strictSame(
      await store.read.deployments.listOpenForScaleUnit(unit),
      [started, rollback],
      'pending and in progress, oldest first',
    )
    const done = await tx((tx) =>
      tx.deployments.update(first!.id, {
        state: 'failed',
        attempt: 2,
        message: 'timed out',
        finishedAt: '2026-06-01T00:05:00+00:00',
      }),
    )
    t.match(done, { state: 'failed', attempt: 2, message: 'timed out' })
    t.equal(done.finishedAt, '2026-06-01T00:05:00.000Z')
    t.strictSame(await store.read.deployments.listOpenForScaleUnit(unit), [rollback])
  })

  t.test('deployments: listHealthGated follows the stage and release states', async (t) => {
    const service = await makeService()
    const unit = unique('su')
    const succeed = (ids: number[]) =>
      tx(async (tx) => {
        for (const id of ids) await tx.deployments.update(id, { state: 'succeeded' })
      })

    const running = await makeRelease(service, 'in_progress')
    const deploying = await makeStage(running.id, 'canary', 'deploying', 0)
    const pendingStage = await makeStage(running.id, 'world', 'pending', 1)
    const [gated, otherUnit, rolledBack, failed, notYet, stillPending] = await tx((tx) =>
      tx.deployments.insertMany([
        deploymentOf(deploying, service, unit),
        deploymentOf(deploying, service, unique('su')),
        deploymentOf(deploying, service, unit, { kind: 'rollback' }),
        deploymentOf(deploying, service, `${unit}-failed`),
        deploymentOf(pendingStage, service, unit),
        deploymentOf(pendingStage, service, `${unit}-pending`),
      ]),
    )
    await succeed([gated!.id, otherUnit!.id, rolledBack!.id, notYet!.id])
    await tx((tx) => tx.deployments.update(failed!.id, { state: 'failed' }))
    t.ok(stillPending)

    const halted = await makeRelease(service, 'halted')
    const haltedStage = await makeStage(halted.id, 'canary', 'baking')
    const [haltedDeployment] = await tx((tx) =>
      tx.deployments.insertMany([deploymentOf(haltedStage, service, unit)]),
    )
    await succeed([haltedDeployment!.id])

    const baking = await makeRelease(service, 'in_progress')
    const bakingStage = await makeStage(baking.id, 'canary', 'baking')
    const [baked] = await tx((tx) =>
      tx.deployments.insertMany([deploymentOf(bakingStage, service, unit)]),
    )
    await succeed([baked!.id])

    const gatedIds = (await store.read.deployments.listHealthGated(service, unit)).map((d) => d.id)
    t.strictSame(gatedIds, [gated!.id, baked!.id])
    t.match(await store.read.deployments.listHealthGated(service, unit), [
      { id: gated!.id, state: 'succeeded', kind: 'deploy', scaleUnit: unit },
      { id: baked!.id },
    ])
    t.strictSame(await store.read.deployments.listHealthGated(unique('svc'), unit), [])
  })

  t.test('deployments: withdrawPending rolls back only pending ones', async (t) => {
    const service = await makeService()
    const release = await makeRelease(service, 'in_progress')
    const other = await makeRelease(service, 'in_progress')
    const stage = await makeStage(release.id, 'canary', 'deploying')
    const otherStage = await makeStage(other.id, 'canary', 'deploying')
    const [pending1, running, pending2] = await tx((tx) =>
      tx.deployments.insertMany([
        deploymentOf(stage, service, 'su-1'),
        deploymentOf(stage, service, 'su-2'),
        deploymentOf(stage, service, 'su-3'),
      ]),
    )
    const [otherPending] = await tx((tx) =>
      tx.deployments.insertMany([deploymentOf(otherStage, service, 'su-1')]),
    )
    await tx((tx) => tx.deployments.update(running!.id, { state: 'in_progress' }))

    const count = await tx((tx) =>
      tx.deployments.withdrawPending(release.id, 'release cancelled', '2026-07-01T00:00:00Z'),
    )
    t.equal(count, 2)
    const after = await store.read.deployments.listByRelease(release.id)
    t.match(after, [
      { id: pending1!.id, state: 'rolled_back', message: 'release cancelled' },
      { id: running!.id, state: 'in_progress', message: null, finishedAt: null },
      { id: pending2!.id, state: 'rolled_back', finishedAt: '2026-07-01T00:00:00.000Z' },
    ])
    t.equal((await store.read.deployments.findById(otherPending!.id))?.state, 'pending')
    t.equal(
      await tx((tx) => tx.deployments.withdrawPending(release.id, 'again', isoIn(0))),
      0,
      'nothing left to withdraw',
    )
  })

  t.test('approvals: insert and list oldest first', async (t) => {
    const release = await makeRelease(await makeService())
    const canary = await makeStage(release.id, 'canary', undefined, 0)
    const world = await makeStage(release.id, 'world', undefined, 1)
    const approve = (stage: Stage, subject: string, decision: 'approve' | 'reject') =>
      tx((tx) =>
        tx.approvals.insert({
          releaseId: release.id,
          stageId: stage.id,
          ring: stage.ring,
          gate: 'pre',
          subject,
          role: 'approver',
          decision,
          comment: decision === 'reject' ? 'not today' : '',
        }),
      )
    const first = await approve(canary, 'frank', 'approve')
    const second = await approve(world, 'grace', 'reject')
    const third = await approve(canary, 'heidi', 'approve')
    t.match(first, {
      releaseId: release.id,
      stageId: canary.id,
      ring: 'canary',
      gate: 'pre',
      subject: 'frank',
      role: 'approver',
      decision: 'approve',
      comment: '',
    })
    t.notOk(Number.isNaN(Date.parse(first.at)))
    t.strictSame(await store.read.approvals.listByStage(canary.id), [first, third])
    t.strictSame(await store.read.approvals.listByRelease(release.id), [first, second, third])
  })

  t.test('halts: insert, list, lift', async (t) => {
    const target = unique('svc')
    const stop = (scope: 'global' | 'service' | 'ring', reason: string) =>
      tx((tx) =>
        tx.halts.insert({
          scope,
          target: scope === 'global' ? null : target,
          reason,
          createdBy: 'ivan',
        }),
      )
    const a = await stop('service', 'incident 1')
    const b = await stop('ring', 'incident 2')
    const c = await stop('global', 'incident 3')
    t.match(a, {
      scope: 'service',
      target,
      reason: 'incident 1',
      createdBy: 'ivan',
      liftedBy: null,
      liftedAt: null,
    })
    t.equal(c.target, null)
    t.strictSame(await store.read.halts.findById(b.id), b)
    t.strictSame(await tx((tx) => tx.halts.findById(b.id, { forUpdate: true })), b)
    t.equal(await store.read.halts.findById(c.id + 1_000_000), null)

    const mine = (halts: { id: number }[]) =>
      halts.filter((halt) => [a.id, b.id, c.id].includes(halt.id))
    t.strictSame(mine(await store.read.halts.listActive()), [a, b, c], 'oldest first')
    const lifted = await tx((tx) => tx.halts.lift(b.id, 'judy', '2026-08-01T00:00:00+00:00'))
    t.strictSame(lifted, { ...b, liftedBy: 'judy', liftedAt: '2026-08-01T00:00:00.000Z' })
    t.strictSame(mine(await store.read.halts.listActive()), [a, c], 'lifted ones are not active')
    t.strictSame(await store.read.halts.list(3), [c, lifted, a], 'newest first, lifted too')
    t.strictSame(await store.read.halts.list(1), [c])
  })

  t.test('halts: one an incident opened is read with the incident', async (t) => {
    const service = await makeService()
    const { halt, incident } = await tx(async (tx) => {
      const halt = await tx.halts.insert({
        scope: 'service',
        target: service,
        reason: 'incident: checkout 500s',
        createdBy: 'ivan',
      })
      const incident = await tx.incidents.insert({
        service,
        severity: 'sev2',
        title: 'checkout 500s',
        ring: null,
        scaleUnits: [],
        trafficShare: 1,
        releaseId: null,
        haltId: null,
        startedAt: '2026-08-01T00:00:00.000Z',
        detectedAt: '2026-08-01T00:00:00.000Z',
        createdBy: 'ivan',
      })
      await tx.incidents.update(incident.id, { haltId: halt.id })
      return { halt, incident }
    })
    t.equal(halt.incidentId, null, 'inserted before the incident pointed at it')
    const expected = { ...halt, incidentId: incident.id }
    t.strictSame(await store.read.halts.findById(halt.id), expected)
    t.strictSame(await tx((tx) => tx.halts.findById(halt.id, { forUpdate: true })), expected)
    t.strictSame(
      (await store.read.halts.listActive()).find((active) => active.id === halt.id),
      expected,
    )
    t.strictSame(
      (await store.read.halts.list(500)).find((listed) => listed.id === halt.id),
      expected,
    )
    const lifted = await tx((tx) => tx.halts.lift(halt.id, 'judy', '2026-08-01T01:00:00+00:00'))
    t.strictSame(lifted, {
      ...expected,
      liftedBy: 'judy',
      liftedAt: '2026-08-01T01:00:00.000Z',
    })
  })

  t.test('halts: the exclusive line lock waits for a shared holder', async (t) => {
    // The wave writes a row under its lock: the halt, once it has the lock, must see it.
    const wave = heldTransaction(store, async (tx) => {
      await tx.halts.lockLine('shared')
      return tx.halts.insert({
        scope: 'service',
        target: unique('svc'),
        reason: 'written by the wave in flight',
        createdBy: 'wave',
      })
    })
    const written = await wave.done
    const halt = tx(async (tx) => {
      await tx.halts.lockLine('exclusive')
      return tx.halts.findById(written.id)
    })
    t.notOk(await settlesWithin(halt, 300), 'a halt waits for the wave in flight')
    wave.commit()
    await wave.finished
    t.strictSame(await halt, written, 'then it gets the lock, after the wave committed')
  })

  t.test(
    'halts: shared line locks do not wait for each other',
    {
      skip:
        testDatabaseKind === 'pglite' && 'needs PostgreSQL: PGlite runs one transaction at a time',
    },
    async (t) => {
      const first = heldTransaction(store, (tx) => tx.halts.lockLine('shared'))
      await first.done
      const second = tx((tx) => tx.halts.lockLine('shared'))
      // Generous: were shared locks exclusive, `second` would wait for `first`, which never
      // commits before this check.
      t.ok(await settlesWithin(second, 10_000), 'two waves start side by side')
      first.commit()
      await first.finished
    },
  )

  t.test('freeze windows: insert, find, list, delete', async (t) => {
    const name = unique('freeze')
    const dated = await tx((tx) =>
      tx.freezeWindows.insert({
        name: `${name}-holidays`,
        scope: 'global',
        target: null,
        startsAt: '2026-12-20T00:00:00+01:00',
        endsAt: '2027-01-02T00:00:00.000Z',
        schedule: null,
        reason: 'holidays',
        createdBy: 'kim',
      }),
    )
    t.match(dated, {
      name: `${name}-holidays`,
      scope: 'global',
      target: null,
      startsAt: '2026-12-19T23:00:00.000Z',
      endsAt: '2027-01-02T00:00:00.000Z',
      schedule: null,
      reason: 'holidays',
      createdBy: 'kim',
    })
    const schedule = { daysOfWeek: [5, 6], start: '16:00', durationMinutes: 600 }
    const weekly = await tx((tx) =>
      tx.freezeWindows.insert({
        name: `${name}-weekends`,
        scope: 'ring',
        target: 'world',
        startsAt: null,
        endsAt: null,
        schedule,
        reason: 'no friday deploys',
        createdBy: 'kim',
      }),
    )
    t.strictSame(weekly.schedule, schedule)
    t.strictSame(await store.read.freezeWindows.findById(weekly.id), weekly)
    const mine = async () =>
      (await store.read.freezeWindows.list()).filter((w) => w.name.startsWith(name))
    t.strictSame(await mine(), [dated, weekly], 'oldest first')
    await tx((tx) => tx.freezeWindows.delete(dated.id))
    t.strictSame(await mine(), [weekly])
    t.equal(await store.read.freezeWindows.findById(dated.id), null)
  })

  t.test('health reports: insert and list the recent ones', async (t) => {
    const service = unique('svc')
    const unit = unique('su')
    const report = (scaleUnit: string, status: 'healthy' | 'unhealthy') =>
      tx((tx) =>
        tx.healthReports.insert({
          service,
          scaleUnit,
          status,
          signals: { errorRate: 0.02, p99Ms: 310.5 },
          reportedBy: 'prober',
          at: new Date().toISOString(),
        }),
      )
    const first = await report(unit, 'healthy')
    const other = await report(`${unit}-2`, 'healthy')
    const latest = await report(unit, 'unhealthy')
    t.match(first, { service, scaleUnit: unit, status: 'healthy', reportedBy: 'prober' })
    t.strictSame(first.signals, { errorRate: 0.02, p99Ms: 310.5 })
    t.notOk(Number.isNaN(Date.parse(first.at)))

    const recent = store.read.healthReports
    t.strictSame(await recent.listRecent({ service, limit: 10 }), [latest, other, first])
    t.strictSame(await recent.listRecent({ service, scaleUnit: unit, limit: 10 }), [latest, first])
    t.strictSame(await recent.listRecent({ service, scaleUnit: unit, limit: 1 }), [latest])
    t.strictSame(await recent.listRecent({ scaleUnit: `${unit}-2`, limit: 10 }), [other])
    t.strictSame(await recent.listRecent({ service: unique('svc'), limit: 10 }), [])
    t.strictSame(
      await recent.latestFor(service, [unit, `${unit}-2`, `${unit}-never`]),
      [latest, other],
      'the newest report per scale unit; units never reported are absent',
    )
    t.strictSame(await recent.latestFor(unique('svc'), [unit]), [])
    t.strictSame(await recent.latestFor(service, []), [])
  })

  t.test('installed versions: set, read, replace and remove', async (t) => {
    const service = unique('svc')
    const other = unique('svc')
    const [a, b, c] = [unique('su'), unique('su'), unique('su')]
    await tx(async (tx) => {
      await tx.installedVersions.set(service, a, '1.0.0')
      await tx.installedVersions.set(service, b, '1.0.0')
      await tx.installedVersions.set(other, a, '7.1.0')
    })
    const versions = store.read.installedVersions
    t.strictSame(
      await versions.getMany(service, [a, b, c]),
      new Map([
        [a, '1.0.0'],
        [b, '1.0.0'],
      ]),
      'units without the service are absent',
    )
    t.strictSame(await versions.getMany(service, []), new Map())
    t.strictSame(await versions.listForScaleUnit(a), { [service]: '1.0.0', [other]: '7.1.0' })

    await tx((tx) => tx.installedVersions.set(service, a, '2.0.0'))
    t.strictSame(await versions.getMany(service, [a]), new Map([[a, '2.0.0']]), 'replaced')
    await tx((tx) => tx.installedVersions.set(service, a, null))
    t.strictSame(await versions.listForScaleUnit(a), { [other]: '7.1.0' }, 'removed')
    await tx((tx) => tx.installedVersions.set(service, c, null))
    t.strictSame(await versions.listForScaleUnit(c), {}, 'removing what is absent is harmless')
  })

  t.test('webhook outbox: one delivery per enabled webhook that wants the event', async (t) => {
    const service = await makeService()
    const neighbour = await makeService()
    const everything = await fixture.addWebhook({ service, events: [] })
    const releasesOnly = await fixture.addWebhook({
      service,
      events: ['release.succeeded', 'release.failed'],
    })
    const disabled = await fixture.addWebhook({ service, events: [], disabled: true })
    const neighbours = await fixture.addWebhook({ service: neighbour, events: [] })
    const ids = [everything, releasesOnly, disabled, neighbours]

    await tx((tx) =>
      tx.webhookOutbox.enqueue(service, 'deployment.created', { deploymentId: 7, unit: 'su-1' }),
    )
    t.strictSame(await fixture.deliveries(ids), [
      {
        webhookId: everything,
        event: 'deployment.created',
        payload: { deploymentId: 7, unit: 'su-1' },
        state: 'pending',
      },
    ])

    await tx((tx) => tx.webhookOutbox.enqueue(service, 'release.succeeded', { releaseId: 3 }))
    t.strictSame(
      (await fixture.deliveries(ids)).slice(1).map((d) => [d.webhookId, d.event, d.payload]),
      [
        [everything, 'release.succeeded', { releaseId: 3 }],
        [releasesOnly, 'release.succeeded', { releaseId: 3 }],
      ],
    )

    const queued = await fixture.deliveries(ids)
    const lonely = await makeService()
    await t.resolves(
      tx((tx) => tx.webhookOutbox.enqueue(lonely, 'release.succeeded', {})),
      'a service without webhooks does not fail',
    )
    t.strictSame(await fixture.deliveries(ids), queued, 'and queues nothing for the others')

    await t.rejects(
      tx(async (tx) => {
        await tx.webhookOutbox.enqueue(service, 'release.failed', { releaseId: 4 })
        throw new Error('the change failed')
      }),
      /the change failed/,
    )
    t.equal((await fixture.deliveries(ids)).length, 3, 'a rolled-back change sends nothing')
  })

  // Two replicas may plan the same wave at once: the unique index makes the second a no-op.
  t.test('two transactions inserting the same deployments create each once', async (t) => {
    const service = await makeService()
    const release = await makeRelease(service, 'in_progress')
    const stage = await makeStage(release.id, 'canary', 'deploying')
    const rows = Array.from({ length: 50 }, (_, i) => deploymentOf(stage, service, `su-${i}`))

    const first = heldTransaction(store, (tx) => tx.deployments.insertMany(rows))
    t.equal((await first.done).length, 50)
    const second = tx((tx) => tx.deployments.insertMany(rows))
    t.notOk(await settlesWithin(second, 300), 'the second waits for the first to commit')
    first.commit()
    await first.finished
    t.strictSame(await second, [], 'and then creates nothing')
    const all = await store.read.deployments.listByRelease(release.id)
    t.equal(all.length, 50)
    t.equal(new Set(all.map((d) => d.scaleUnit)).size, 50)

    const overlapping = await Promise.all(
      [rows.slice(0, 30), rows.slice(20)].map((part) =>
        tx((tx) =>
          tx.deployments.insertMany(
            part.map((row) => ({ ...row, kind: 'rollback' as const, version: null })),
          ),
        ),
      ),
    )
    t.equal(overlapping.flat().length, 50, 'overlapping batches at once: each row once')
    t.equal((await store.read.deployments.listByRelease(release.id)).length, 100)
  })
})

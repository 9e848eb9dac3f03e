import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import {
  type Actor,
  type AuditEvent,
  AuditService,
  type Clock,
  type CommandContext,
  ConflictError,
  DomainError,
  defaultRingPolicy,
  executeCommand,
  InvalidInputError,
  NotFoundError,
  type Store,
  systemActor,
  type TokenSecrets,
  TokenService,
  TopologyService,
  UnauthenticatedError,
} from '@ringmaster/domain'
import type { Test } from 'tap'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { DrizzleStore } from '../src/drizzle-store.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// Domain behaviour through the Store contract, on the DrizzleStore: PGlite and PostgreSQL.

const sha256 = (secret: string) => createHash('sha256').update(secret, 'utf8').digest()

const testSecrets: TokenSecrets = {
  generate: () => `rm_${randomBytes(32).toString('base64url')}`,
  hash: (secret) => sha256(secret).toString('hex'),
  matches: (secret, secretHash) => {
    const stored = Buffer.from(secretHash, 'hex')
    const presented = sha256(secret)
    return stored.length === presented.length && timingSafeEqual(stored, presented)
  },
  prefixOf: (secret) => secret.slice(0, 12),
}

const actor: Actor = {
  tokenId: 'tok-contract',
  tokenName: 'contract-tests',
  subject: 'alice@example.com',
  role: 'admin',
  ring: null,
}

const run = randomUUID().slice(0, 8)
let sequence = 0
/** A name no other test uses: lowercase letters, digits and dashes, like the API's names. */
const unique = (prefix: string) => `${prefix}-${run}-${++sequence}`
let nextOrder = 1000 + Math.floor(Math.random() * 1_000_000)
const uniqueOrder = () => nextOrder++

const context = (requestId: string | undefined = unique('req')): CommandContext => ({
  actor,
  requestId,
})

const withKey = (key: string, fingerprint: string, as: Actor = actor): CommandContext => ({
  actor: as,
  requestId: unique('req'),
  idempotency: { key, fingerprint },
})

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000)

interface Harness {
  store: Store
  topology: TopologyService
  tokens: TokenService
  audit: AuditService
  /** The id of the newest audit event (0 when there is none). */
  cursor(): Promise<number>
  eventsAfter(cursor: number): Promise<AuditEvent[]>
}

function harness(store: Store): Harness {
  const audit = new AuditService(store)
  const eventsAfter = async (cursor: number) => {
    const events: AuditEvent[] = []
    for (let after = cursor; ; ) {
      const page = await audit.listAfter(after, 500)
      if (page.events.length === 0) return events
      events.push(...page.events)
      after = page.nextAfter
    }
  }
  return {
    store,
    topology: new TopologyService(store),
    tokens: new TokenService(store, testSecrets),
    audit,
    eventsAfter,
    cursor: async () => (await eventsAfter(0)).at(-1)?.id ?? 0,
  }
}

type OpenStore = (t: Test) => Promise<Store>

const openDrizzleStore: OpenStore = async (t) => {
  const database = await createTestDatabase({ inProcess: true })
  const connection = await openDatabase(database.target)
  t.teardown(async () => {
    await connection.close()
    await database.dispose()
  })
  return new DrizzleStore(connection.db)
}

/** Awaits `promise`, expecting it to fail with a domain error of this class and code. */
async function refusal(
  t: Test,
  promise: Promise<unknown>,
  type: typeof DomainError,
  code: string,
): Promise<DomainError> {
  try {
    await promise
  } catch (error) {
    t.type(error, type, `${type.name} ${code}`)
    t.equal((error as DomainError).code, code, `${type.name} ${code}`)
    return error as DomainError
  }
  t.fail(`expected ${type.name} ${code}, but it succeeded`)
  return new DomainError('none', 'did not fail')
}

/** Exactly one audit event since `cursor`, by the test actor, with this action, subject and data. */
async function oneEvent(
  t: Test,
  h: Harness,
  cursor: number,
  expected: {
    action: string
    subject: string
    data: Record<string, unknown>
    requestId?: string | null
  },
): Promise<AuditEvent | undefined> {
  const events = await h.eventsAfter(cursor)
  t.equal(events.length, 1, `one audit event for ${expected.action}`)
  const [event] = events
  t.match(event, { actor: actor.subject, action: expected.action, subject: expected.subject })
  if (expected.requestId !== undefined) t.equal(event?.requestId, expected.requestId)
  t.strictSame(event?.data, expected.data, `${expected.action} data`)
  t.notOk(Number.isNaN(Date.parse(event?.at ?? '')), 'the event has a time')
  return event
}

async function noEvents(t: Test, h: Harness, cursor: number, why: string): Promise<void> {
  t.strictSame(await h.eventsAfter(cursor), [], `no audit event: ${why}`)
}

t.test(`DrizzleStore on ${testDatabaseKind}`, async (t) => {
  const h = harness(await openDrizzleStore(t))
  const { topology, tokens } = h

  const makeRing = (name = unique('ring')) =>
    topology.createRing(context(), { name, order: uniqueOrder() })
  const makeUnit = (ring: string, pairedWith?: string, name = unique('su')) =>
    topology.createScaleUnit(context(), { name, ring, region: 'westeurope', pairedWith })

  t.test('services: create, get and list', async (t) => {
    const prefix = unique('svc')
    const cursor = await h.cursor()
    const ctx = context()
    const checkout = await topology.createService(ctx, {
      name: `${prefix}-checkout`,
      description: 'Takes the money',
      owner: 'team-payments',
    })
    t.match(checkout, {
      name: `${prefix}-checkout`,
      description: 'Takes the money',
      owner: 'team-payments',
    })
    t.notOk(Number.isNaN(Date.parse(checkout.createdAt)))
    t.notOk(Number.isNaN(Date.parse(checkout.updatedAt)))
    await oneEvent(t, h, cursor, {
      action: 'service.created',
      subject: `service:${prefix}-checkout`,
      data: { after: checkout },
      requestId: ctx.requestId ?? null,
    })

    const cart = await topology.createService(context(), { name: `${prefix}-cart` })
    t.equal(cart.description, '', 'description defaults to empty')
    t.equal(cart.owner, null, 'owner defaults to none')
    const audit = await topology.createService(context(), { name: `${prefix}-audit` })

    t.strictSame(await topology.getService(`${prefix}-checkout`), checkout)
    const listed = (await topology.listServices()).filter((s) => s.name.startsWith(prefix))
    t.strictSame(listed, [audit, cart, checkout], 'listed by name')
    t.equal((await h.eventsAfter(cursor)).length, 3, 'one event per service')
  })

  t.test('services: a taken name and an unknown name are refused', async (t) => {
    const name = unique('svc')
    const first = await topology.createService(context(), { name })
    const cursor = await h.cursor()
    const error = await refusal(
      t,
      topology.createService(context(), { name, description: 'again' }),
      ConflictError,
      'service-exists',
    )
    t.match(error.message, name)
    t.strictSame(await topology.getService(name), first, 'the first one is untouched')
    t.equal((await topology.listServices()).filter((s) => s.name === name).length, 1)
    await noEvents(t, h, cursor, 'refused')
    await refusal(t, topology.getService(unique('svc')), NotFoundError, 'service-not-found')
  })

  t.test('rings: create with the default policy, get and list in order', async (t) => {
    const prefix = unique('ring')
    const base = uniqueOrder()
    uniqueOrder()
    uniqueOrder()
    const cursor = await h.cursor()
    const ctx = context()
    const outer = await topology.createRing(ctx, { name: `${prefix}-outer`, order: base + 2 })
    t.match(outer, { name: `${prefix}-outer`, order: base + 2, description: '', scaleUnits: [] })
    t.strictSame(outer.policy, defaultRingPolicy)
    await oneEvent(t, h, cursor, {
      action: 'ring.created',
      subject: `ring:${prefix}-outer`,
      data: { after: outer },
      requestId: ctx.requestId ?? null,
    })

    const inner = await topology.createRing(context(), {
      name: `${prefix}-inner`,
      order: base,
      description: 'The team itself',
      policy: { bakeMinutes: 30, health: { maxErrorRate: 0.01 } },
    })
    t.strictSame(inner.policy, {
      ...defaultRingPolicy,
      bakeMinutes: 30,
      health: { maxErrorRate: 0.01 },
    })
    const middle = await topology.createRing(context(), {
      name: `${prefix}-middle`,
      order: base + 1,
      policy: { preApproval: { role: 'approver', minApprovals: 2, ttlHours: 24 } },
    })

    t.strictSame(await topology.getRing(`${prefix}-inner`), inner)
    const listed = (await topology.listRings()).filter((r) => r.name.startsWith(prefix))
    t.strictSame(listed, [inner, middle, outer], 'listed by order')
    await refusal(t, topology.getRing(unique('ring')), NotFoundError, 'ring-not-found')
  })

  t.test('rings: a taken name or order is refused', async (t) => {
    const holder = await makeRing()
    const cursor = await h.cursor()

    const nameTaken = await refusal(
      t,
      topology.createRing(context(), { name: holder.name, order: uniqueOrder() }),
      ConflictError,
      'ring-exists',
    )
    t.match(nameTaken.message, holder.name)

    const newName = unique('ring')
    const orderTaken = await refusal(
      t,
      topology.createRing(context(), { name: newName, order: holder.order }),
      ConflictError,
      'ring-order-taken',
    )
    t.match(orderTaken.message, `ring '${holder.name}' already has order ${holder.order}`)
    t.strictSame(orderTaken.details, { ring: holder.name })
    await refusal(t, topology.getRing(newName), NotFoundError, 'ring-not-found')

    const invalid = unique('ring')
    await refusal(
      t,
      topology.createRing(context(), {
        name: invalid,
        order: uniqueOrder(),
        policy: { maxParallel: 0 },
      }),
      InvalidInputError,
      'invalid-ring-policy',
    )
    await refusal(t, topology.getRing(invalid), NotFoundError, 'ring-not-found')
    t.strictSame(await topology.getRing(holder.name), holder)
    await noEvents(t, h, cursor, 'every create was refused')
  })

  t.test('rings: update order, description and policy', async (t) => {
    const ring = await topology.createRing(context(), {
      name: unique('ring'),
      order: uniqueOrder(),
      policy: { bakeMinutes: 10, health: { maxErrorRate: 0.05, maxP99Ms: 400 } },
    })
    const other = await makeRing()

    let cursor = await h.cursor()
    const ctx = context()
    const newOrder = uniqueOrder()
    const updated = await topology.updateRing(ctx, ring.name, {
      order: newOrder,
      description: 'Early adopters',
      policy: { maxParallel: 3 },
    })
    t.match(updated, { name: ring.name, order: newOrder, description: 'Early adopters' })
    t.strictSame(
      updated.policy,
      { ...ring.policy, maxParallel: 3 },
      'omitted policy fields keep their value',
    )
    t.strictSame(await topology.getRing(ring.name), updated)
    await oneEvent(t, h, cursor, {
      action: 'ring.updated',
      subject: `ring:${ring.name}`,
      data: { before: ring, after: updated },
      requestId: ctx.requestId ?? null,
    })

    cursor = await h.cursor()
    const healthReplaced = await topology.updateRing(context(), ring.name, {
      order: newOrder,
      policy: { health: { maxP99Ms: 900 } },
    })
    t.strictSame(healthReplaced.policy.health, { maxP99Ms: 900 }, 'health is replaced whole')
    t.equal(healthReplaced.policy.bakeMinutes, 10)
    t.equal(healthReplaced.order, newOrder, 'keeping its own order is not a conflict')
    await oneEvent(t, h, cursor, {
      action: 'ring.updated',
      subject: `ring:${ring.name}`,
      data: { before: updated, after: healthReplaced },
    })

    cursor = await h.cursor()
    const taken = await refusal(
      t,
      topology.updateRing(context(), ring.name, { order: other.order, description: 'moved' }),
      ConflictError,
      'ring-order-taken',
    )
    t.strictSame(taken.details, { ring: other.name })
    await refusal(
      t,
      topology.updateRing(context(), ring.name, {
        policy: { postApproval: { role: 'sre', minApprovals: 0, ttlHours: 1 } },
      }),
      InvalidInputError,
      'invalid-ring-policy',
    )
    await refusal(
      t,
      topology.updateRing(context(), unique('ring'), { description: 'x' }),
      NotFoundError,
      'ring-not-found',
    )
    t.strictSame(
      await topology.getRing(ring.name),
      healthReplaced,
      'refused updates change nothing',
    )
    await noEvents(t, h, cursor, 'every update was refused')
  })

  t.test('rings: delete an empty ring', async (t) => {
    const ring = await makeRing()
    const cursor = await h.cursor()
    const ctx = context()
    await topology.deleteRing(ctx, ring.name)
    await refusal(t, topology.getRing(ring.name), NotFoundError, 'ring-not-found')
    t.notOk((await topology.listRings()).some((r) => r.name === ring.name))
    await oneEvent(t, h, cursor, {
      action: 'ring.deleted',
      subject: `ring:${ring.name}`,
      data: { before: ring },
      requestId: ctx.requestId ?? null,
    })
    await refusal(t, topology.deleteRing(context(), ring.name), NotFoundError, 'ring-not-found')
    const successor = await topology.createRing(context(), {
      name: unique('ring'),
      order: ring.order,
    })
    t.equal(successor.order, ring.order, 'the order is free again')
  })

  t.test('rings: a ring with scale units cannot be deleted', async (t) => {
    const ring = await makeRing()
    const prefix = unique('su')
    await makeUnit(ring.name, undefined, `${prefix}-b`)
    await makeUnit(ring.name, undefined, `${prefix}-a`)
    const withUnits = await topology.getRing(ring.name)
    t.strictSame(withUnits.scaleUnits, [`${prefix}-a`, `${prefix}-b`])

    const cursor = await h.cursor()
    const error = await refusal(
      t,
      topology.deleteRing(context(), ring.name),
      ConflictError,
      'ring-has-scale-units',
    )
    t.match(error.message, `${prefix}-a, ${prefix}-b`)
    t.strictSame(error.details, { scaleUnits: [`${prefix}-a`, `${prefix}-b`] })
    t.strictSame(await topology.getRing(ring.name), withUnits)
    await noEvents(t, h, cursor, 'refused')

    await topology.deleteScaleUnit(context(), `${prefix}-a`)
    await topology.deleteScaleUnit(context(), `${prefix}-b`)
    await topology.deleteRing(context(), ring.name)
    await refusal(t, topology.getRing(ring.name), NotFoundError, 'ring-not-found')
  })

  t.test('scale units: create, get and list with filters', async (t) => {
    const early = await makeRing()
    const late = await makeRing()
    const region = unique('region')
    const otherRegion = unique('region')

    const cursor = await h.cursor()
    const unknownRing = unique('ring')
    const name = unique('su')
    const error = await refusal(
      t,
      topology.createScaleUnit(context(), { name, region, ring: unknownRing }),
      InvalidInputError,
      'unknown-ring',
    )
    t.match(error.message, unknownRing)
    await refusal(t, topology.getScaleUnit(name), NotFoundError, 'scale-unit-not-found')
    await noEvents(t, h, cursor, 'refused')

    const ctx = context()
    const a = await topology.createScaleUnit(ctx, {
      name: `${name}-a`,
      region,
      ring: late.name,
      labels: { cloud: 'azure', 'tier/kind': 'gold' },
    })
    t.match(a, {
      name: `${name}-a`,
      region,
      ring: late.name,
      pairedWith: null,
      labels: { cloud: 'azure', 'tier/kind': 'gold' },
    })
    await oneEvent(t, h, cursor, {
      action: 'scale-unit.created',
      subject: `scale-unit:${name}-a`,
      data: { after: a },
      requestId: ctx.requestId ?? null,
    })
    const b = await topology.createScaleUnit(context(), {
      name: `${name}-b`,
      region: otherRegion,
      ring: early.name,
    })
    t.strictSame(b.labels, {}, 'labels default to none')
    const c = await topology.createScaleUnit(context(), {
      name: `${name}-c`,
      region,
      ring: early.name,
    })

    t.strictSame(await topology.getScaleUnit(a.name), a)
    t.strictSame((await topology.getRing(early.name)).scaleUnits, [b.name, c.name])
    t.strictSame((await topology.getRing(late.name)).scaleUnits, [a.name])
    t.strictSame(await topology.listScaleUnits({ ring: early.name }), [b, c])
    t.strictSame(await topology.listScaleUnits({ region }), [c, a], 'by ring order, then name')
    t.strictSame(await topology.listScaleUnits({ ring: late.name, region }), [a])
    t.strictSame(await topology.listScaleUnits({ ring: late.name, region: otherRegion }), [])
    const all = (await topology.listScaleUnits({})).filter((u) => u.name.startsWith(name))
    t.strictSame(all, [b, c, a])

    const afterCreates = await h.cursor()
    await refusal(
      t,
      topology.createScaleUnit(context(), { name: a.name, region, ring: early.name }),
      ConflictError,
      'scale-unit-exists',
    )
    t.strictSame(await topology.getScaleUnit(a.name), a)
    await refusal(t, topology.getScaleUnit(unique('su')), NotFoundError, 'scale-unit-not-found')
    await noEvents(t, h, afterCreates, 'refused')
  })

  t.test('scale units: update in place', async (t) => {
    const ring = await makeRing()
    const unit = await makeUnit(ring.name)
    let cursor = await h.cursor()
    const ctx = context()
    const updated = await topology.updateScaleUnit(ctx, unit.name, {
      region: 'northeurope',
      labels: { canary: 'true' },
      ring: ring.name,
    })
    t.match(updated, {
      name: unit.name,
      region: 'northeurope',
      ring: ring.name,
      labels: { canary: 'true' },
    })
    t.strictSame(await topology.getScaleUnit(unit.name), updated)
    await oneEvent(t, h, cursor, {
      action: 'scale-unit.updated',
      subject: `scale-unit:${unit.name}`,
      data: { before: unit, after: updated },
      requestId: ctx.requestId ?? null,
    })

    cursor = await h.cursor()
    await refusal(
      t,
      topology.updateScaleUnit(context(), unique('su'), { region: 'x' }),
      NotFoundError,
      'scale-unit-not-found',
    )
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('scale units: moving to another ring', async (t) => {
    const from = await makeRing()
    const to = await makeRing()
    const unit = await makeUnit(from.name)

    let cursor = await h.cursor()
    const ctx = context()
    const moved = await topology.updateScaleUnit(ctx, unit.name, { ring: to.name })
    t.equal(moved.ring, to.name)
    t.strictSame((await topology.getRing(from.name)).scaleUnits, [])
    t.strictSame((await topology.getRing(to.name)).scaleUnits, [unit.name])
    const event = await oneEvent(t, h, cursor, {
      action: 'scale-unit.moved',
      subject: `scale-unit:${unit.name}`,
      data: { before: unit, after: moved },
      requestId: ctx.requestId ?? null,
    })
    t.match(event?.data, { before: { ring: from.name }, after: { ring: to.name } })

    cursor = await h.cursor()
    await refusal(
      t,
      topology.updateScaleUnit(context(), unit.name, { ring: unique('ring'), region: 'x' }),
      InvalidInputError,
      'unknown-ring',
    )
    t.strictSame(await topology.getScaleUnit(unit.name), moved, 'the refused move changed nothing')
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('pairing is mutual', async (t) => {
    const ring = await makeRing()
    const a = await makeUnit(ring.name)
    const cursor = await h.cursor()
    const b = await makeUnit(ring.name, a.name)
    t.equal(b.pairedWith, a.name)
    t.equal((await topology.getScaleUnit(a.name)).pairedWith, b.name, 'the partner points back')
    t.equal((await topology.getScaleUnit(b.name)).pairedWith, a.name)
    await oneEvent(t, h, cursor, {
      action: 'scale-unit.created',
      subject: `scale-unit:${b.name}`,
      data: { after: b },
    })
  })

  t.test('pairing is exclusive', async (t) => {
    const ring = await makeRing()
    const a = await makeUnit(ring.name)
    const b = await makeUnit(ring.name, a.name)
    const d = await makeUnit(ring.name)
    const cursor = await h.cursor()

    const c = unique('su')
    const error = await refusal(
      t,
      topology.createScaleUnit(context(), {
        name: c,
        region: 'westeurope',
        ring: ring.name,
        pairedWith: a.name,
      }),
      ConflictError,
      'scale-unit-already-paired',
    )
    t.match(error.message, `scale unit '${a.name}' is already paired with '${b.name}'`)
    await refusal(t, topology.getScaleUnit(c), NotFoundError, 'scale-unit-not-found')
    t.notOk((await topology.getRing(ring.name)).scaleUnits.includes(c), 'no partial row')

    await refusal(
      t,
      topology.updateScaleUnit(context(), d.name, { pairedWith: b.name }),
      ConflictError,
      'scale-unit-already-paired',
    )
    t.equal((await topology.getScaleUnit(a.name)).pairedWith, b.name)
    t.equal((await topology.getScaleUnit(b.name)).pairedWith, a.name)
    t.strictSame(await topology.getScaleUnit(d.name), d)
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('a scale unit cannot pair with itself or with an unknown unit', async (t) => {
    const ring = await makeRing()
    const existing = await makeUnit(ring.name)
    const cursor = await h.cursor()

    const loner = unique('su')
    await refusal(
      t,
      topology.createScaleUnit(context(), {
        name: loner,
        region: 'westeurope',
        ring: ring.name,
        pairedWith: loner,
      }),
      InvalidInputError,
      'invalid-pair',
    )
    await refusal(t, topology.getScaleUnit(loner), NotFoundError, 'scale-unit-not-found')
    await refusal(
      t,
      topology.updateScaleUnit(context(), existing.name, { pairedWith: existing.name }),
      InvalidInputError,
      'invalid-pair',
    )
    await refusal(
      t,
      topology.updateScaleUnit(context(), existing.name, { pairedWith: unique('su') }),
      InvalidInputError,
      'unknown-scale-unit',
    )
    t.strictSame(await topology.getScaleUnit(existing.name), existing)
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('unpairing and re-pairing update both sides', async (t) => {
    const ring = await makeRing()
    const a = await makeUnit(ring.name)
    const b = await makeUnit(ring.name, a.name)
    const c = await makeUnit(ring.name)
    const pairOf = async (name: string) => (await topology.getScaleUnit(name)).pairedWith

    let cursor = await h.cursor()
    const unpaired = await topology.updateScaleUnit(context(), a.name, { pairedWith: null })
    t.equal(unpaired.pairedWith, null)
    t.equal(await pairOf(b.name), null, 'the old partner is unpaired too')
    const [unpairEvent] = await h.eventsAfter(cursor)
    t.match(unpairEvent, {
      action: 'scale-unit.updated',
      subject: `scale-unit:${a.name}`,
      data: { before: { pairedWith: b.name }, after: { pairedWith: null } },
    })

    await topology.updateScaleUnit(context(), a.name, { pairedWith: b.name })
    t.equal(await pairOf(a.name), b.name)
    t.equal(await pairOf(b.name), a.name)

    const beforeRepair = await topology.getScaleUnit(a.name)
    cursor = await h.cursor()
    const repaired = await topology.updateScaleUnit(context(), a.name, { pairedWith: c.name })
    t.equal(repaired.pairedWith, c.name)
    t.equal(await pairOf(c.name), a.name, 'the new partner points back')
    t.equal(await pairOf(b.name), null, 'the old partner is released')
    await oneEvent(t, h, cursor, {
      action: 'scale-unit.updated',
      subject: `scale-unit:${a.name}`,
      data: { before: beforeRepair, after: repaired },
    })
  })

  t.test('deleting a scale unit unpairs its partner', async (t) => {
    const ring = await makeRing()
    const a = await makeUnit(ring.name)
    const b = await makeUnit(ring.name, a.name)
    const pairedA = await topology.getScaleUnit(a.name)

    const cursor = await h.cursor()
    const ctx = context()
    await topology.deleteScaleUnit(ctx, a.name)
    await refusal(t, topology.getScaleUnit(a.name), NotFoundError, 'scale-unit-not-found')
    t.equal((await topology.getScaleUnit(b.name)).pairedWith, null)
    t.strictSame((await topology.getRing(ring.name)).scaleUnits, [b.name])
    await oneEvent(t, h, cursor, {
      action: 'scale-unit.deleted',
      subject: `scale-unit:${a.name}`,
      data: { before: pairedA },
      requestId: ctx.requestId ?? null,
    })
    await refusal(
      t,
      topology.deleteScaleUnit(context(), a.name),
      NotFoundError,
      'scale-unit-not-found',
    )
  })

  t.test('a failed command leaves no rows and no audit event', async (t) => {
    const service = unique('svc')
    const ring = unique('ring')
    const cursor = await h.cursor()
    await t.rejects(
      executeCommand(h.store, context(), async (tx) => {
        await tx.services.insert({ name: service, description: '', owner: null })
        await tx.auditLog.append({
          actor: actor.subject,
          action: 'service.created',
          subject: `service:${service}`,
          data: {},
          requestId: null,
        })
        await tx.rings.insert({
          name: ring,
          order: uniqueOrder(),
          description: '',
          policy: defaultRingPolicy,
        })
        throw new Error('the third step failed')
      }),
      /the third step failed/,
    )
    await refusal(t, topology.getService(service), NotFoundError, 'service-not-found')
    await refusal(t, topology.getRing(ring), NotFoundError, 'ring-not-found')
    await noEvents(t, h, cursor, 'rolled back')
  })

  t.test('two creates of one name at once: exactly one wins', async (t) => {
    const name = unique('svc')
    const cursor = await h.cursor()
    const outcomes = await Promise.allSettled([
      topology.createService(context(), { name, description: 'first' }),
      topology.createService(context(), { name, description: 'second' }),
    ])
    const won = outcomes.filter((o) => o.status === 'fulfilled')
    const lost = outcomes.filter((o) => o.status === 'rejected')
    t.equal(won.length, 1)
    t.equal(lost.length, 1)
    const reason = lost[0]?.reason as DomainError
    t.type(reason, ConflictError)
    // The loser sees the winner's row (service-exists) or, when both checked before either
    // inserted, hits the unique index, which the store reports as concurrent-change.
    t.ok(['service-exists', 'concurrent-change'].includes(reason.code), reason.code)
    t.equal((await topology.listServices()).filter((s) => s.name === name).length, 1)
    t.equal((await h.eventsAfter(cursor)).length, 1)
  })

  t.test('audit events are paged by id', async (t) => {
    const prefix = unique('svc')
    const cursor = await h.cursor()
    for (const suffix of ['a', 'b', 'c', 'd', 'e']) {
      await topology.createService(context(), { name: `${prefix}-${suffix}` })
    }
    const seen: AuditEvent[] = []
    const pageSizes: number[] = []
    let after = cursor
    for (;;) {
      const page = await h.audit.listAfter(after, 2)
      if (page.events.length === 0) {
        t.equal(page.nextAfter, after, 'an empty page keeps the cursor')
        break
      }
      t.equal(page.nextAfter, page.events.at(-1)?.id, 'the cursor is the last id on the page')
      pageSizes.push(page.events.length)
      seen.push(...page.events)
      after = page.nextAfter
    }
    t.strictSame(pageSizes, [2, 2, 1])
    t.strictSame(
      seen.map((event) => event.subject),
      ['a', 'b', 'c', 'd', 'e'].map((suffix) => `service:${prefix}-${suffix}`),
    )
    const ids = seen.map((event) => event.id)
    t.ok(
      ids.every((id, index) => index === 0 || id > (ids[index - 1] ?? 0)),
      'ids increase',
    )
    t.ok((ids[0] ?? 0) > cursor)
  })

  t.test('an audit page holds at most 500 events', async (t) => {
    const cursor = await h.cursor()
    const subject = unique('bulk')
    await h.store.transaction(async (tx) => {
      for (let index = 0; index < 503; index++) {
        await tx.auditLog.append({
          actor: actor.subject,
          action: 'bulk.appended',
          subject: `${subject}:${index}`,
          data: { index },
          requestId: null,
        })
      }
    })
    const page = await h.audit.listAfter(cursor, 10_000)
    t.equal(page.events.length, 500)
    t.equal(page.events[499]?.subject, `${subject}:499`)
    t.equal(page.nextAfter, page.events[499]?.id)
    const rest = await h.audit.listAfter(page.nextAfter, 10_000)
    t.strictSame(
      rest.events.map((event) => event.data),
      [{ index: 500 }, { index: 501 }, { index: 502 }],
    )
  })

  t.test('tokens: create, list and authenticate', async (t) => {
    const cursor = await h.cursor()
    const ctx = context()
    const name = unique('token')
    const { token, secret } = await tokens.create(ctx, {
      name,
      role: 'pipeline',
      subject: 'deploy-bot',
    })
    t.match(secret, /^rm_/)
    t.strictSame(
      { ...token, id: 'x', createdAt: 'x' },
      {
        id: 'x',
        name,
        role: 'pipeline',
        subject: 'deploy-bot',
        ring: null,
        prefix: secret.slice(0, 12),
        createdAt: 'x',
        createdBy: actor.subject,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
      },
      'the public token, without its hash',
    )
    t.notOk(Number.isNaN(Date.parse(token.createdAt)))
    t.strictSame(
      (await tokens.list()).filter((candidate) => candidate.id === token.id),
      [token],
    )
    t.strictSame(await tokens.authenticate(secret), {
      tokenId: token.id,
      tokenName: name,
      subject: 'deploy-bot',
      role: 'pipeline',
      ring: null,
    })
    const event = await oneEvent(t, h, cursor, {
      action: 'token.created',
      subject: `token:${token.id}`,
      data: { after: token },
      requestId: ctx.requestId ?? null,
    })
    const recorded = JSON.stringify(event)
    t.notOk(recorded.includes(secret), 'the audit log never holds the secret')
    t.notOk(recorded.includes(testSecrets.hash(secret)), 'nor its hash')

    const later = await tokens.create(context(), {
      name: unique('token'),
      role: 'viewer',
      subject: 'bob',
    })
    const ids = (await tokens.list()).map((candidate) => candidate.id)
    t.ok(ids.indexOf(token.id) < ids.indexOf(later.token.id), 'listed in creation order')

    await tokens.touch(token.id)
    const touched = (await tokens.list()).find((candidate) => candidate.id === token.id)
    t.notOk(Number.isNaN(Date.parse(touched?.lastUsedAt ?? '')), 'touch records the last use')
  })

  t.test('tokens: an SDK token keeps its ring and authenticates bound to it', async (t) => {
    const ring = await makeRing()
    const { token, secret } = await tokens.create(context(), {
      name: unique('token'),
      role: 'client',
      subject: 'checkout-service',
      ring: ring.name,
    })
    t.equal(token.ring, ring.name)
    t.strictSame(
      (await tokens.list()).find((candidate) => candidate.id === token.id),
      token,
      'the ring is stored and read back',
    )
    t.match(await tokens.authenticate(secret), { role: 'client', ring: ring.name })
  })

  t.test('tokens: a wrong secret is refused', async (t) => {
    const { secret } = await tokens.create(context(), {
      name: unique('token'),
      role: 'viewer',
      subject: 'carol',
    })
    const samePrefix = `${secret.slice(0, 12)}${'A'.repeat(secret.length - 12)}`
    t.equal(testSecrets.prefixOf(samePrefix), testSecrets.prefixOf(secret))
    await refusal(t, tokens.authenticate(samePrefix), UnauthenticatedError, 'invalid-token')
    await refusal(
      t,
      tokens.authenticate(testSecrets.generate()),
      UnauthenticatedError,
      'invalid-token',
    )
    await refusal(t, tokens.authenticate(''), UnauthenticatedError, 'invalid-token')
  })

  t.test('tokens: revoke', async (t) => {
    const { token, secret } = await tokens.create(context(), {
      name: unique('token'),
      role: 'sre',
      subject: 'dave',
    })
    let cursor = await h.cursor()
    const ctx = context()
    const revoked = await tokens.revoke(ctx, token.id)
    t.strictSame({ ...revoked, revokedAt: null }, token, 'only revokedAt changes')
    t.notOk(Number.isNaN(Date.parse(revoked.revokedAt ?? '')))
    await oneEvent(t, h, cursor, {
      action: 'token.revoked',
      subject: `token:${token.id}`,
      data: { before: token, after: revoked },
      requestId: ctx.requestId ?? null,
    })
    await refusal(t, tokens.authenticate(secret), UnauthenticatedError, 'invalid-token')
    t.strictSame(
      (await tokens.list()).filter((candidate) => candidate.id === token.id),
      [revoked],
    )

    cursor = await h.cursor()
    t.strictSame(await tokens.revoke(context(), token.id), revoked, 'revoking again is a no-op')
    await refusal(t, tokens.revoke(context(), randomUUID()), NotFoundError, 'token-not-found')
    await noEvents(t, h, cursor, 'nothing changed')
  })

  t.test('tokens: expiry', async (t) => {
    const expiresAt = hoursFromNow(1).toISOString()
    const { token, secret } = await tokens.create(context(), {
      name: unique('token'),
      role: 'viewer',
      subject: 'erin',
      expiresAt,
    })
    t.equal(token.expiresAt, expiresAt)
    t.equal((await tokens.authenticate(secret)).tokenId, token.id, 'valid before it expires')

    const twoHoursLater: Clock = { now: () => hoursFromNow(2) }
    const later = new TokenService(h.store, testSecrets, twoHoursLater)
    await refusal(t, later.authenticate(secret), UnauthenticatedError, 'token-expired')

    const cursor = await h.cursor()
    const name = unique('token')
    await refusal(
      t,
      tokens.create(context(), {
        name,
        role: 'viewer',
        subject: 'erin',
        expiresAt: hoursFromNow(-1).toISOString(),
      }),
      InvalidInputError,
      'invalid-expiry',
    )
    t.notOk((await tokens.list()).some((candidate) => candidate.name === name))
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('ensureAdmin stores a configured secret once', async (t) => {
    const fresh = harness(await openDrizzleStore(t))
    const viewer = await fresh.tokens.create(context(), {
      name: unique('token'),
      role: 'viewer',
      subject: 'frank',
    })
    const cursor = await fresh.cursor()
    await refusal(
      t,
      fresh.tokens.ensureAdmin({ actor: systemActor }, 'x'.repeat(23)),
      InvalidInputError,
      'weak-admin-token',
    )
    t.strictSame(await fresh.tokens.list(), [viewer.token], 'a weak secret stores nothing')

    const configured = `cfg_${randomBytes(10).toString('hex')}`
    t.equal(configured.length, 24, 'exactly the shortest accepted length')
    const outcome = await fresh.tokens.ensureAdmin({ actor: systemActor }, configured)
    t.equal(outcome.outcome, 'configured', 'a viewer token is no admin')
    if (outcome.outcome !== 'configured') return
    t.match(outcome.token, {
      name: 'bootstrap-admin',
      role: 'admin',
      subject: 'bootstrap-admin',
      createdBy: systemActor.subject,
      expiresAt: null,
      revokedAt: null,
    })
    t.strictSame(await fresh.tokens.authenticate(configured), {
      tokenId: outcome.token.id,
      tokenName: 'bootstrap-admin',
      subject: 'bootstrap-admin',
      role: 'admin',
      ring: null,
    })
    const events = await fresh.eventsAfter(cursor)
    t.equal(events.length, 1)
    t.match(events[0], {
      actor: systemActor.subject,
      action: 'token.created',
      subject: `token:${outcome.token.id}`,
      requestId: null,
    })
    t.strictSame(events[0]?.data, { after: outcome.token, bootstrap: true })

    const again = await fresh.tokens.ensureAdmin({ actor: systemActor }, configured)
    t.strictSame(again, { outcome: 'existing' })
    const generatedAgain = await fresh.tokens.ensureAdmin({ actor: systemActor })
    t.strictSame(generatedAgain, { outcome: 'existing' })
    t.equal((await fresh.tokens.list()).length, 2)
    t.equal((await fresh.eventsAfter(cursor)).length, 1, 'no further events')
  })

  t.test('ensureAdmin generates a secret when none is configured', async (t) => {
    const fresh = harness(await openDrizzleStore(t))
    const outcome = await fresh.tokens.ensureAdmin({ actor: systemActor })
    t.equal(outcome.outcome, 'generated')
    if (outcome.outcome !== 'generated') return
    t.match(outcome.secret, /^rm_/)
    t.strictSame(await fresh.tokens.list(), [outcome.token])
    t.equal((await fresh.tokens.authenticate(outcome.secret)).role, 'admin')
    t.strictSame(await fresh.tokens.ensureAdmin({ actor: systemActor }), { outcome: 'existing' })
    t.equal((await fresh.tokens.list()).length, 1)
  })

  t.test('ensureAdmin leaves an existing admin token alone', async (t) => {
    const fresh = harness(await openDrizzleStore(t))
    const admin = await fresh.tokens.create(context(), {
      name: unique('token'),
      role: 'admin',
      subject: 'grace',
    })
    const cursor = await fresh.cursor()
    t.strictSame(await fresh.tokens.ensureAdmin({ actor: systemActor }), { outcome: 'existing' })
    t.strictSame(await fresh.tokens.ensureAdmin({ actor: systemActor }, admin.secret), {
      outcome: 'existing',
    })
    // A configured secret that would answer 401 is refused instead of silently ignored.
    await refusal(
      t,
      fresh.tokens.ensureAdmin({ actor: systemActor }, 'y'.repeat(30)),
      ConflictError,
      'admin-token-mismatch',
    )
    t.strictSame(await fresh.tokens.list(), [admin.token])
    await refusal(
      t,
      fresh.tokens.authenticate('y'.repeat(30)),
      UnauthenticatedError,
      'invalid-token',
    )
    await noEvents(t, fresh, cursor, 'nothing was created')
  })

  t.test('idempotency: a retry replays the first result', async (t) => {
    const key = unique('key')
    const cursor = await h.cursor()
    const first = withKey(key, 'fp-1')
    const created = await topology.createService(first, { name: unique('svc'), owner: 'ops' })
    t.notOk(first.idempotency?.replayed, 'the first call did the work')

    const retry = withKey(key, 'fp-1')
    const otherName = unique('svc')
    // The fingerprint is the client's promise that this is the same request.
    const replayed = await topology.createService(retry, { name: otherName })
    t.equal(retry.idempotency?.replayed, true)
    t.strictSame(replayed, created)
    await refusal(t, topology.getService(otherName), NotFoundError, 'service-not-found')
    t.equal((await h.eventsAfter(cursor)).length, 1, 'no second audit event')

    const ringKey = unique('key')
    const ringInput = { name: unique('ring'), order: uniqueOrder(), policy: { bakeMinutes: 5 } }
    const ring = await topology.createRing(withKey(ringKey, 'fp'), ringInput)
    const ringRetry = withKey(ringKey, 'fp')
    t.strictSame(await topology.createRing(ringRetry, ringInput), ring)
    t.equal(ringRetry.idempotency?.replayed, true)
  })

  t.test('idempotency: the same key for another request is refused', async (t) => {
    const key = unique('key')
    await topology.createService(withKey(key, 'fp-1'), { name: unique('svc') })
    const cursor = await h.cursor()
    const name = unique('svc')
    const reuse = withKey(key, 'fp-2')
    const error = await refusal(
      t,
      topology.createService(reuse, { name }),
      ConflictError,
      'idempotency-key-reused',
    )
    t.match(error.message, key)
    t.notOk(reuse.idempotency?.replayed)
    await refusal(t, topology.getService(name), NotFoundError, 'service-not-found')
    await noEvents(t, h, cursor, 'refused')
  })

  t.test('idempotency: keys are scoped per token', async (t) => {
    const key = unique('key')
    const otherActor: Actor = { ...actor, tokenId: unique('tok'), subject: 'henry@example.com' }
    const cursor = await h.cursor()
    const mine = await topology.createService(withKey(key, 'fp'), { name: unique('svc') })
    const theirsContext = withKey(key, 'fp', otherActor)
    const theirs = await topology.createService(theirsContext, { name: unique('svc') })
    t.notOk(theirsContext.idempotency?.replayed)
    t.not(theirs.name, mine.name)
    t.strictSame(await topology.getService(theirs.name), theirs)
    const events = await h.eventsAfter(cursor)
    t.strictSame(
      events.map((event) => [event.actor, event.subject]),
      [
        [actor.subject, `service:${mine.name}`],
        ['henry@example.com', `service:${theirs.name}`],
      ],
    )
  })

  t.test('idempotency: a command that fails does not use up its key', async (t) => {
    const holder = await makeRing()
    const key = unique('key')
    const input = { name: unique('ring'), order: holder.order }
    const cursor = await h.cursor()
    await refusal(
      t,
      topology.createRing(withKey(key, 'fp'), input),
      ConflictError,
      'ring-order-taken',
    )
    await noEvents(t, h, cursor, 'refused')

    await topology.deleteRing(context(), holder.name)
    const retry = withKey(key, 'fp')
    const ring = await topology.createRing(retry, input)
    t.notOk(retry.idempotency?.replayed, 'the retry did the work')
    t.equal(ring.order, holder.order)
    t.strictSame(await topology.getRing(input.name), ring)

    const again = withKey(key, 'fp')
    t.strictSame(await topology.createRing(again, input), ring)
    t.equal(again.idempotency?.replayed, true)
  })

  t.test('idempotency: a token is issued once per key', async (t) => {
    const key = unique('key')
    const name = unique('token')
    const input = { name, role: 'pipeline' as const, subject: 'ci' }
    const cursor = await h.cursor()
    const { token, secret } = await tokens.create(withKey(key, 'fp'), input)

    const retry = withKey(key, 'fp')
    const error = await refusal(
      t,
      tokens.create(retry, input),
      ConflictError,
      'token-already-issued',
    )
    t.strictSame(error.details, { tokenId: token.id })
    t.match(error.message, token.id)
    t.notOk(error.message.includes(secret), 'the secret is not shown again')
    t.equal(retry.idempotency?.replayed, true)
    t.strictSame(
      (await tokens.list()).filter((candidate) => candidate.name === name),
      [token],
      'no second token',
    )
    t.equal((await h.eventsAfter(cursor)).length, 1)
  })

  t.test('idempotency: two retries at once do the work once', async (t) => {
    const key = unique('key')
    const cursor = await h.cursor()
    const contexts = [withKey(key, 'fp'), withKey(key, 'fp')]
    const [first, second] = await Promise.all(
      contexts.map((ctx) => topology.createService(ctx, { name: `svc-${key}` })),
    )
    t.strictSame(first, second)
    t.strictSame(
      contexts.map((ctx) => ctx.idempotency?.replayed === true).sort(),
      [false, true],
      'one did the work, the other replayed it',
    )
    t.equal((await h.eventsAfter(cursor)).length, 1)
  })

  t.test('two pairings with one free unit at once: exactly one wins', async (t) => {
    const ring = await makeRing()
    const partner = await makeUnit(ring.name)
    const names = [unique('su'), unique('su')]
    const outcomes = await Promise.allSettled(
      names.map((name) => makeUnit(ring.name, partner.name, name)),
    )
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled')
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected')
    t.equal(won.length, 1, 'one pairing succeeded')
    t.equal(lost.length, 1, 'the other was refused')
    t.equal(
      (lost[0] as PromiseRejectedResult | undefined)?.reason?.code,
      'scale-unit-already-paired',
    )
    const winner = (won[0] as PromiseFulfilledResult<{ name: string }>).value.name
    t.equal((await topology.getScaleUnit(partner.name)).pairedWith, winner)
    const loser = names.find((name) => name !== winner)!
    await refusal(t, topology.getScaleUnit(loser), NotFoundError, 'scale-unit-not-found')
  })

  t.test('two units pairing with each other from both sides at once stay consistent', async (t) => {
    const ring = await makeRing()
    const [a, b, c] = [
      await makeUnit(ring.name),
      await makeUnit(ring.name),
      await makeUnit(ring.name),
    ]
    const outcomes = await Promise.allSettled([
      topology.updateScaleUnit(context(), a.name, { pairedWith: b.name }),
      topology.updateScaleUnit(context(), c.name, { pairedWith: b.name }),
    ])
    t.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1)
    const partnerOfB = (await topology.getScaleUnit(b.name)).pairedWith
    t.ok(partnerOfB === a.name || partnerOfB === c.name, 'b is paired with one of them')
    t.equal((await topology.getScaleUnit(partnerOfB!)).pairedWith, b.name, 'and it with b')
    const other = partnerOfB === a.name ? c.name : a.name
    t.equal((await topology.getScaleUnit(other)).pairedWith, null, 'the other stays single')
  })

  t.test('two admins revoking each other at once leave one admin', async (t) => {
    const fresh = harness(await openDrizzleStore(t))
    const first = await fresh.tokens.create(context(), { name: 'a', role: 'admin', subject: 'a' })
    const second = await fresh.tokens.create(context(), {
      name: 'b',
      role: 'admin',
      subject: 'b',
    })
    const outcomes = await Promise.allSettled([
      fresh.tokens.revoke(context(), first.token.id),
      fresh.tokens.revoke(context(), second.token.id),
    ])
    t.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1)
    const refused = outcomes.find((outcome) => outcome.status === 'rejected')
    t.equal((refused as PromiseRejectedResult | undefined)?.reason?.code, 'last-admin-token')
    const live = (await fresh.tokens.list()).filter((token) => token.revokedAt === null)
    t.equal(live.length, 1, 'exactly one admin token still works')
  })

  t.test('token expiry is stored as UTC and must be a date', async (t) => {
    const created = await tokens.create(context(), {
      name: unique('tok'),
      role: 'viewer',
      subject: 'tz',
      expiresAt: '2099-01-01T02:00:00+02:00',
    })
    t.equal(created.token.expiresAt, '2099-01-01T00:00:00.000Z')
    await refusal(
      t,
      tokens.create(context(), { name: 'x', role: 'viewer', subject: 'x', expiresAt: 'garbage' }),
      InvalidInputError,
      'invalid-expiry',
    )
  })
})

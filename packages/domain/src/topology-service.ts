import type { CommandContext } from './actor.js'
import { audit, executeCommand } from './command.js'
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js'
import { mergeRingPolicy, type RingPolicyInput, resolveRingPolicy } from './ring-policy.js'
import type { Store, StoreTransaction } from './store.js'
import type { Ring, ScaleUnit, ScaleUnitChange, ScaleUnitFilter, Service } from './topology.js'

export interface CreateServiceInput {
  name: string
  description?: string | undefined
  owner?: string | null | undefined
}

export interface CreateRingInput {
  name: string
  order: number
  description?: string | undefined
  policy?: RingPolicyInput | undefined
}

export interface UpdateRingInput {
  order?: number | undefined
  description?: string | undefined
  policy?: RingPolicyInput | undefined
}

export interface CreateScaleUnitInput {
  name: string
  region: string
  ring: string
  pairedWith?: string | null | undefined
  labels?: Record<string, string> | undefined
  trafficWeight?: number | undefined
}

export interface UpdateScaleUnitInput {
  region?: string | undefined
  ring?: string | undefined
  pairedWith?: string | null | undefined
  labels?: Record<string, string> | undefined
  trafficWeight?: number | undefined
}

/** Services, rings and scale units: what gets released, and where, in which order. */
export class TopologyService {
  constructor(private readonly store: Store) {}

  async createService(context: CommandContext, input: CreateServiceInput): Promise<Service> {
    return executeCommand(this.store, context, async (tx) => {
      if (await tx.services.findByName(input.name)) {
        throw new ConflictError('service-exists', `a service named '${input.name}' already exists`)
      }
      const service = await tx.services.insert({
        name: input.name,
        description: input.description ?? '',
        owner: input.owner ?? null,
      })
      await audit(tx, context, 'service.created', `service:${service.name}`, { after: service })
      return service
    })
  }

  listServices(): Promise<Service[]> {
    return this.store.read.services.list()
  }

  async getService(name: string): Promise<Service> {
    const service = await this.store.read.services.findByName(name)
    if (!service) throw new NotFoundError('service-not-found', `no service named '${name}'`)
    return service
  }

  async createRing(context: CommandContext, input: CreateRingInput): Promise<Ring> {
    const policy = resolveRingPolicy(input.policy)
    return executeCommand(this.store, context, async (tx) => {
      if (await tx.rings.findByName(input.name)) {
        throw new ConflictError('ring-exists', `a ring named '${input.name}' already exists`)
      }
      await assertOrderFree(tx, input.order)
      const ring = await tx.rings.insert({
        name: input.name,
        order: input.order,
        description: input.description ?? '',
        policy,
      })
      await audit(tx, context, 'ring.created', `ring:${ring.name}`, { after: ring })
      return ring
    })
  }

  listRings(): Promise<Ring[]> {
    return this.store.read.rings.list()
  }

  async getRing(name: string): Promise<Ring> {
    return requireRing(this.store.read, name)
  }

  async updateRing(context: CommandContext, name: string, input: UpdateRingInput): Promise<Ring> {
    return executeCommand(this.store, context, async (tx) => {
      const before = await requireRing(tx, name)
      if (input.order !== undefined && input.order !== before.order) {
        await assertOrderFree(tx, input.order)
      }
      const after = await tx.rings.update(name, {
        ...(input.order !== undefined && { order: input.order }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.policy !== undefined && { policy: mergeRingPolicy(before.policy, input.policy) }),
      })
      await audit(tx, context, 'ring.updated', `ring:${name}`, { before, after })
      return after
    })
  }

  async deleteRing(context: CommandContext, name: string): Promise<void> {
    await executeCommand(this.store, context, async (tx) => {
      const ring = await requireRing(tx, name)
      if (ring.scaleUnits.length > 0) {
        throw new ConflictError(
          'ring-has-scale-units',
          `ring '${name}' still has scale units: ${ring.scaleUnits.join(', ')}; move or delete them first`,
          { scaleUnits: ring.scaleUnits },
        )
      }
      await tx.rings.delete(name)
      await audit(tx, context, 'ring.deleted', `ring:${name}`, { before: ring })
    })
  }

  async createScaleUnit(context: CommandContext, input: CreateScaleUnitInput): Promise<ScaleUnit> {
    return executeCommand(this.store, context, async (tx) => {
      if (await tx.scaleUnits.findByName(input.name)) {
        throw new ConflictError(
          'scale-unit-exists',
          `a scale unit named '${input.name}' already exists`,
        )
      }
      await requireRingReference(tx, input.ring)
      const pairedWith = input.pairedWith ?? null
      if (pairedWith !== null) await assertPairable(tx, input.name, pairedWith)
      const scaleUnit = await tx.scaleUnits.insert({
        name: input.name,
        region: input.region,
        ring: input.ring,
        pairedWith,
        labels: input.labels ?? {},
        trafficWeight: input.trafficWeight ?? 1,
      })
      if (pairedWith !== null) await tx.scaleUnits.update(pairedWith, { pairedWith: input.name })
      await audit(tx, context, 'scale-unit.created', `scale-unit:${scaleUnit.name}`, {
        after: scaleUnit,
      })
      return scaleUnit
    })
  }

  listScaleUnits(filter: ScaleUnitFilter): Promise<ScaleUnit[]> {
    return this.store.read.scaleUnits.list(filter)
  }

  async getScaleUnit(name: string): Promise<ScaleUnit> {
    const scaleUnit = await this.store.read.scaleUnits.findByName(name)
    if (!scaleUnit) throw new NotFoundError('scale-unit-not-found', `no scale unit named '${name}'`)
    return scaleUnit
  }

  async updateScaleUnit(
    context: CommandContext,
    name: string,
    input: UpdateScaleUnitInput,
  ): Promise<ScaleUnit> {
    return executeCommand(this.store, context, async (tx) => {
      const before = await requireScaleUnit(tx, name)
      const change: ScaleUnitChange = {}
      if (input.region !== undefined) change.region = input.region
      if (input.labels !== undefined) change.labels = input.labels
      if (input.trafficWeight !== undefined) change.trafficWeight = input.trafficWeight
      if (input.ring !== undefined && input.ring !== before.ring) {
        await requireRingReference(tx, input.ring)
        change.ring = input.ring
      }
      if (input.pairedWith !== undefined && input.pairedWith !== before.pairedWith) {
        if (input.pairedWith !== null) await assertPairable(tx, name, input.pairedWith)
        if (before.pairedWith !== null) {
          await tx.scaleUnits.update(before.pairedWith, { pairedWith: null })
        }
        if (input.pairedWith !== null) {
          await tx.scaleUnits.update(input.pairedWith, { pairedWith: name })
        }
        change.pairedWith = input.pairedWith
      }
      const after = await tx.scaleUnits.update(name, change)
      const action = change.ring !== undefined ? 'scale-unit.moved' : 'scale-unit.updated'
      await audit(tx, context, action, `scale-unit:${name}`, { before, after })
      return after
    })
  }

  async deleteScaleUnit(context: CommandContext, name: string): Promise<void> {
    await executeCommand(this.store, context, async (tx) => {
      const scaleUnit = await requireScaleUnit(tx, name)
      if (scaleUnit.pairedWith !== null) {
        await tx.scaleUnits.update(scaleUnit.pairedWith, { pairedWith: null })
      }
      await tx.scaleUnits.delete(name)
      await audit(tx, context, 'scale-unit.deleted', `scale-unit:${name}`, { before: scaleUnit })
    })
  }
}

async function requireRing(tx: StoreTransaction, name: string): Promise<Ring> {
  const ring = await tx.rings.findByName(name)
  if (!ring) throw new NotFoundError('ring-not-found', `no ring named '${name}'`)
  return ring
}

/** A ring named inside a request body: its absence is a mistake in the input, not a missing URL. */
async function requireRingReference(tx: StoreTransaction, name: string): Promise<Ring> {
  const ring = await tx.rings.findByName(name)
  if (!ring) {
    throw new InvalidInputError('unknown-ring', `ring '${name}' does not exist; create it first`)
  }
  return ring
}

/** Locked for the rest of the transaction: pairing changes touch two rows and must not interleave. */
async function requireScaleUnit(tx: StoreTransaction, name: string): Promise<ScaleUnit> {
  const scaleUnit = await tx.scaleUnits.findByName(name, { forUpdate: true })
  if (!scaleUnit) throw new NotFoundError('scale-unit-not-found', `no scale unit named '${name}'`)
  return scaleUnit
}

async function assertOrderFree(tx: StoreTransaction, order: number): Promise<void> {
  const holder = await tx.rings.findByOrder(order)
  if (holder) {
    throw new ConflictError(
      'ring-order-taken',
      `ring '${holder.name}' already has order ${order}; give it another order first`,
      { ring: holder.name },
    )
  }
}

/** Region pairs are symmetric and exclusive: A paired with B means B is paired with A only. */
async function assertPairable(tx: StoreTransaction, name: string, partner: string): Promise<void> {
  if (partner === name) {
    throw new InvalidInputError('invalid-pair', `scale unit '${name}' cannot be paired with itself`)
  }
  const other = await tx.scaleUnits.findByName(partner, { forUpdate: true })
  if (!other) {
    throw new InvalidInputError(
      'unknown-scale-unit',
      `scale unit '${partner}' does not exist; create it before pairing with it`,
    )
  }
  if (other.pairedWith !== null && other.pairedWith !== name) {
    throw new ConflictError(
      'scale-unit-already-paired',
      `scale unit '${partner}' is already paired with '${other.pairedWith}'; unpair it first`,
    )
  }
}

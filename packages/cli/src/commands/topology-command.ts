import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import {
  defaultRingPolicy,
  type operations,
  type Ring,
  type RingmasterClient,
  type RingPolicy,
  type ScaleUnit,
} from '@ringmaster/sdk'
import { parse } from 'yaml'
import { type Command, requireString } from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'

type JsonBody<Operation extends keyof operations> = operations[Operation] extends {
  requestBody: { content: { 'application/json': infer Body } }
}
  ? Body
  : never
type CreateRingBody = JsonBody<'createRing'>
type UpdateRingBody = JsonBody<'updateRing'>
type CreateScaleUnitBody = JsonBody<'createScaleUnit'>
type UpdateScaleUnitBody = JsonBody<'updateScaleUnit'>

export interface TopologyChange {
  action: 'create' | 'update' | 'delete'
  kind: 'ring' | 'scale unit'
  name: string
  /** The fields an update changes. */
  fields?: string[]
}

/** A ring entry of the file. The server checks the values; the CLI only checks the shape. */
type RingEntry = CreateRingBody
type ScaleUnitEntry = CreateScaleUnitBody

interface TopologyFile {
  rings: RingEntry[]
  scaleUnits: ScaleUnitEntry[]
}

// What the API gives a ring or scale unit created without the field. The file is declarative: a
// field it leaves out is set back to these. The ring policy's default is the one the OpenAPI
// document publishes (POST /v1/rings), generated into the SDK, so it cannot drift from the server.
const defaultDescription = ''
const defaultLabels: Record<string, string> = {}
const defaultTrafficWeight = 1

const ringKeys = ['name', 'order', 'description', 'policy']
const scaleUnitKeys = ['name', 'region', 'ring', 'pairedWith', 'labels', 'trafficWeight']
const policyKeys = Object.keys(defaultRingPolicy)
/** The highest ring order the API takes. */
const maxRingOrder = 1000

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readTopology(file: string): TopologyFile {
  let document: unknown
  try {
    document = parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const top = isObject(document) ? document : {}
  const rings = top.rings ?? []
  const scaleUnits = top.scaleUnits ?? []
  if (!Array.isArray(rings) || !Array.isArray(scaleUnits)) {
    throw new UsageError(`${file}: 'rings' and 'scaleUnits' must be lists`)
  }
  const check = (entries: unknown[], what: string, keys: string[], required: string[]) => {
    const names = new Set<string>()
    for (const [index, entry] of entries.entries()) {
      const where = `${file}: ${what} ${index + 1}`
      if (!isObject(entry) || typeof entry.name !== 'string') {
        throw new UsageError(`${where} has no name`)
      }
      // A misspelt field would otherwise be ignored, and the real one reset to its default.
      const unknown = Object.keys(entry).filter((key) => !keys.includes(key))
      if (unknown.length > 0) {
        throw new UsageError(
          `${where} (${entry.name}): unknown field ${unknown.join(', ')}; fields: ${keys.join(', ')}`,
        )
      }
      for (const key of required) {
        if (entry[key] === undefined) throw new UsageError(`${where} (${entry.name}) has no ${key}`)
      }
      if (names.has(entry.name)) throw new UsageError(`${file}: ${entry.name} is listed twice`)
      names.add(entry.name)
    }
  }
  check(rings, 'ring', ringKeys, ['order'])
  check(scaleUnits, 'scale unit', scaleUnitKeys, ['region', 'ring'])
  const orders = new Map<unknown, string>()
  for (const ring of rings as RingEntry[]) {
    if (!Number.isInteger(ring.order)) {
      throw new UsageError(`${file}: ring ${ring.name}: order must be a whole number`)
    }
    const other = orders.get(ring.order)
    if (other) throw new UsageError(`${file}: rings ${other} and ${ring.name} have the same order`)
    orders.set(ring.order, ring.name)
    if (ring.policy !== undefined) {
      const unknown = isObject(ring.policy)
        ? Object.keys(ring.policy).filter((key) => !policyKeys.includes(key))
        : ['(policy is not a map)']
      if (unknown.length > 0) {
        throw new UsageError(
          `${file}: ring ${ring.name}: unknown policy field ${unknown.join(', ')}; fields: ${policyKeys.join(', ')}`,
        )
      }
    }
  }
  return { rings: rings as RingEntry[], scaleUnits: scaleUnits as ScaleUnitEntry[] }
}

/** A ring as the file declares it, omitted fields at their defaults. */
function desiredRing(entry: RingEntry): Pick<Ring, 'order' | 'description' | 'policy'> {
  return {
    order: entry.order,
    description: entry.description ?? defaultDescription,
    // As the API does: a given `health` replaces the thresholds as a whole.
    policy: { ...defaultRingPolicy, ...entry.policy } as RingPolicy,
  }
}

/** The pair of every scale unit the file lists; naming a pair on one side is enough. */
function desiredPairs(file: TopologyFile): Map<string, string> {
  const pairs = new Map<string, string>()
  for (const unit of file.scaleUnits) {
    if (unit.pairedWith === undefined || unit.pairedWith === null) continue
    for (const [name, partner] of [
      [unit.name, unit.pairedWith],
      [unit.pairedWith, unit.name],
    ] as const) {
      const existing = pairs.get(name)
      if (existing !== undefined && existing !== partner) {
        throw new UsageError(
          `scale unit ${name} is paired with both ${existing} and ${partner} in the file; a pair is one other scale unit`,
        )
      }
      pairs.set(name, partner)
    }
  }
  return pairs
}

/** A scale unit as the file declares it, omitted fields at their defaults (pairing apart). */
function desiredScaleUnit(
  entry: ScaleUnitEntry,
): Pick<ScaleUnit, 'region' | 'ring' | 'labels' | 'trafficWeight'> {
  return {
    region: entry.region,
    ring: entry.ring,
    labels: entry.labels ?? defaultLabels,
    trafficWeight: entry.trafficWeight ?? defaultTrafficWeight,
  }
}

function changedFields<T extends object>(desired: T, current: T): (keyof T & string)[] {
  return (Object.keys(desired) as (keyof T & string)[]).filter(
    (field) => !isDeepStrictEqual(desired[field], current[field]),
  )
}

function pick<T extends object, K extends keyof T>(source: T, fields: K[]): Pick<T, K> {
  return Object.fromEntries(fields.map((field) => [field, source[field]])) as Pick<T, K>
}

interface RingUpdate {
  name: string
  desired: ReturnType<typeof desiredRing>
  fields: ('order' | 'description' | 'policy')[]
  /** A free order the ring passes through because its new order is held by another ring. */
  temporaryOrder?: number
}

/**
 * Plans the order changes: a ring whose new order another ring still holds first moves to a
 * free temporary order at the top of the range, so no two rings ever share one (the API refuses
 * that). Every step leaves a valid topology; if the apply is interrupted, applying again finishes.
 */
function planReorder(updates: RingUpdate[], rings: Map<string, Ring>): void {
  const moving = updates.filter((update) => update.fields.includes('order'))
  const holderOf = new Map([...rings.values()].map((ring) => [ring.order, ring.name]))
  const movingNames = new Set(moving.map((update) => update.name))
  const needTemporary: RingUpdate[] = []
  for (const update of moving) {
    const holder = holderOf.get(update.desired.order)
    if (holder === undefined) continue
    if (!movingNames.has(holder)) {
      throw new Error(
        `ring ${update.name} is to get order ${update.desired.order}, which ring ${holder} has and the file does not give another; give ${holder} another order in the file, or delete it first`,
      )
    }
    needTemporary.push(update)
  }
  const taken = new Set([...holderOf.keys(), ...updates.map((update) => update.desired.order)])
  const free: number[] = []
  for (let order = maxRingOrder; order >= 0 && free.length < needTemporary.length; order--) {
    if (!taken.has(order)) free.push(order)
  }
  if (free.length < needTemporary.length) {
    throw new Error(`no free ring orders left to reorder through (0..${maxRingOrder})`)
  }
  // The highest temporary order to the ring going last, so their relative order is already the new one.
  needTemporary.sort((a, b) => b.desired.order - a.desired.order)
  for (const [index, update] of needTemporary.entries()) update.temporaryOrder = free[index]
}

/**
 * Brings the rings and scale units to what the file says: creates what is missing, sets what
 * differs (a field the file leaves out goes back to its default), and with `prune` deletes what
 * the file does not name. Returns what it changed.
 */
export async function applyTopology(
  client: RingmasterClient,
  file: TopologyFile,
  { prune, dryRun }: { prune: boolean; dryRun: boolean },
): Promise<TopologyChange[]> {
  const changes: TopologyChange[] = []
  const act = async (change: TopologyChange, call: () => Promise<unknown>) => {
    changes.push(change)
    if (!dryRun) await call()
  }
  const rings = new Map((await client.get('/v1/rings')).rings.map((ring) => [ring.name, ring]))
  const units = new Map(
    (await client.get('/v1/scale-units')).scaleUnits.map((unit) => [unit.name, unit]),
  )
  const pairs = desiredPairs(file)
  const wantedRings = new Set(file.rings.map((ring) => ring.name))
  const wantedUnits = new Set(file.scaleUnits.map((unit) => unit.name))
  const patchRing = (name: string, body: UpdateRingBody) =>
    client.patch('/v1/rings/{name}', { params: { path: { name } }, body })
  const patchUnit = (name: string, body: UpdateScaleUnitBody) =>
    client.patch('/v1/scale-units/{name}', { params: { path: { name } }, body })

  const updates: RingUpdate[] = []
  for (const entry of file.rings) {
    const current = rings.get(entry.name)
    if (!current) continue
    const desired = desiredRing(entry)
    const fields = changedFields(desired, pick(current, ['order', 'description', 'policy']))
    if (fields.length > 0) updates.push({ name: entry.name, desired, fields })
  }
  planReorder(updates, rings)
  if (!dryRun) {
    for (const update of updates) {
      if (update.temporaryOrder !== undefined)
        await patchRing(update.name, { order: update.temporaryOrder })
    }
  }
  // Rings going straight to a free order first: they may free the orders the others wait for.
  const direct = updates.filter((update) => update.temporaryOrder === undefined)
  const throughTemporary = updates.filter((update) => update.temporaryOrder !== undefined)
  for (const update of [...direct, ...throughTemporary]) {
    await act({ action: 'update', kind: 'ring', name: update.name, fields: update.fields }, () =>
      patchRing(update.name, {
        ...pick(update.desired, update.fields),
        // A temporary order must be undone even if the order was the only change.
        ...(update.temporaryOrder !== undefined && { order: update.desired.order }),
      }),
    )
  }
  for (const entry of file.rings) {
    if (rings.has(entry.name)) continue
    await act({ action: 'create', kind: 'ring', name: entry.name }, () =>
      client.post('/v1/rings', { body: entry }),
    )
  }

  // Pairs are set once both scale units exist, so the order of the file does not matter.
  for (const entry of file.scaleUnits) {
    const current = units.get(entry.name)
    const { pairedWith: _pair, ...body } = entry
    if (!current) {
      await act({ action: 'create', kind: 'scale unit', name: entry.name }, () =>
        client.post('/v1/scale-units', { body }),
      )
      units.set(entry.name, {
        ...desiredScaleUnit(entry),
        name: entry.name,
        pairedWith: null,
        createdAt: '',
        updatedAt: '',
      })
      continue
    }
    const desired = desiredScaleUnit(entry)
    const fields = changedFields(
      desired,
      pick(current, ['region', 'ring', 'labels', 'trafficWeight']),
    )
    if (fields.length > 0) {
      await act({ action: 'update', kind: 'scale unit', name: entry.name, fields }, () =>
        patchUnit(entry.name, pick(desired, fields)),
      )
    }
  }
  for (const entry of file.scaleUnits) {
    const current = units.get(entry.name)!
    const pairedWith = pairs.get(entry.name) ?? null
    if (current.pairedWith === pairedWith) continue
    await act(
      { action: 'update', kind: 'scale unit', name: entry.name, fields: ['pairedWith'] },
      () => patchUnit(entry.name, { pairedWith }),
    )
    // Pairing is mutual and exclusive: the old partners of both sides are left unpaired.
    const partner = pairedWith === null ? undefined : units.get(pairedWith)
    for (const name of [current.pairedWith, partner?.pairedWith]) {
      const unit = name ? units.get(name) : undefined
      if (unit) units.set(unit.name, { ...unit, pairedWith: null })
    }
    if (partner) units.set(partner.name, { ...partner, pairedWith: entry.name })
    units.set(entry.name, { ...current, pairedWith })
  }

  if (prune) {
    for (const name of units.keys()) {
      if (wantedUnits.has(name)) continue
      await act({ action: 'delete', kind: 'scale unit', name }, () =>
        client.delete('/v1/scale-units/{name}', { params: { path: { name } } }),
      )
    }
    for (const name of rings.keys()) {
      if (wantedRings.has(name)) continue
      await act({ action: 'delete', kind: 'ring', name }, () =>
        client.delete('/v1/rings/{name}', { params: { path: { name } } }),
      )
    }
  }
  return changes
}

function changeLine(change: TopologyChange): string {
  const verb = { create: 'created', update: 'updated', delete: 'deleted' }[change.action]
  return `${verb} ${change.kind} ${change.name}${change.fields ? ` (${change.fields.join(', ')})` : ''}`
}

export const topologyApply: Command = {
  name: 'topology apply',
  summary: 'bring rings and scale units to what a YAML file declares',
  help: `Usage: ringmaster topology apply -f topology.yaml [--prune] [--dry-run]

  -f, --file FILE        the topology: 'rings' (name, order, description, policy) and 'scaleUnits'
                         (name, region, ring, pairedWith, labels, trafficWeight), as the API takes them
  --prune                also delete the scale units and rings the file does not name
  --dry-run              say what would change, change nothing

The file is declarative: creates what is missing, and sets every ring and scale unit it lists to
exactly what it says. A field it leaves out goes back to its default: description '', policy
fields to no approvals, bakeMinutes 0, approvalTimeoutMinutes null (no timeout), maxParallel 1,
manualPromotion false, autoRollback true, health {}; labels {}, trafficWeight 1, and no pair
(naming a pair on one side is enough).
Rings may swap orders: a ring whose new order is still taken passes through a free order at the
top of the range (if the apply is interrupted there, applying the file again finishes it).
Objects the file does not list are left alone unless --prune. Applying the same file again
changes nothing and says so.

  rings:
    - name: ring-0
      order: 0
      policy: { preApproval: { role: approver, minApprovals: 1, ttlHours: 24 }, approvalTimeoutMinutes: 240, bakeMinutes: 60 }
    - { name: ring-1, order: 1 }
  scaleUnits:
    - { name: team-wus2, region: westus2, ring: ring-0 }
    - { name: prod-weu, region: westeurope, ring: ring-1, pairedWith: prod-neu }
    - { name: prod-neu, region: northeurope, ring: ring-1, labels: { tier: prod } }`,
  options: {
    file: { type: 'string', short: 'f' },
    prune: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(context) {
    const file = readTopology(requireString(context, 'file'))
    const dryRun = context.values['dry-run'] === true
    const changes = await applyTopology(context.client(), file, {
      prune: context.values.prune === true,
      dryRun,
    })
    context.output.result({ changed: changes.length > 0, dryRun, changes }, () => {
      if (changes.length === 0) return 'topology is up to date: no changes'
      const lines = changes.map(changeLine)
      return dryRun ? ['would change (dry run):', ...lines.map((line) => `  ${line}`)] : lines
    })
    return ExitCode.success
  },
}

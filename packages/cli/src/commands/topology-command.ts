import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { parse } from 'yaml'
import { type Command, requireString } from '../command.js'
import type { ControlPlaneClient, Json } from '../control-plane-client.js'
import { ExitCode, UsageError } from '../exit-codes.js'

export interface TopologyChange {
  action: 'create' | 'update' | 'delete'
  kind: 'ring' | 'scale unit'
  name: string
  /** The fields an update changes. */
  fields?: string[]
}

interface TopologyFile {
  rings: Json[]
  scaleUnits: Json[]
}

const ringFields = ['order', 'description', 'policy'] as const
const scaleUnitFields = ['region', 'ring', 'labels', 'trafficWeight'] as const

function readTopology(file: string): TopologyFile {
  let document: Json
  try {
    document = parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const rings = document?.rings ?? []
  const scaleUnits = document?.scaleUnits ?? []
  if (!Array.isArray(rings) || !Array.isArray(scaleUnits)) {
    throw new UsageError(`${file}: 'rings' and 'scaleUnits' must be lists`)
  }
  for (const [index, entry] of [...rings, ...scaleUnits].entries()) {
    if (typeof entry?.name !== 'string')
      throw new UsageError(`${file}: entry ${index + 1} has no name`)
  }
  return { rings, scaleUnits }
}

/** The fields the file gives that differ from what the server has; fields it leaves out are kept. */
function changedFields(desired: Json, current: Json, fields: readonly string[]): string[] {
  return fields.filter((field) => {
    if (desired[field] === undefined) return false
    if (field === 'policy') {
      // The file may give part of a policy; only the parts it gives are compared.
      return Object.entries(desired.policy).some(
        ([key, value]) => !isDeepStrictEqual(value, current.policy?.[key]),
      )
    }
    return !isDeepStrictEqual(desired[field], current[field])
  })
}

function pick(source: Json, fields: string[]): Json {
  return Object.fromEntries(fields.map((field) => [field, source[field]]))
}

/**
 * Brings the rings and scale units to what the file says: creates what is missing, updates what
 * differs, and with `prune` deletes what the file does not name. Returns what it changed.
 */
export async function applyTopology(
  client: ControlPlaneClient,
  file: TopologyFile,
  { prune, dryRun }: { prune: boolean; dryRun: boolean },
): Promise<TopologyChange[]> {
  const changes: TopologyChange[] = []
  const act = async (change: TopologyChange, call: () => Promise<unknown>) => {
    changes.push(change)
    if (!dryRun) await call()
  }
  const rings = new Map<string, Json>(
    (await client.get('/v1/rings')).rings.map((ring: Json) => [ring.name, ring]),
  )
  const units = new Map<string, Json>(
    (await client.get('/v1/scale-units')).scaleUnits.map((unit: Json) => [unit.name, unit]),
  )
  const wantedRings = new Set(file.rings.map((ring) => ring.name as string))
  const wantedUnits = new Set(file.scaleUnits.map((unit) => unit.name as string))

  for (const ring of file.rings) {
    const current = rings.get(ring.name)
    if (!current) {
      await act({ action: 'create', kind: 'ring', name: ring.name }, () =>
        client.post('/v1/rings', { body: ring }),
      )
      continue
    }
    const fields = changedFields(ring, current, ringFields)
    if (fields.length > 0) {
      await act({ action: 'update', kind: 'ring', name: ring.name, fields }, () =>
        client.patch(`/v1/rings/${encodeURIComponent(ring.name)}`, { body: pick(ring, fields) }),
      )
    }
  }

  // Pairs are set once both scale units exist, so the order of the file does not matter.
  for (const unit of file.scaleUnits) {
    const { pairedWith: _pair, ...rest } = unit
    const current = units.get(unit.name)
    if (!current) {
      await act({ action: 'create', kind: 'scale unit', name: unit.name }, () =>
        client.post('/v1/scale-units', { body: rest }),
      )
      units.set(unit.name, { ...rest, pairedWith: null })
      continue
    }
    const fields = changedFields(unit, current, scaleUnitFields)
    if (fields.length > 0) {
      await act({ action: 'update', kind: 'scale unit', name: unit.name, fields }, () =>
        client.patch(`/v1/scale-units/${encodeURIComponent(unit.name)}`, {
          body: pick(unit, fields),
        }),
      )
    }
  }
  for (const unit of file.scaleUnits) {
    if (unit.pairedWith === undefined) continue
    const current = units.get(unit.name)!
    if (current.pairedWith === unit.pairedWith) continue
    await act(
      { action: 'update', kind: 'scale unit', name: unit.name, fields: ['pairedWith'] },
      () =>
        client.patch(`/v1/scale-units/${encodeURIComponent(unit.name)}`, {
          body: { pairedWith: unit.pairedWith },
        }),
    )
    // Pairing is mutual: the other side changes with it.
    if (current.pairedWith)
      units.set(current.pairedWith, { ...units.get(current.pairedWith), pairedWith: null })
    if (unit.pairedWith)
      units.set(unit.pairedWith, { ...units.get(unit.pairedWith), pairedWith: unit.name })
    units.set(unit.name, { ...current, pairedWith: unit.pairedWith })
  }

  if (prune) {
    for (const name of units.keys()) {
      if (wantedUnits.has(name)) continue
      await act({ action: 'delete', kind: 'scale unit', name }, () =>
        client.delete(`/v1/scale-units/${encodeURIComponent(name)}`),
      )
    }
    for (const name of rings.keys()) {
      if (wantedRings.has(name)) continue
      await act({ action: 'delete', kind: 'ring', name }, () =>
        client.delete(`/v1/rings/${encodeURIComponent(name)}`),
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

Creates what is missing and updates what differs; fields the file leaves out are kept as they
are. Applying the same file again changes nothing and says so.

  rings:
    - name: ring-0
      order: 0
      policy: { preApproval: { role: approver, minApprovals: 1, ttlHours: 24 }, bakeMinutes: 60 }
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
    const changes = await applyTopology(context.legacyClient(), file, {
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

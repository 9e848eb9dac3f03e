import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import type { Flag, InitFor, RingmasterClient } from '@ringmaster/sdk'
import { parse } from 'yaml'
import { type Command, optionalString, requireString } from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'

type PutFlagBody = InitFor<'put', '/v1/flags/{key}'>['body']
type RingState = Flag['rings'][number]
type Strategy = RingState['strategies'][number]
// biome-ignore lint/suspicious/noExplicitAny: a flags file is checked against the API by the server.
type Json = any

// A record, so the build fails when the API gains a flag type this list does not name.
const everyFlagType: Record<Flag['type'], true> = {
  release: true,
  experiment: true,
  operational: true,
  'kill-switch': true,
  permission: true,
}
const flagTypes = Object.keys(everyFlagType) as Flag['type'][]

/** The fields of a flag definition besides its rings, as PUT /v1/flags/{key} takes them. */
const definitionFields = [
  'project',
  'description',
  'type',
  'owner',
  'tags',
  'impressionData',
  'stale',
  'variants',
  'dependencies',
] as const

function flagKeyArgument(key: string | undefined): string {
  if (!key || !/^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$/.test(key))
    throw new UsageError(
      `KEY must be a flag name (letters, digits and . _ ~ -), not '${key ?? ''}'`,
    )
  return key
}

function describeConstraint(constraint: Strategy['constraints'][number]): string {
  const values = constraint.values ?? (constraint.value !== undefined ? [constraint.value] : [])
  const shown = values.length <= 3 ? values.join(',') : `${values.length} values`
  return `${constraint.contextName} ${constraint.inverted ? 'NOT ' : ''}${constraint.operator} ${shown}`
}

function count(list: string | undefined, what: string): string {
  const n = (list ?? '').split(',').filter((item) => item.trim() !== '').length
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/** One strategy in a few words: `flexibleRollout 25% where country IN de,fr`. */
export function describeStrategy(strategy: Strategy): string {
  const p = strategy.parameters
  let text: string
  switch (strategy.name) {
    case 'default':
      text = 'everyone'
      break
    case 'flexibleRollout':
      text = `rollout ${p.rollout ?? '100'}%${p.stickiness && p.stickiness !== 'default' ? ` by ${p.stickiness}` : ''}`
      break
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
    case 'gradualRolloutRandom':
      text = `${strategy.name} ${p.percentage ?? '?'}%`
      break
    case 'userWithId':
      text = count(p.userIds, 'user')
      break
    case 'remoteAddress':
      text = count(p.IPs, 'address')
      break
    case 'applicationHostname':
      text = count(p.hostNames, 'host')
      break
    default:
      text = strategy.name
  }
  const where = [
    ...strategy.constraints.map(describeConstraint),
    ...strategy.segments.map((segment) => `segment ${segment}`),
  ]
  const variants = strategy.variants.length > 0 ? ` (${strategy.variants.length} variants)` : ''
  return `${text}${where.length > 0 ? ` where ${where.join(' and ')}` : ''}${variants}`
}

function ringSummary(state: RingState | undefined): { state: string; strategies: string } {
  if (!state) return { state: 'off', strategies: 'not configured' }
  const strategies =
    state.strategies.length === 0 ? 'everyone' : state.strategies.map(describeStrategy).join('; ')
  // Off is off for everyone; the strategies are kept for when it is turned on again.
  return state.enabled
    ? { state: 'on', strategies }
    : { state: 'off', strategies: `(when on: ${strategies})` }
}

/** One line per flag, in columns: key, type, project, and on or off in each configured ring. */
function flagLines(flags: Flag[]): string[] {
  const keyWidth = Math.max(...flags.map((flag) => flag.key.length))
  const typeWidth = Math.max(...flags.map((flag) => flag.type.length))
  const projectWidth = Math.max(...flags.map((flag) => flag.project.length))
  return flags.map((flag) => {
    const rings = flag.rings.map((ring) => `${ring.ring} ${ring.enabled ? 'on' : 'off'}`)
    const marks = [flag.stale && 'stale', flag.archived && 'archived'].filter(Boolean)
    return [
      flag.key.padEnd(keyWidth),
      flag.type.padEnd(typeWidth),
      flag.project.padEnd(projectWidth),
      rings.length > 0 ? rings.join(', ') : 'no rings',
      ...(marks.length > 0 ? [`(${marks.join(', ')})`] : []),
    ].join('  ')
  })
}

function flagDetail(flag: Flag, ringNames: string[]): string[] {
  const marks = [flag.stale && 'stale', flag.archived && 'archived'].filter(Boolean)
  const lines = [
    `${flag.key} (${flag.type}, project ${flag.project})${marks.length > 0 ? ` ${marks.join(', ')}` : ''}${flag.description ? ` — ${flag.description}` : ''}`,
  ]
  if (flag.owner) lines.push(`  owner ${flag.owner}`)
  if (flag.tags.length > 0) lines.push(`  tags ${flag.tags.join(', ')}`)
  if (flag.variants.length > 0)
    lines.push(
      `  variants ${flag.variants.map((variant) => `${variant.name} ${variant.weight}`).join(', ')}`,
    )
  for (const dependency of flag.dependencies)
    lines.push(
      `  needs ${dependency.feature} ${dependency.enabled === false ? 'off' : 'on'}${dependency.variants?.length ? ` with variant ${dependency.variants.join(' or ')}` : ''}`,
    )
  // Every ring, in rollout order, then rings the flag names that the topology no longer has.
  const names = [
    ...ringNames,
    ...flag.rings.map((ring) => ring.ring).filter((name) => !ringNames.includes(name)),
  ]
  const rows = names.map((name) => ({
    name,
    ...ringSummary(flag.rings.find((ring) => ring.ring === name)),
  }))
  const width = Math.max(4, ...rows.map((row) => row.name.length))
  lines.push(`  ${'RING'.padEnd(width)}  STATE  STRATEGIES`)
  for (const row of rows)
    lines.push(`  ${row.name.padEnd(width)}  ${row.state.padEnd(5)}  ${row.strategies}`)
  return lines
}

export const flagsList: Command = {
  name: 'flags list',
  summary: 'list feature flags and where they are on',
  help: `Usage: ringmaster flags list [--project P] [--tag T] [--type TYPE] [--query TEXT] [--archived]

  --project P            only flags of this project
  --tag T                only flags with this tag
  --type TYPE            only flags of this type: release, experiment, operational, kill-switch
                         or permission
  --query TEXT           only flags whose key, description or a tag contains TEXT (any case)
  --archived             include archived flags`,
  options: {
    project: { type: 'string' },
    tag: { type: 'string' },
    type: { type: 'string' },
    query: { type: 'string' },
    archived: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(context) {
    const project = optionalString(context, 'project')
    const tag = optionalString(context, 'tag')
    const type = optionalString(context, 'type') as Flag['type'] | undefined
    if (type !== undefined && !flagTypes.includes(type))
      throw new UsageError(`--type must be one of ${flagTypes.join(', ')}, not '${type}'`)
    const query = optionalString(context, 'query')?.toLowerCase()
    const body = await context.client().get('/v1/flags', {
      params: {
        query: {
          ...(project && { project }),
          ...(tag && { tag }),
          ...(type && { type }),
          ...(context.values.archived === true && { archived: true }),
        },
      },
    })
    // The API has no text search; the list is filtered here.
    const flags = query
      ? body.flags.filter((flag) =>
          [flag.key, flag.description, ...flag.tags].some((text) =>
            text.toLowerCase().includes(query),
          ),
        )
      : body.flags
    context.output.result({ flags }, () => (flags.length === 0 ? 'no flags' : flagLines(flags)))
    return ExitCode.success
  },
}

export const flagsShow: Command = {
  name: 'flags show',
  summary: 'show a flag: its state and strategies in each ring',
  help: 'Usage: ringmaster flags show KEY',
  options: {},
  positionals: [1, 1],
  async run(context) {
    const key = flagKeyArgument(context.positionals[0])
    const client = context.client()
    const flag = await client.get('/v1/flags/{key}', { params: { path: { key } } })
    const { rings } = await client.get('/v1/rings')
    context.output.result(flag, () =>
      flagDetail(
        flag,
        rings.map((ring) => ring.name),
      ),
    )
    return ExitCode.success
  },
}

function toggle(name: 'enable' | 'disable'): Command {
  const enabled = name === 'enable'
  return {
    name: `flags ${name}`,
    summary: `turn a flag ${enabled ? 'on' : 'off'} in one ring`,
    help: `Usage: ringmaster flags ${name} KEY --ring R

  --ring R               the ring (Unleash calls it an environment)

${enabled ? 'On means its strategies decide; with none it is on for everyone in the ring.' : 'Off means off for everyone in the ring; its strategies are kept.'}`,
    options: { ring: { type: 'string' } },
    positionals: [1, 1],
    async run(context) {
      const key = flagKeyArgument(context.positionals[0])
      const ring = requireString(context, 'ring')
      const flag = await context.client().patch('/v1/flags/{key}/rings/{ring}', {
        params: { path: { key, ring } },
        body: { enabled },
      })
      context.output.result(flag, () => `${name}d ${key} in ${ring}`)
      return ExitCode.success
    },
  }
}

export const flagsEnable = toggle('enable')
export const flagsDisable = toggle('disable')

export interface FlagChange {
  action: 'create' | 'update'
  key: string
  /** What an update changes: `tags`, `rings.ring-1.enabled`, `rings.ring-1.strategies`. */
  fields?: string[]
}

interface DesiredFlag extends Record<string, Json> {
  key: string
}

/** Strategy parameters are text in the API; a file may write `rollout: 25`. */
function strategyWithDefaults(strategy: Json): Json {
  const parameters = Object.fromEntries(
    Object.entries(strategy.parameters ?? {}).map(([name, value]) => [name, String(value)]),
  )
  return { constraints: [], segments: [], variants: [], ...strategy, parameters }
}

function readFlags(file: string): DesiredFlag[] {
  let document: Json
  try {
    document = parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const flags = document?.flags
  if (!Array.isArray(flags)) throw new UsageError(`${file}: 'flags' must be a list`)
  const keys = new Set<string>()
  for (const [index, flag] of flags.entries()) {
    if (typeof flag?.key !== 'string') throw new UsageError(`${file}: flag ${index + 1} has no key`)
    if (keys.has(flag.key)) throw new UsageError(`${file}: flag ${flag.key} appears twice`)
    keys.add(flag.key)
    if (flag.rings !== undefined && (typeof flag.rings !== 'object' || Array.isArray(flag.rings)))
      throw new UsageError(
        `${file}: rings of ${flag.key} must map ring names to { enabled, strategies }`,
      )
  }
  return flags
}

/**
 * Whether what the file says holds on the server: objects compare only the keys the file gives,
 * since the server fills in optional fields the file may leave out; lists compare item by item.
 */
function holds(desired: Json, current: Json): boolean {
  if (Array.isArray(desired))
    return (
      Array.isArray(current) &&
      current.length === desired.length &&
      desired.every((item, index) => holds(item, current[index]))
    )
  if (desired !== null && typeof desired === 'object')
    return (
      current !== null &&
      typeof current === 'object' &&
      Object.entries(desired).every(
        ([key, value]) => value === undefined || holds(value, current[key]),
      )
    )
  return isDeepStrictEqual(desired, current)
}

function changedFields(desired: DesiredFlag, current: Flag): string[] {
  const fields: string[] = definitionFields.filter(
    (field) => desired[field] !== undefined && !holds(desired[field], current[field]),
  )
  if (current.archived) fields.push('archived')
  for (const [ring, want] of Object.entries<Json>(desired.rings ?? {})) {
    const state = current.rings.find((candidate) => candidate.ring === ring)
    if (!state) {
      fields.push(`rings.${ring}`)
      continue
    }
    if (want.enabled !== state.enabled) fields.push(`rings.${ring}.enabled`)
    // A strategy the file gives replaces the ring's whole list, so left-out lists mean empty.
    if (!holds((want.strategies ?? []).map(strategyWithDefaults), state.strategies))
      fields.push(`rings.${ring}.strategies`)
  }
  return fields
}

function ringsBody(desired: DesiredFlag, only?: Set<string>): PutFlagBody['rings'] {
  return Object.fromEntries(
    Object.entries<Json>(desired.rings ?? {})
      .filter(([ring]) => !only || only.has(ring))
      .map(([ring, want]) => [
        ring,
        { enabled: want.enabled, strategies: (want.strategies ?? []).map(strategyWithDefaults) },
      ]),
  )
}

/**
 * Brings the flags the file names to what it says: creates the missing ones and updates those
 * that differ. Fields and rings the file leaves out keep what they have; other flags are left alone.
 */
export async function importFlags(
  client: RingmasterClient,
  desired: DesiredFlag[],
  { dryRun }: { dryRun: boolean },
): Promise<FlagChange[]> {
  const { flags } = await client.get('/v1/flags', { params: { query: { archived: true } } })
  const current = new Map(flags.map((flag) => [flag.key, flag]))
  const changes: FlagChange[] = []
  for (const flag of desired) {
    const { key, rings: _rings, ...definition } = flag
    const existing = current.get(key)
    if (!existing) {
      changes.push({ action: 'create', key })
      if (!dryRun)
        await client.put('/v1/flags/{key}', {
          params: { path: { key } },
          body: { ...definition, rings: ringsBody(flag) } as PutFlagBody,
        })
      continue
    }
    const fields = changedFields(flag, existing)
    if (fields.length === 0) continue
    changes.push({ action: 'update', key, fields })
    if (dryRun) continue
    // PUT takes the whole definition, so what the file leaves out is sent as it is now; of the
    // rings only those that differ are sent, and the others keep their state.
    const kept = Object.fromEntries(definitionFields.map((field) => [field, existing[field]]))
    const changedRings = new Set(
      fields.filter((field) => field.startsWith('rings.')).map((field) => field.split('.')[1]!),
    )
    await client.put('/v1/flags/{key}', {
      params: { path: { key } },
      body: { ...kept, ...definition, rings: ringsBody(flag, changedRings) } as PutFlagBody,
    })
  }
  return changes
}

function changeLine(change: FlagChange): string {
  return change.action === 'create'
    ? `created flag ${change.key}`
    : `updated flag ${change.key} (${change.fields?.join(', ')})`
}

export const flagsImport: Command = {
  name: 'flags import',
  summary: 'bring feature flags to what a YAML or JSON file declares',
  help: `Usage: ringmaster flags import -f flags.yaml [--dry-run]

  -f, --file FILE        the flags, YAML or JSON: a list 'flags', each a key plus the body of
                         PUT /v1/flags/KEY (project, description, type, owner, tags, variants,
                         dependencies, impressionData, stale, and rings: RING → enabled, strategies)
  --dry-run              say what would change, change nothing

Creates the flags that are missing and updates those that differ; fields and rings a flag leaves
out keep what they have, and flags the file does not name are left alone. Importing the same file
again changes nothing and says so. (For an Unleash export, use POST /v1/flags/import.)

  flags:
    - key: new-checkout
      description: the new checkout flow
      type: release
      tags: [checkout]
      rings:
        ring-0: { enabled: true }
        ring-1:
          enabled: true
          strategies:
            - name: flexibleRollout
              parameters: { rollout: 25, stickiness: default, groupId: new-checkout }`,
  options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } },
  positionals: [0, 0],
  async run(context) {
    const desired = readFlags(requireString(context, 'file'))
    const dryRun = context.values['dry-run'] === true
    const changes = await importFlags(context.client(), desired, { dryRun })
    context.output.result({ changed: changes.length > 0, dryRun, changes }, () => {
      if (changes.length === 0) return 'flags are up to date: no changes'
      const lines = changes.map(changeLine)
      return dryRun ? ['would change (dry run):', ...lines.map((line) => `  ${line}`)] : lines
    })
    return ExitCode.success
  },
}

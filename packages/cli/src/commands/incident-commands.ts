import { createHash } from 'node:crypto'
import type { Incident } from '@ringmaster/sdk'
import {
  type Command,
  type CommandContext,
  idArgument,
  optionalString,
  requireString,
} from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'
import { timestampOption } from '../timestamp-option.js'

/** An answer older than this to a declaration is the earlier one, replayed for the same key. */
const replayAfterMs = 60_000

// A record, so the build fails when the API gains a severity this list does not name.
const everySeverity: Record<Incident['severity'], true> = {
  sev1: true,
  sev2: true,
  sev3: true,
  sev4: true,
}
const severities = Object.keys(everySeverity) as Incident['severity'][]

function positiveInteger(context: CommandContext, name: string): number | undefined {
  const text = optionalString(context, name)
  if (text === undefined) return undefined
  if (!/^[1-9][0-9]*$/.test(text))
    throw new UsageError(`--${name} must be a positive integer, not '${text}'`)
  return Number(text)
}

function status(incident: Incident): string {
  if (incident.resolvedAt) return `resolved ${incident.resolvedAt}`
  if (incident.mitigatedAt) return `mitigated ${incident.mitigatedAt}`
  return 'open'
}

/** One line: id, severity, service, where, state and title. */
export function incidentLine(incident: Incident): string {
  const where = incident.ring ?? 'fleet'
  return `incident ${incident.id} ${incident.severity} ${incident.service} (${where}) ${status(incident)} — ${incident.title}`
}

function incidentDetail(incident: Incident): string[] {
  const lines = [
    incidentLine(incident),
    `  declared by ${incident.createdBy}; started ${incident.startedAt}, detected ${incident.detectedAt}`,
  ]
  if (incident.scaleUnits.length > 0) lines.push(`  scale units ${incident.scaleUnits.join(', ')}`)
  lines.push(`  traffic share ${Math.round(incident.trafficShare * 1000) / 10}%`)
  if (incident.releaseId !== null) lines.push(`  suspected release ${incident.releaseId}`)
  if (incident.haltId !== null)
    lines.push(
      `  declared with halt ${incident.haltId} for ${incident.service} (lift it: ringmaster line resume ${incident.haltId})`,
    )
  if (incident.reviewUrl) lines.push(`  review ${incident.reviewUrl}`)
  if (incident.notes) lines.push(`  notes: ${incident.notes}`)
  return lines
}

export const incidentDeclare: Command = {
  name: 'incident declare',
  summary: 'declare an incident, optionally stopping the line for the service',
  help: `Usage: ringmaster incident declare --service S --title T --severity sev1|sev2|sev3|sev4
                                 [--ring R] [--release ID] [--halt] [--detected-at ISO] [--started-at ISO]

  --service S            the service affected
  --title T              what users see, in a line
  --severity SEV         sev1 (worst) to sev4
  --ring R               the ring affected (default: the whole fleet)
  --scale-unit SU        a scale unit affected; repeat for several
  --release ID           the release suspected of causing it
  --halt                 also stop the line for the service (lift it with line resume)
  --detected-at ISO      when someone noticed (default now); time to restore starts here
  --started-at ISO       when users started to be affected (default the detection)
  --idempotency-key K    the key for the declaration (default: derived from the request, so a
                         retried pipeline step with the same arguments does not declare twice)

Needs a person's token (admin, approver, sre or viewer); pipeline tokens may not declare.`,
  options: {
    service: { type: 'string' },
    title: { type: 'string' },
    severity: { type: 'string' },
    ring: { type: 'string' },
    'scale-unit': { type: 'string', multiple: true },
    release: { type: 'string' },
    halt: { type: 'boolean' },
    'detected-at': { type: 'string' },
    'started-at': { type: 'string' },
    'idempotency-key': { type: 'string' },
  },
  positionals: [0, 0],
  async run(context) {
    const service = requireString(context, 'service')
    const title = requireString(context, 'title')
    const severity = requireString(context, 'severity')
    if (!(severities as string[]).includes(severity))
      throw new UsageError(`--severity must be one of ${severities.join(', ')}, not '${severity}'`)
    const ring = optionalString(context, 'ring')
    const scaleUnits = context.values['scale-unit'] as string[] | undefined
    const releaseId = positiveInteger(context, 'release')
    const detectedAt = timestampOption(context, 'detected-at')
    const startedAt = timestampOption(context, 'started-at')
    const body = {
      service,
      title,
      severity: severity as Incident['severity'],
      ...(ring && { ring }),
      ...(scaleUnits && { scaleUnits }),
      ...(releaseId !== undefined && { releaseId }),
      ...(startedAt && { startedAt }),
      ...(detectedAt && { detectedAt }),
      ...(context.values.halt === true && { halt: true }),
    }
    // Like release create: a pipeline step retried after a lost answer gets the incident it
    // already declared instead of a second one (and a second halt). Without --detected-at the day
    // is part of the key, so the same outage on another day is a new incident.
    const keyed = detectedAt ? body : { ...body, day: new Date().toISOString().slice(0, 10) }
    const idempotencyKey =
      optionalString(context, 'idempotency-key') ??
      `incident-declare-${createHash('sha256').update(JSON.stringify(keyed)).digest('hex').slice(0, 40)}`
    const incident = await context.client().post('/v1/incidents', { body, idempotencyKey })
    const replayed = Date.now() - Date.parse(incident.createdAt) > replayAfterMs
    if (replayed) {
      context.output.error(
        `incident ${incident.id} was already declared with these arguments at ${incident.createdAt}; nothing new was declared (pass --idempotency-key to declare another)`,
      )
    }
    context.output.result(incident, () => [
      `${replayed ? 'already declared' : 'declared'} ${incidentLine(incident)}`,
      ...incidentDetail(incident).slice(1),
    ])
    return ExitCode.success
  },
}

function transition(action: 'mitigate' | 'resolve', summary: string, done: string): Command {
  return {
    name: `incident ${action}`,
    summary,
    help: `Usage: ringmaster incident ${action} ID [--at ISO]

  --at ISO               when it was ${done} (default now); not before the detection${action === 'resolve' ? ' or the mitigation' : ''}

Sending the same time again changes nothing; a halt declared with the incident stays until it is
lifted with line resume.`,
    options: { at: { type: 'string' } },
    positionals: [1, 1],
    async run(context) {
      const id = idArgument(context)
      const at = timestampOption(context, 'at')
      const init = { params: { path: { id } }, body: at ? { at } : {} }
      const incident =
        action === 'mitigate'
          ? await context.client().post('/v1/incidents/{id}/mitigate', init)
          : await context.client().post('/v1/incidents/{id}/resolve', init)
      context.output.result(incident, () => `${done} ${incidentLine(incident)}`)
      return ExitCode.success
    },
  }
}

export const incidentMitigate = transition(
  'mitigate',
  'say when the impact of an incident stopped growing',
  'mitigated',
)
export const incidentResolve = transition(
  'resolve',
  'say when service was restored after an incident',
  'resolved',
)

export const incidentList: Command = {
  name: 'incident list',
  summary: 'list incidents, newest first',
  help: `Usage: ringmaster incident list [--service S] [--open | --resolved] [--limit N]

  --service S            only this service's incidents
  --open                 only incidents not resolved yet
  --resolved             only resolved incidents
  --limit N              at most this many (default 50, at most 200)`,
  options: {
    service: { type: 'string' },
    open: { type: 'boolean' },
    resolved: { type: 'boolean' },
    limit: { type: 'string' },
  },
  positionals: [0, 0],
  async run(context) {
    if (context.values.open === true && context.values.resolved === true)
      throw new UsageError('--open and --resolved exclude each other')
    const open =
      context.values.open === true ? true : context.values.resolved === true ? false : undefined
    const limit = positiveInteger(context, 'limit')
    const service = optionalString(context, 'service')
    const body = await context.client().get('/v1/incidents', {
      params: {
        query: {
          ...(service && { service }),
          ...(open !== undefined && { open }),
          ...(limit !== undefined && { limit }),
        },
      },
    })
    context.output.result(body, () =>
      body.incidents.length === 0 ? 'no incidents' : body.incidents.map(incidentLine),
    )
    return ExitCode.success
  },
}

export const incidentShow: Command = {
  name: 'incident show',
  summary: 'show one incident',
  help: 'Usage: ringmaster incident show ID',
  options: {},
  positionals: [1, 1],
  async run(context) {
    const id = idArgument(context)
    const incident = await context.client().get('/v1/incidents/{id}', { params: { path: { id } } })
    context.output.result(incident, () => incidentDetail(incident))
    return ExitCode.success
  },
}

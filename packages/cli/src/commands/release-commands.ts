import { createHash } from 'node:crypto'
import type { operations } from '@ringmaster/sdk'
import {
  type Command,
  type CommandContext,
  idArgument,
  optionalString,
  parseDuration,
  requireString,
} from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'
import { type ReleaseDetail, releaseDetail, releaseLine, releaseStates } from '../release-view.js'
import { waitForRelease } from '../release-wait.js'

type CreateReleaseBody = operations['createRelease']['requestBody']['content']['application/json']
type ReleaseListState = NonNullable<
  NonNullable<operations['listReleases']['parameters']['query']>['state']
>

/** Where an unfinished release may be asked to be (the release list's stage states). */
const stageListStates = ['awaiting_approval', 'deploying', 'baking', 'awaiting_promotion'] as const

const waitOptions = {
  wait: { type: 'boolean' },
  until: { type: 'string' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  'ride-out-halts': { type: 'boolean' },
} as const

const waitHelp = `  --wait                 wait until the release ends or halts; the exit code says how it went:
                         0 succeeded, 1 failed (rejected, rolled back, cancelled, superseded),
                         3 halted or blocked by a halt (the release's own, or a stop of the line
                         on its ring: global, service, ring, an incident's), printing each halt,
                         4 timed out
  --ride-out-halts       with --wait: a halt does not end the wait; say so once per halt and
                         wait for the lift (or the resume) until --timeout
  --until RING           with --wait: stop waiting, exit 0, as soon as RING's stage has succeeded
                         (approved, deployed, baked); the release goes on to later rings
  --timeout DURATION     give up waiting after this long, exit 4 (default 2h; 90s, 15m, 2h)
  --interval DURATION    how often to look (default 1s)`

interface WaitSettings {
  timeoutMs: number
  intervalMs: number
  untilRing: string | undefined
  rideOutHalts: boolean
}

const ringName = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Read before any request, so a mistake in them is a usage error and nothing is created. */
function waitSettings(context: CommandContext): WaitSettings | undefined {
  const untilRing = optionalString(context, 'until')
  if (context.values.wait !== true) {
    for (const option of ['until', 'timeout', 'interval', 'ride-out-halts']) {
      if (context.values[option] !== undefined) throw new UsageError(`--${option} needs --wait`)
    }
    return undefined
  }
  if (untilRing !== undefined && !ringName.test(untilRing)) {
    throw new UsageError(`--until must be a ring name like ring-0, not '${untilRing}'`)
  }
  return {
    timeoutMs: parseDuration(optionalString(context, 'timeout') ?? '2h', 'timeout'),
    intervalMs: parseDuration(optionalString(context, 'interval') ?? '1s', 'interval'),
    untilRing,
    rideOutHalts: context.values['ride-out-halts'] === true,
  }
}

/** Follows the release as --wait asks, prints where it ended and answers the exit code. */
async function follow(context: CommandContext, wait: WaitSettings, id: number): Promise<ExitCode> {
  const { output } = context
  const { release, code } = await waitForRelease(context.client(), id, { ...wait, output })
  output.result(release, () => releaseDetail(release))
  return code
}

function show(context: CommandContext, release: ReleaseDetail): ExitCode {
  context.output.result(release, () => releaseDetail(release))
  return ExitCode.success
}

/** `ring-0..ring-2`, `ring-1..` or `..ring-1` as the API's ring range. */
function parseRings(text: string): { from?: string; to?: string } {
  const match = /^([a-z0-9-]*)\.\.([a-z0-9-]*)$/.exec(text)
  if (!match || (!match[1] && !match[2])) {
    throw new UsageError(
      `--rings must look like ring-0..ring-2 (either end may be left out), not '${text}'`,
    )
  }
  return { ...(match[1] && { from: match[1] }), ...(match[2] && { to: match[2] }) }
}

/** Asked before anything is created: --until must name a ring the new release goes through. */
async function assertRingInRange(
  context: CommandContext,
  ring: string,
  range: CreateReleaseBody['rings'],
): Promise<void> {
  const { rings } = await context.client().get('/v1/rings')
  const orderOf = (name: string | undefined) =>
    name === undefined ? undefined : rings.find((candidate) => candidate.name === name)?.order
  const order = orderOf(ring)
  if (order === undefined) {
    throw new UsageError(
      `--until: there is no ring '${ring}' (rings: ${rings.map((r) => r.name).join(', ')})`,
    )
  }
  const from = orderOf(range?.from)
  const to = orderOf(range?.to)
  if ((from !== undefined && order < from) || (to !== undefined && order > to)) {
    throw new UsageError(
      `--until: ring '${ring}' is outside --rings ${range?.from ?? ''}..${range?.to ?? ''}`,
    )
  }
}

export const releaseCreate: Command = {
  name: 'release create',
  summary: 'create a release and optionally wait for it',
  help: `Usage: ringmaster release create --service S --version V [--commit SHA] [--rings ring-0..ring-2]
                                [--hotfix --reason R] [--notes N] [--build-url URL]
                                [--wait [--until RING] [--timeout 2h] [--ride-out-halts]]

  --service S            the service (it must exist)
  --version V            the version to release
  --commit SHA           the commit it was built from
  --rings FROM..TO       the rings to go through (default all)
  --hotfix               a hotfix: may start at any ring of its range; needs --reason
  --reason R             why the release exists
  --notes N              release notes for approvers
  --build-url URL        link to the build
  --idempotency-key K    the key for the create (default: derived from the request, so a retried
                         pipeline step with the same arguments gets the same release back)
${waitHelp}`,
  options: {
    service: { type: 'string' },
    version: { type: 'string' },
    commit: { type: 'string' },
    rings: { type: 'string' },
    hotfix: { type: 'boolean' },
    reason: { type: 'string' },
    notes: { type: 'string' },
    'build-url': { type: 'string' },
    'idempotency-key': { type: 'string' },
    ...waitOptions,
  },
  positionals: [0, 0],
  async run(context) {
    const wait = waitSettings(context)
    const hotfix = context.values.hotfix === true
    const reason = optionalString(context, 'reason')
    if (hotfix && !reason) throw new UsageError('--hotfix needs --reason')
    const rings = optionalString(context, 'rings')
    const commit = optionalString(context, 'commit')
    const notes = optionalString(context, 'notes')
    const buildUrl = optionalString(context, 'build-url')
    const body: CreateReleaseBody = {
      service: requireString(context, 'service'),
      version: requireString(context, 'version'),
      ...(commit && { commit }),
      ...(rings && { rings: parseRings(rings) }),
      ...(hotfix && { kind: 'hotfix' as const }),
      ...(reason && { reason }),
      ...(notes && { notes }),
      ...(buildUrl && { buildUrl }),
    }
    if (wait?.untilRing) await assertRingInRange(context, wait.untilRing, body.rings)
    // The same arguments give the same key: a pipeline step that is retried after a lost answer
    // gets the release it already made instead of a second one.
    const idempotencyKey =
      optionalString(context, 'idempotency-key') ??
      `release-create-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 40)}`
    const release = await context.client().post('/v1/releases', { body, idempotencyKey })
    context.output.progress(`created ${releaseLine(release)}`)
    return wait ? follow(context, wait, release.id) : show(context, release)
  },
}

export const releaseStatus: Command = {
  name: 'release status',
  summary: 'show a release: rings, scale units, what it waits for',
  help: `Usage: ringmaster release status ID [--wait [--until RING] [--timeout 2h] [--ride-out-halts]]

Shows the release; with --wait follows it. A pipeline can wait for ring-0's approval and
deployment as one step, then follow the release to its end as another:

  ringmaster release status 42 --wait --until ring-0
  ringmaster release status 42 --wait

${waitHelp}`,
  options: { ...waitOptions },
  positionals: [1, 1],
  async run(context) {
    const id = idArgument(context)
    const wait = waitSettings(context)
    // Following starts with a read of its own, one that rides out a control plane restarting.
    if (wait) return follow(context, wait, id)
    return show(
      context,
      await context.client().get('/v1/releases/{id}', { params: { path: { id } } }),
    )
  },
}

export const releaseList: Command = {
  name: 'release list',
  summary: 'list releases, newest first',
  help: `Usage: ringmaster release list [--service S] [--state STATE | --awaiting-approval] [--limit N]

  --state STATE          a release state (${releaseStates.join(', ')}), or where an unfinished
                         release is: ${stageListStates.join(', ')}
  --awaiting-approval    only releases waiting for an approval (--state awaiting_approval)

Each line says where an unfinished release is: "awaiting approval in ring-0".`,
  options: {
    service: { type: 'string' },
    state: { type: 'string' },
    'awaiting-approval': { type: 'boolean' },
    limit: { type: 'string' },
  },
  positionals: [0, 0],
  async run(context) {
    const awaiting = context.values['awaiting-approval'] === true
    if (awaiting && context.values.state !== undefined) {
      throw new UsageError('--awaiting-approval is --state awaiting_approval; give one of them')
    }
    const state = awaiting ? 'awaiting_approval' : optionalString(context, 'state')
    const listStates: readonly string[] = [...releaseStates, ...stageListStates]
    if (state !== undefined && !listStates.includes(state)) {
      throw new UsageError(`--state must be one of ${listStates.join(', ')}, not '${state}'`)
    }
    const limitText = optionalString(context, 'limit')
    if (limitText !== undefined && !/^[1-9][0-9]*$/.test(limitText)) {
      throw new UsageError(`--limit must be a positive integer, not '${limitText}'`)
    }
    const service = optionalString(context, 'service')
    const body = await context.client().get('/v1/releases', {
      params: {
        query: {
          ...(service && { service }),
          ...(state && { state: state as ReleaseListState }),
          ...(limitText && { limit: Number(limitText) }),
        },
      },
    })
    context.output.result(body, () =>
      body.releases.length === 0 ? 'no releases' : body.releases.map(releaseLine),
    )
    return ExitCode.success
  },
}

function decision(name: 'approve' | 'reject'): Command {
  return {
    name,
    summary: `${name} a ring of a release`,
    help: `Usage: ringmaster ${name} ID --ring R [--comment C]

  --ring R               the ring whose gate you ${name}
  --comment C            ${name === 'approve' ? 'what you checked' : 'why you reject (the release fails)'}`,
    options: { ring: { type: 'string' }, comment: { type: 'string' } },
    positionals: [1, 1],
    async run(context) {
      const id = idArgument(context)
      const ring = requireString(context, 'ring')
      const comment = optionalString(context, 'comment')
      const approval = await context.client().post('/v1/releases/{id}/stages/{ring}/approvals', {
        params: { path: { id, ring } },
        body: { decision: name, ...(comment && { comment }) },
      })
      context.output.result(
        approval,
        () => `${name === 'approve' ? 'approved' : 'rejected'} ${ring} of release ${id}`,
      )
      return ExitCode.success
    },
  }
}

export const approve = decision('approve')
export const reject = decision('reject')

type TransitionPath =
  | '/v1/releases/{id}/promote'
  | '/v1/releases/{id}/halt'
  | '/v1/releases/{id}/resume'
  | '/v1/releases/{id}/rollback'
  | '/v1/releases/{id}/cancel'

/** promote, halt, resume, rollback and cancel: a release id and a reason for the audit trail. */
function transition(name: string, path: TransitionPath, summary: string, done: string): Command {
  return {
    name,
    summary,
    help: `Usage: ringmaster ${name} ID --reason R

  --reason R             why; recorded in the audit trail`,
    options: { reason: { type: 'string' } },
    positionals: [1, 1],
    async run(context) {
      const id = idArgument(context)
      const reason = requireString(context, 'reason')
      const release = await context
        .client()
        .post(path, { params: { path: { id } }, body: { reason } })
      context.output.result(release, () => [`${done} release ${id}`, ...releaseDetail(release)])
      return ExitCode.success
    },
  }
}

export const promote = transition(
  'promote',
  '/v1/releases/{id}/promote',
  'move a release on now (cut a bake short, pass a manual promotion)',
  'promoted',
)
export const halt = transition(
  'halt',
  '/v1/releases/{id}/halt',
  'stop a release where it is',
  'halted',
)
export const resume = transition(
  'resume',
  '/v1/releases/{id}/resume',
  'resume a halted release',
  'resumed',
)
export const rollback = transition(
  'rollback',
  '/v1/releases/{id}/rollback',
  'roll a release back to the previous version',
  'rolling back',
)
export const cancel = transition(
  'cancel',
  '/v1/releases/{id}/cancel',
  'cancel a release that has not finished',
  'cancelled',
)

import { createHash } from 'node:crypto'
import {
  type Command,
  type CommandContext,
  idArgument,
  optionalString,
  parseDuration,
  requireString,
} from '../command.js'
import type { Json } from '../control-plane-client.js'
import { ExitCode, UsageError } from '../exit-codes.js'
import { releaseDetail, releaseLine } from '../release-view.js'
import { waitForRelease } from '../release-wait.js'

const waitOptions = {
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const

const waitHelp = `  --wait                 wait until the release ends or halts; the exit code says how it went
  --timeout DURATION     give up waiting after this long, exit 4 (default 2h; 90s, 15m, 2h)
  --interval DURATION    how often to look (default 1s)`

interface WaitSettings {
  timeoutMs: number
  intervalMs: number
}

/** Read before any request, so a mistake in them is a usage error and nothing is created. */
function waitSettings(context: CommandContext): WaitSettings | undefined {
  if (context.values.wait !== true) return undefined
  return {
    timeoutMs: parseDuration(optionalString(context, 'timeout') ?? '2h', 'timeout'),
    intervalMs: parseDuration(optionalString(context, 'interval') ?? '1s', 'interval'),
  }
}

async function finish(
  context: CommandContext,
  wait: WaitSettings | undefined,
  id: number,
  release: Json,
): Promise<ExitCode> {
  const { output } = context
  if (!wait) {
    output.result(release, () => releaseDetail(release))
    return ExitCode.success
  }
  const { timeoutMs, intervalMs } = wait
  const { release: last, code } = await waitForRelease(context.legacyClient(), id, {
    timeoutMs,
    intervalMs,
    output,
  })
  output.result(last, () => releaseDetail(last))
  return code
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

export const releaseCreate: Command = {
  name: 'release create',
  summary: 'create a release and optionally wait for it',
  help: `Usage: ringmaster release create --service S --version V [--commit SHA] [--rings ring-0..ring-2]
                                [--hotfix --reason R] [--notes N] [--build-url URL] [--wait [--timeout 2h]]

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
    const body = {
      service: requireString(context, 'service'),
      version: requireString(context, 'version'),
      ...(optionalString(context, 'commit') && { commit: optionalString(context, 'commit') }),
      ...(rings && { rings: parseRings(rings) }),
      ...(hotfix && { kind: 'hotfix' }),
      ...(reason && { reason }),
      ...(optionalString(context, 'notes') && { notes: optionalString(context, 'notes') }),
      ...(optionalString(context, 'build-url') && {
        buildUrl: optionalString(context, 'build-url'),
      }),
    }
    // The same arguments give the same key: a pipeline step that is retried after a lost answer
    // gets the release it already made instead of a second one.
    const idempotencyKey =
      optionalString(context, 'idempotency-key') ??
      `release-create-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 40)}`
    const release = await context.legacyClient().post('/v1/releases', { body, idempotencyKey })
    context.output.progress(`created ${releaseLine(release)}`)
    return finish(context, wait, release.id, release)
  },
}

export const releaseStatus: Command = {
  name: 'release status',
  summary: 'show a release: rings, scale units, what it waits for',
  help: `Usage: ringmaster release status ID [--wait [--timeout 2h]]

${waitHelp}`,
  options: { ...waitOptions },
  positionals: [1, 1],
  async run(context) {
    const id = idArgument(context)
    const wait = waitSettings(context)
    const release = await context.legacyClient().get(`/v1/releases/${id}`)
    return finish(context, wait, id, release)
  },
}

export const releaseList: Command = {
  name: 'release list',
  summary: 'list releases, newest first',
  help: `Usage: ringmaster release list [--service S] [--state STATE] [--limit N]`,
  options: {
    service: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string' },
  },
  positionals: [0, 0],
  async run(context) {
    const body = await context.legacyClient().get('/v1/releases', {
      query: {
        service: optionalString(context, 'service'),
        state: optionalString(context, 'state'),
        limit: optionalString(context, 'limit'),
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
      const approval = await context
        .legacyClient()
        .post(`/v1/releases/${id}/stages/${encodeURIComponent(ring)}/approvals`, {
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

/** promote, halt, resume, rollback and cancel: a release id and a reason for the audit trail. */
function transition(name: string, path: string, summary: string, done: string): Command {
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
        .legacyClient()
        .post(`/v1/releases/${id}/${path}`, { body: { reason } })
      context.output.result(release, () => [`${done} release ${id}`, ...releaseDetail(release)])
      return ExitCode.success
    },
  }
}

export const promote = transition(
  'promote',
  'promote',
  'move a release on now (cut a bake short, pass a manual promotion)',
  'promoted',
)
export const halt = transition('halt', 'halt', 'stop a release where it is', 'halted')
export const resume = transition('resume', 'resume', 'resume a halted release', 'resumed')
export const rollback = transition(
  'rollback',
  'rollback',
  'roll a release back to the previous version',
  'rolling back',
)
export const cancel = transition(
  'cancel',
  'cancel',
  'cancel a release that has not finished',
  'cancelled',
)

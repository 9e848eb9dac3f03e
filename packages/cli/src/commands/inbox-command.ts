import type { Inbox } from '@ringmaster/sdk'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { releaseLine } from '../release-view.js'

export const inbox: Command = {
  name: 'inbox',
  summary: 'what waits for you: approvals you may give, your releases that are stuck',
  help: `Usage: ringmaster inbox [--json]

Lists, for the token's subject and role, the stages waiting for an approval you may give (the
ring's role or admin; never your own release; not twice) and the releases you asked for that are
not moving, with why. Approve with: ringmaster approve ID --ring RING`,
  options: {},
  positionals: [0, 0],
  async run(context) {
    const body = await context.client().inbox()
    context.output.result(body, () => inboxLines(body))
    return ExitCode.success
  },
}

export function inboxLines(body: Inbox): string[] {
  const lines = [`inbox of ${body.subject} (${body.role})`]
  if (body.approvals.length === 0) {
    lines.push('no approvals wait for you')
  } else {
    lines.push(`${body.approvals.length} waiting for your approval:`)
    for (const item of body.approvals) {
      const commit = item.commit ? ` (${item.commit.slice(0, 12)})` : ''
      const since = item.awaitingSince ? `, waiting since ${item.awaitingSince}` : ''
      const expires = item.expiresAt ? `, expires ${item.expiresAt}` : ''
      lines.push(
        `  release ${item.releaseId} ${item.service} ${item.version}${commit} into ${item.ring}: ${item.approvals} of ${item.quorum} approvals, requested by ${item.requester}${since}${expires}`,
        `    ringmaster approve ${item.releaseId} --ring ${item.ring}`,
      )
    }
  }
  if (body.blockedReleases.length === 0) {
    lines.push('none of your releases is blocked')
  } else {
    lines.push(`${body.blockedReleases.length} of your releases blocked:`)
    for (const item of body.blockedReleases) {
      lines.push(`  ${releaseLine(item.release)}`)
      for (const block of item.blockedBy)
        lines.push(`    blocked by ${block.kind}: ${block.message}`)
    }
  }
  return lines
}

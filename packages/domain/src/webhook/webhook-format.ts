import type { WebhookFormat } from './webhook.js'

/** One delivery as the sender has it, before it is written for its receiver. */
export interface WebhookMessage {
  id: number
  event: string
  createdAt: string
  payload: Record<string, unknown>
}

/**
 * Where a person sees what the event is about in the console, under `publicUrl` (the console's
 * address, RINGMASTER_PUBLIC_URL): the incident, else the release, else (a halt) the console's
 * front page. Null without a public URL or when the event is about none of them.
 */
export function webhookConsoleLink(
  publicUrl: string | null,
  event: string,
  payload: Record<string, unknown>,
): string | null {
  if (!publicUrl) return null
  const base = publicUrl.replace(/\/+$/, '')
  const incidentId = numberField(payload, 'incidentId')
  const releaseId =
    numberField(payload, 'releaseId') ??
    numberField((payload.deployment ?? {}) as Record<string, unknown>, 'releaseId')
  const haltId = numberField(payload, 'haltId')
  if (incidentId !== null && (event.startsWith('incident.') || releaseId === null)) {
    return `${base}/incidents/${incidentId}`
  }
  if (releaseId !== null) return `${base}/releases/${releaseId}`
  // The console shows the halts that stop the line on every page.
  if (haltId !== null) return `${base}/`
  return null
}

/** A delivery in words: a headline, a line of detail, and the facts a person scans. */
export interface WebhookSummary {
  title: string
  detail: string
  facts: Array<{ name: string; value: string }>
  /** Red for a stopped line, a halt, a rollback or an incident; amber for a request; grey else. */
  severity: 'alert' | 'attention' | 'info'
}

export function summarizeWebhookMessage(message: WebhookMessage): WebhookSummary {
  const p = message.payload
  const data = (p.data ?? {}) as Record<string, unknown>
  const service = text(p.service)
  const version = text(p.version)
  const ring = text(p.ring)
  const requester = text(p.requester)
  const actor = text(p.actor)
  const reason = text(data.reason)
  const release = [service, version].filter(Boolean).join(' ')
  const onRing = ring ? ` on ${ring}` : ''
  const facts = [
    { name: 'Service', value: service },
    { name: 'Version', value: version },
    { name: 'Ring', value: ring },
    { name: 'Requested by', value: requester },
    { name: 'By', value: actor },
    { name: 'Event', value: message.event },
  ].filter((fact) => fact.value !== '')
  switch (message.event) {
    case 'stage.awaiting_approval':
      return {
        title: `Approval needed: ${release}${onRing}`,
        detail: `${release} waits for approval to go${ring ? ` into ${ring}` : ' on'}${requester ? `; requested by ${requester}, who cannot approve it` : ''}.`,
        facts,
        severity: 'attention',
      }
    case 'halt.created': {
      const scope = text(data.scope)
      const target = text(data.target)
      const where = scope === 'global' || scope === '' ? 'everywhere' : `for ${scope} ${target}`
      return {
        title: `Line stopped ${where}`,
        detail: `${actor || 'Someone'} stopped the line ${where}${reason ? `: ${reason}` : ''}. No new wave starts there until the halt is lifted.`,
        facts,
        severity: 'alert',
      }
    }
    case 'halt.lifted':
      return {
        title: 'Line resumed',
        detail: `${actor || 'Someone'} lifted a halt${reason ? ` (${reason})` : ''}; releases move again.`,
        facts,
        severity: 'info',
      }
    case 'release.halted':
      return {
        title: `Release halted: ${release}${onRing}`,
        detail: `${release} stopped${reason ? `: ${reason}` : ''}. Resume it or roll it back.`,
        facts,
        severity: 'alert',
      }
    case 'release.rolled_back':
      return {
        title: `Release rolled back: ${release}`,
        detail: `${release} is being rolled back${reason ? `: ${reason}` : ''}.`,
        facts,
        severity: 'alert',
      }
    case 'incident.created': {
      const severity = text(p.severity)
      return {
        title: `Incident declared${severity ? ` (${severity})` : ''}: ${text(p.title) || service}`,
        detail: `${actor || 'Someone'} declared an incident on ${service}${ring ? ` in ${ring}` : ''}.`,
        facts: [{ name: 'Severity', value: severity }, ...facts].filter((f) => f.value !== ''),
        severity: 'alert',
      }
    }
    default: {
      const about = release ? ` ${release}${onRing}` : ''
      return {
        title: `${message.event}${about}`,
        detail: `${message.event}${about}${actor ? ` by ${actor}` : ''}.`,
        facts,
        severity: 'info',
      }
    }
  }
}

/**
 * The body POSTed for one delivery. `json` is the delivery itself (its payload gains `link` when
 * there is one); `slack` an incoming-webhook message (`text` and `blocks`); `teams` a MessageCard,
 * which Teams incoming webhooks and workflows accept.
 */
export function webhookBody(
  format: WebhookFormat,
  message: WebhookMessage,
  publicUrl: string | null,
): Record<string, unknown> {
  const link = webhookConsoleLink(publicUrl, message.event, message.payload)
  if (format === 'json') {
    return {
      id: message.id,
      event: message.event,
      createdAt: message.createdAt,
      payload: link === null ? message.payload : { ...message.payload, link },
    }
  }
  const summary = summarizeWebhookMessage(message)
  return format === 'slack' ? slackBody(summary, message, link) : teamsBody(summary, link)
}

function slackBody(
  summary: WebhookSummary,
  message: WebhookMessage,
  link: string | null,
): Record<string, unknown> {
  const escapeMrkdwn = (value: string) =>
    value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: summary.title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(summary.detail) } },
    {
      type: 'section',
      fields: summary.facts.slice(0, 10).map((fact) => ({
        type: 'mrkdwn',
        text: `*${fact.name}*\n${escapeMrkdwn(fact.value)}`,
      })),
    },
  ]
  if (link !== null) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open in Ringmaster' },
          url: link,
          ...(summary.severity === 'attention' && { style: 'primary' }),
        },
      ],
    })
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Ringmaster · ${message.event} · delivery ${message.id}` }],
  })
  return {
    text: `${summary.title}: ${summary.detail}${link === null ? '' : ` ${link}`}`,
    blocks,
  }
}

const teamsColours = { alert: 'D13438', attention: 'FFB900', info: '8A8886' } as const

function teamsBody(summary: WebhookSummary, link: string | null): Record<string, unknown> {
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: summary.title,
    themeColor: teamsColours[summary.severity],
    title: summary.title,
    text: summary.detail,
    sections: [{ facts: summary.facts }],
    potentialAction:
      link === null
        ? []
        : [
            {
              '@type': 'OpenUri',
              name: 'Open in Ringmaster',
              targets: [{ os: 'default', uri: link }],
            },
          ],
  }
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : ''
}

function numberField(record: Record<string, unknown>, key: string): number | null {
  const value = record[key]
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}

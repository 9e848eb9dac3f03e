import t from 'tap'
import {
  summarizeWebhookMessage,
  type WebhookMessage,
  webhookBody,
  webhookConsoleLink,
} from '../../src/webhook/webhook-format.js'

const approvalNeeded: WebhookMessage = {
  id: 12,
  event: 'stage.awaiting_approval',
  createdAt: '2026-12-06T00:00:00.000Z',
  payload: {
    service: 'checkout',
    releaseId: 42,
    version: '1.4.0',
    ring: 'ring-0',
    requester: 'checkout-ci',
    actor: 'system',
    subject: 'release:42:ring-0',
    data: { ring: 'ring-0', from: 'pending', to: 'awaiting_approval' },
  },
}

t.test('webhookConsoleLink', async (t) => {
  const cases: [
    url: string | null,
    event: string,
    payload: Record<string, unknown>,
    link: string | null,
  ][] = [
    [null, 'release.created', { releaseId: 1 }, null],
    [
      'https://rm.example.com/console/',
      'release.created',
      { releaseId: 1 },
      'https://rm.example.com/console/releases/1',
    ],
    [
      'https://rm.example.com',
      'deployment.requested',
      { deployment: { releaseId: 5 } },
      'https://rm.example.com/releases/5',
    ],
    [
      'https://rm.example.com',
      'incident.created',
      { incidentId: 3, releaseId: 5 },
      'https://rm.example.com/incidents/3',
    ],
    ['https://rm.example.com', 'halt.created', { haltId: 9 }, 'https://rm.example.com/'],
    ['https://rm.example.com', 'halt.created', {}, null],
  ]
  for (const [url, event, payload, link] of cases) {
    t.equal(webhookConsoleLink(url, event, payload), link, `${url} ${event}`)
  }
})

t.test('the messages people read', async (t) => {
  const summary = summarizeWebhookMessage(approvalNeeded)
  t.equal(summary.title, 'Approval needed: checkout 1.4.0 on ring-0')
  t.match(summary.detail, /requested by checkout-ci, who cannot approve it/)
  t.equal(summary.severity, 'attention')
  const cases: [event: string, payload: Record<string, unknown>, title: RegExp][] = [
    [
      'halt.created',
      { actor: 'jane', data: { scope: 'global', reason: 'db alarms' } },
      /^Line stopped everywhere$/,
    ],
    [
      'halt.created',
      { data: { scope: 'service', target: 'checkout' } },
      /^Line stopped for service checkout$/,
    ],
    [
      'release.halted',
      { service: 'checkout', version: '1.4.0', ring: 'ring-1', data: { reason: 'health' } },
      /^Release halted: checkout 1.4.0 on ring-1$/,
    ],
    [
      'release.rolled_back',
      { service: 'checkout', version: '1.4.0', data: {} },
      /^Release rolled back: checkout 1.4.0$/,
    ],
    [
      'incident.created',
      { service: 'checkout', severity: 'sev2', title: '500s', data: {} },
      /^Incident declared \(sev2\): 500s$/,
    ],
    [
      'release.created',
      { service: 'checkout', version: '1.4.0', actor: 'ci', data: {} },
      /^release.created checkout 1.4.0$/,
    ],
  ]
  for (const [event, payload, title] of cases) {
    t.match(summarizeWebhookMessage({ ...approvalNeeded, event, payload }).title, title, event)
  }
})

t.test('json: the delivery as before, its payload with a link when there is one', async (t) => {
  t.same(webhookBody('json', approvalNeeded, null), {
    id: 12,
    event: 'stage.awaiting_approval',
    createdAt: '2026-12-06T00:00:00.000Z',
    payload: approvalNeeded.payload,
  })
  const linked = webhookBody('json', approvalNeeded, 'https://rm.example.com') as {
    payload: Record<string, unknown>
  }
  t.equal(linked.payload.link, 'https://rm.example.com/releases/42')
})

t.test('slack: text and blocks, escaped, with a button to the console', async (t) => {
  const body = webhookBody(
    'slack',
    { ...approvalNeeded, payload: { ...approvalNeeded.payload, requester: '<ci&co>' } },
    'https://rm.example.com',
  ) as { text: string; blocks: Array<Record<string, unknown>> }
  t.match(
    body.text,
    /^Approval needed: checkout 1.4.0 on ring-0: .* https:\/\/rm.example.com\/releases\/42$/,
  )
  t.same(
    body.blocks.map((block) => block.type),
    ['header', 'section', 'section', 'actions', 'context'],
  )
  t.match(JSON.stringify(body.blocks[1]), /&lt;ci&amp;co&gt;/)
  t.match(body.blocks[3], {
    elements: [{ type: 'button', url: 'https://rm.example.com/releases/42' }],
  })
  const unlinked = webhookBody('slack', approvalNeeded, null) as { blocks: Array<{ type: string }> }
  t.notOk(
    unlinked.blocks.some((block) => block.type === 'actions'),
    'no button without a link',
  )
})

t.test('teams: a MessageCard with facts and an OpenUri action', async (t) => {
  const body = webhookBody('teams', approvalNeeded, 'https://rm.example.com') as Record<
    string,
    unknown
  >
  t.match(body, {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    title: 'Approval needed: checkout 1.4.0 on ring-0',
    themeColor: 'FFB900',
    sections: [{ facts: [{ name: 'Service', value: 'checkout' }] }],
    potentialAction: [
      {
        '@type': 'OpenUri',
        targets: [{ os: 'default', uri: 'https://rm.example.com/releases/42' }],
      },
    ],
  })
})

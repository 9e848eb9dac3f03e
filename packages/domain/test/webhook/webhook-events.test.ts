import t from 'tap'
import { auditActions } from '../../src/audit-actions.js'
import {
  assertWebhookEvents,
  isKnownWebhookEvent,
  webhookAudienceOf,
  webhookEventNames,
  webhookEventPattern,
  webhookWants,
} from '../../src/webhook/webhook-events.js'

t.test('every audit action and deployment.requested can be subscribed to', async (t) => {
  for (const name of webhookEventNames) {
    t.ok(webhookEventPattern.test(name), `${name} fits the pattern`)
    t.ok(isKnownWebhookEvent(name), name)
  }
  t.ok(auditActions.includes('stage.awaiting_approval'))
  t.ok(auditActions.includes('halt.created'))
  t.equal(new Set(auditActions).size, auditActions.length, 'no action is listed twice')
})

t.test('assertWebhookEvents: names, kinds and * pass; the rest is named', async (t) => {
  t.doesNotThrow(() => assertWebhookEvents([]))
  t.doesNotThrow(() =>
    assertWebhookEvents(['deployment.requested', 'stage.awaiting_approval', 'release.*', '*']),
  )
  t.throws(() => assertWebhookEvents(['deployment.requested', 'Deployment', 'release.**']), {
    code: 'invalid-webhook-events',
    details: { invalid: ['Deployment', 'release.**'] },
  })
  t.throws(() => assertWebhookEvents(['halt.created', 'release.shipped', 'rocket.*']), {
    code: 'unknown-webhook-events',
    details: { unknown: ['release.shipped', 'rocket.*'] },
  })
})

t.test('webhookWants', async (t) => {
  const cases: [events: string[], event: string, wanted: boolean][] = [
    [[], 'halt.created', true],
    [['*'], 'stage.awaiting_approval', true],
    [['release.*'], 'release.halted', true],
    [['release.*'], 'stage.awaiting_approval', false],
    [['halt.created'], 'halt.created', true],
    [['halt.created'], 'halt.lifted', false],
    [['deployment.requested'], 'deployment.started', false],
  ]
  for (const [events, event, wanted] of cases) {
    t.equal(webhookWants(events, event), wanted, `${JSON.stringify(events)} ${event}`)
  }
})

t.test('webhookAudienceOf: which service hears an audit action', async (t) => {
  t.same(webhookAudienceOf('stage.awaiting_approval', 'release:7:ring-0', {}), {
    kind: 'release',
    releaseId: 7,
    ring: 'ring-0',
  })
  t.same(webhookAudienceOf('release.halted', 'release:7', { ring: 'ring-1' }), {
    kind: 'release',
    releaseId: 7,
    ring: 'ring-1',
  })
  t.same(webhookAudienceOf('deployment.started', 'release:7:ring-0:su-1', {}), {
    kind: 'release',
    releaseId: 7,
    ring: 'ring-0',
  })
  t.same(webhookAudienceOf('incident.resolved', 'incident:3', {}), {
    kind: 'incident',
    incidentId: 3,
  })
  t.same(webhookAudienceOf('halt.created', 'halt:2', { scope: 'service', target: 'checkout' }), {
    kind: 'service',
    service: 'checkout',
  })
  t.same(webhookAudienceOf('halt.created', 'halt:2', { scope: 'global', target: null }), {
    kind: 'every-service',
  })
  t.same(webhookAudienceOf('halt.lifted', 'halt:2', { scope: 'ring', target: 'ring-0' }), {
    kind: 'every-service',
  })
  t.same(webhookAudienceOf('flag.updated', 'flag:new-checkout', {}), { kind: 'none' })
  t.same(webhookAudienceOf('ring.created', 'ring:ring-0', {}), { kind: 'none' })
})

import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import {
  createRelease,
  createTopology,
  expectStatus,
  runExecutor,
} from '../helpers/release-fixtures.js'
import {
  createWebhook,
  listDeliveries,
  loadDocumentedVerifier,
  startReceiver,
} from '../helpers/webhook-fixtures.js'

async function createService(api: TestApp): Promise<string> {
  const name = uniqueName('svc')
  await expectStatus(api.request({ method: 'POST', url: '/v1/services', body: { name } }), 201)
  return name
}

async function startRelease(api: TestApp, service: string, version = '2.0.0'): Promise<number> {
  const pipeline = await api.tokenFor('pipeline')
  const created = await createRelease(api, pipeline, { service, version })
  await api.settle()
  return created.body.id as number
}

t.test('the secret is shown once, at creation, and never again', async (t) => {
  const api = await build(t)
  const service = await createService(api)
  const created = await api.request({
    method: 'POST',
    url: '/v1/webhooks',
    body: { service, url: 'https://executor.example/hook', events: ['deployment.requested'] },
  })
  t.equal(created.status, 201)
  t.equal(created.headers['cache-control'], 'no-store')
  t.equal(created.headers.location, `/v1/webhooks/${created.body.webhook.id}`)
  const secret = created.body.secret as string
  t.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/, '256 random bits')
  t.match(created.body.webhook, {
    service,
    url: 'https://executor.example/hook',
    events: ['deployment.requested'],
    secretPrefix: secret.slice(0, 10),
    disabledAt: null,
  })
  t.notOk('secret' in created.body.webhook)

  const sre = await api.tokenFor('sre')
  const id = created.body.webhook.id as number
  const reads = [
    await api.request({ method: 'GET', url: '/v1/webhooks', token: sre }),
    await api.request({ method: 'GET', url: `/v1/webhooks?service=${service}`, token: sre }),
    await api.request({ method: 'GET', url: `/v1/webhooks/${id}`, token: sre }),
    await api.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries`, token: sre }),
    await api.request({ method: 'GET', url: '/v1/events?limit=500' }),
  ]
  for (const read of reads) {
    t.equal(read.status, 200)
    t.notOk(JSON.stringify(read.body).includes(secret.slice(10)), 'no secret in any read')
  }
  t.strictSame(reads[1]!.body.webhooks, [created.body.webhook])
  t.strictSame(reads[2]!.body, created.body.webhook)
  t.strictSame(
    (await api.request({ method: 'GET', url: '/v1/webhooks?service=no-such-service' })).body,
    { webhooks: [] },
  )

  const audit = reads[4]!.body.events.find(
    (event: { action: string }) => event.action === 'webhook.created',
  )
  t.match(audit, { subject: `webhook:${id}`, data: { after: { id, service } } })

  const again = await api.request({
    method: 'POST',
    url: '/v1/webhooks',
    headers: { 'idempotency-key': 'create-hook-1' },
    body: { service, url: 'https://executor.example/other' },
  })
  t.equal(again.status, 201)
  const replay = await api.request({
    method: 'POST',
    url: '/v1/webhooks',
    headers: { 'idempotency-key': 'create-hook-1' },
    body: { service, url: 'https://executor.example/other' },
  })
  t.equal(replay.status, 409, 'a retry is not shown the secret again')
  t.match(replay.body, {
    type: '/problems/webhook-already-created',
    webhookId: again.body.webhook.id,
  })
})

t.test('creating a webhook refuses what cannot work', async (t) => {
  const api = await build(t)
  const service = await createService(api)
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'unknown service',
      { service: 'no-such-service', url: 'https://x.example/' },
      'unknown-service',
    ],
    ['not http(s)', { service, url: 'ftp://x.example/hook' }, 'invalid-webhook-url'],
    ['not a URL', { service, url: 'x.example/hook' }, 'invalid-webhook-url'],
    ['credentials', { service, url: 'https://me:pw@x.example/' }, 'invalid-webhook-url'],
    ['bad event', { service, url: 'https://x.example/', events: ['Deploy!'] }, 'validation-failed'],
    [
      'unknown event',
      {
        service,
        url: 'https://x.example/',
        events: ['halt.created', 'release.shipped', 'rocket.*'],
      },
      'unknown-webhook-events',
    ],
    ['unknown format', { service, url: 'https://x.example/', format: 'irc' }, 'validation-failed'],
    ['unknown field', { service, url: 'https://x.example/', secret: 'mine' }, 'validation-failed'],
  ]
  for (const [label, body, type] of cases) {
    const response = await api.request({ method: 'POST', url: '/v1/webhooks', body })
    t.equal(response.status, 400, label)
    t.equal(response.body.type, `/problems/${type}`, label)
  }
  t.match(
    (await api.request({ method: 'POST', url: '/v1/webhooks', body: cases[0]![1] })).body.detail,
    "service 'no-such-service' does not exist",
  )
  const unknown = await api.request({ method: 'POST', url: '/v1/webhooks', body: cases[5]![1] })
  t.match(unknown.body, {
    detail: /release\.shipped, rocket\.\*/,
    unknown: ['release.shipped', 'rocket.*'],
  })
  t.equal((await api.request({ method: 'GET', url: '/v1/webhooks/999999' })).status, 404)
  t.equal((await api.request({ method: 'DELETE', url: '/v1/webhooks/999999' })).status, 404)
  t.equal((await api.request({ method: 'GET', url: '/v1/webhooks/999999/deliveries' })).status, 404)
  t.strictSame((await api.request({ method: 'GET', url: '/v1/webhooks' })).body, { webhooks: [] })
})

t.test('a release sends one signed delivery per deployment to its service only', async (t) => {
  const api = await build(t, { webhookIntervalMs: 20 })
  const verify = await loadDocumentedVerifier(t)
  const receiver = await startReceiver(t)
  const bystander = await startReceiver(t)
  const topology = await createTopology(api, [{ policy: { maxParallel: 3 }, scaleUnits: 3 }])
  const hook = await createWebhook(api, {
    service: topology.service,
    url: receiver.url,
    events: ['deployment.requested'],
  })
  const neighbour = await createService(api)
  const other = await createWebhook(api, { service: neighbour, url: bystander.url })

  const releaseId = await startRelease(api, topology.service)
  const received = await receiver.waitFor(3)
  await api.app.webhookSender.settle()

  const bodies = received.map((delivery) => JSON.parse(delivery.body))
  t.strictSame(
    bodies.map((body) => body.payload.deployment.scaleUnit).sort(),
    topology.scaleUnits[0],
    'one delivery per deployment',
  )
  for (const [index, delivery] of received.entries()) {
    const body = bodies[index]
    t.ok(verify(hook.secret, delivery.headers, delivery.body), 'the documented recipe verifies it')
    t.notOk(verify(other.secret, delivery.headers, delivery.body), 'another secret does not')
    t.notOk(
      verify(hook.secret, delivery.headers, delivery.body.replace('2.0.0', '6.6.6')),
      'a changed body does not',
    )
    t.match(delivery.headers, {
      'content-type': 'application/json',
      'user-agent': 'ringmaster-webhooks/1',
      'x-ringmaster-event': 'deployment.requested',
      'x-ringmaster-delivery': String(body.id),
      'x-ringmaster-timestamp': /^\d{10}$/,
      'x-ringmaster-signature': /^sha256=[0-9a-f]{64}$/,
    })
    t.match(body, {
      event: 'deployment.requested',
      payload: {
        deployment: { releaseId, service: topology.service, version: '2.0.0', state: 'pending' },
      },
    })
    t.notOk(Number.isNaN(Date.parse(body.createdAt)))
  }

  const log = await listDeliveries(api, hook.id)
  t.equal(log.length, 3)
  for (const delivery of log) {
    t.match(delivery, { state: 'delivered', attempts: 1, lastStatus: 200, lastError: null })
    t.type(delivery.deliveredAt, 'string')
  }
  t.strictSame(
    log.map((d) => d.id).sort(),
    bodies.map((body) => body.id).sort(),
    'the log lists what was sent',
  )
  t.strictSame(await listDeliveries(api, other.id), [], "another service's webhook gets nothing")
  t.equal(bystander.received.length, 0)
})

t.test('the events filter decides which events a webhook receives', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const wanted = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/a',
    events: ['deployment.requested'],
  })
  const unwanted = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/b',
    events: ['release.succeeded'],
  })
  const everything = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/c',
  })
  t.strictSame(everything.webhook.events, [], 'no filter is every event')
  await startRelease(api, topology.service)
  t.match(await listDeliveries(api, wanted.id), [
    { event: 'deployment.requested', state: 'pending' },
  ])
  t.strictSame(await listDeliveries(api, unwanted.id), [])
  const all = (await listDeliveries(api, everything.id)).map((d) => d.event)
  for (const event of ['release.created', 'release.started', 'stage.deploying', 'wave.started']) {
    t.ok(all.includes(event), `every event: ${event} (an audit action)`)
  }
  t.ok(all.includes('deployment.requested'), 'every event: deployment.requested (executor work)')
})

t.test('a disabled webhook gets nothing new and its pending deliveries fail', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const hook = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/hook',
    events: ['deployment.requested'],
  })
  const control = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/control',
    events: ['deployment.requested'],
  })
  await startRelease(api, topology.service)
  t.match(await listDeliveries(api, hook.id), [{ state: 'pending' }])

  const sre = await api.tokenFor('sre')
  const refused = await api.request({
    method: 'DELETE',
    url: `/v1/webhooks/${hook.id}`,
    token: sre,
  })
  t.equal(refused.status, 403, 'only an admin disables')
  const disabled = await api.request({ method: 'DELETE', url: `/v1/webhooks/${hook.id}` })
  t.equal(disabled.status, 200)
  t.match(disabled.body, { id: hook.id, service: topology.service, disabledAt: /^\d{4}-/ })
  const twice = await api.request({ method: 'DELETE', url: `/v1/webhooks/${hook.id}` })
  t.strictSame(twice.body, disabled.body, 'disabling twice is harmless')

  const [failed] = await listDeliveries(api, hook.id)
  t.match(failed, { state: 'failed', lastError: /disabled/, nextAttemptAt: null })
  const redeliver = await api.request({
    method: 'POST',
    url: `/v1/webhook-deliveries/${failed!.id}/redeliver`,
    token: sre,
  })
  t.equal(redeliver.status, 409)
  t.equal(redeliver.body.type, '/problems/webhook-disabled')

  // A failed deployment retried is requested again: the enabled webhook hears of it, not this one.
  const pipeline = await api.tokenFor('pipeline')
  const [unit] = topology.scaleUnits[0]!
  const [deploymentId] = await runExecutor(api, pipeline, [unit!], [unit!])
  await expectStatus(
    api.request({ method: 'POST', url: `/v1/deployments/${deploymentId}/retry`, token: sre }),
    200,
  )
  t.equal((await listDeliveries(api, hook.id)).length, 1, 'nothing new after disabling')
  t.match(await listDeliveries(api, control.id), [
    { event: 'deployment.requested', payload: { deployment: { id: deploymentId, attempt: 2 } } },
    { event: 'deployment.requested', payload: { deployment: { id: deploymentId, attempt: 1 } } },
  ])

  const events = (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
  t.match(
    events.filter((e: { action: string }) => e.action === 'webhook.disabled'),
    [{ subject: `webhook:${hook.id}`, data: { after: { disabledAt: disabled.body.disabledAt } } }],
    'audited once',
  )
})

t.test(
  'any audit action, kinds and *: what each webhook hears, with release context and a link',
  async (t) => {
    const api = await build(t, {
      webhookIntervalMs: 20,
      consoleUrl: 'https://rm.example.com/console/',
    })
    const receiver = await startReceiver(t)
    const approval = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const
    const topology = await createTopology(api, [
      { policy: { preApproval: approval }, scaleUnits: 1 },
    ])
    const releases = await createWebhook(api, {
      service: topology.service,
      url: receiver.url,
      events: ['release.*', 'stage.awaiting_approval'],
    })
    t.strictSame(releases.webhook.events, ['release.*', 'stage.awaiting_approval'])
    t.equal(releases.webhook.format, 'json', 'json unless asked')
    const halts = await createWebhook(api, {
      service: topology.service,
      url: 'https://chat.example/halts',
      events: ['halt.created'],
    })
    const neighbour = await createService(api)
    const everything = await createWebhook(api, {
      service: neighbour,
      url: 'https://chat.example/neighbour',
      events: ['*'],
    })

    const pipeline = await api.tokenFor('pipeline', 'ci-bot')
    const releaseId = (
      await createRelease(api, pipeline, { service: topology.service, version: '3.1.0' })
    ).body.id as number
    await api.settle()
    await receiver.waitFor(3)
    await api.app.webhookSender.settle()
    const bodies = receiver.received.map((delivery) => JSON.parse(delivery.body))
    t.strictSame(
      bodies.map((body) => body.event).sort(),
      ['release.created', 'release.started', 'stage.awaiting_approval'],
      'the kind and the one action, nothing else',
    )
    const waiting = bodies.find((body) => body.event === 'stage.awaiting_approval')
    t.match(waiting, {
      payload: {
        service: topology.service,
        releaseId,
        version: '3.1.0',
        requester: 'ci-bot',
        ring: topology.rings[0],
        actor: 'system',
        subject: `release:${releaseId}:${topology.rings[0]}`,
        link: `https://rm.example.com/console/releases/${releaseId}`,
      },
    })
    t.equal(
      receiver.received.find((d) => d.headers['x-ringmaster-event'] === 'stage.awaiting_approval')
        ?.headers['content-type'],
      'application/json',
    )
    t.strictSame(await listDeliveries(api, halts.id), [], 'no halt yet')
    t.strictSame(await listDeliveries(api, everything.id), [], "another service's release: nothing")

    // A halt of the whole line is every service's business; a service halt only that service's.
    const lead = await api.tokenFor('approver', 'jane')
    const global = await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/halts',
        token: lead,
        body: { scope: 'global', reason: 'db alarms' },
      }),
      201,
    )
    await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/halts',
        token: lead,
        body: { scope: 'service', target: topology.service, reason: 'bad config' },
      }),
      201,
    )
    const heard = await listDeliveries(api, halts.id)
    t.match(heard, [
      {
        event: 'halt.created',
        payload: { service: topology.service, data: { reason: 'bad config' } },
      },
      {
        event: 'halt.created',
        payload: {
          service: null,
          haltId: global.body.id,
          actor: 'jane',
          data: { scope: 'global' },
        },
      },
    ])
    t.match(await listDeliveries(api, everything.id), [
      { event: 'halt.created', payload: { haltId: global.body.id } },
    ])
  },
)

t.test('slack and teams webhooks get chat messages, signed like every delivery', async (t) => {
  const api = await build(t, { webhookIntervalMs: 20, consoleUrl: 'https://rm.example.com' })
  const verify = await loadDocumentedVerifier(t)
  const slackReceiver = await startReceiver(t)
  const teamsReceiver = await startReceiver(t)
  const approval = { role: 'approver', minApprovals: 1, ttlHours: 24 } as const
  const topology = await createTopology(api, [{ policy: { preApproval: approval }, scaleUnits: 1 }])
  const events = ['stage.awaiting_approval', 'halt.created', 'release.halted', 'incident.created']
  const slack = await createWebhook(api, {
    service: topology.service,
    url: slackReceiver.url,
    events,
    format: 'slack',
  })
  const teams = await createWebhook(api, {
    service: topology.service,
    url: teamsReceiver.url,
    events,
    format: 'teams',
  })
  t.equal(slack.webhook.format, 'slack')
  t.equal(teams.webhook.format, 'teams')

  const pipeline = await api.tokenFor('pipeline', 'ci-bot')
  const releaseId = (
    await createRelease(api, pipeline, { service: topology.service, version: '4.0.0' })
  ).body.id as number
  await api.settle()
  const sre = await api.tokenFor('sre', 'sam')
  await expectStatus(
    api.request({
      method: 'POST',
      url: `/v1/releases/${releaseId}/halt`,
      token: sre,
      body: { reason: 'error budget' },
    }),
    200,
  )
  await expectStatus(
    api.request({
      method: 'POST',
      url: '/v1/incidents',
      token: sre,
      body: { service: topology.service, severity: 'sev2', title: 'checkout 500s', halt: true },
    }),
    201,
  )
  await slackReceiver.waitFor(4)
  await teamsReceiver.waitFor(4)
  await api.app.webhookSender.settle()

  const slackBodies = new Map(
    slackReceiver.received.map((d) => [d.headers['x-ringmaster-event'], JSON.parse(d.body)]),
  )
  for (const delivery of slackReceiver.received) {
    t.ok(verify(slack.secret, delivery.headers, delivery.body), 'signed like any webhook')
    t.equal(delivery.headers['content-type'], 'application/json')
  }
  t.match(slackBodies.get('stage.awaiting_approval'), {
    text: `Approval needed: ${topology.service} 4.0.0 on ${topology.rings[0]}: ${topology.service} 4.0.0 waits for approval to go into ${topology.rings[0]}; requested by ci-bot, who cannot approve it. https://rm.example.com/releases/${releaseId}`,
    blocks: [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: `Approval needed: ${topology.service} 4.0.0 on ${topology.rings[0]}`,
        },
      },
      { type: 'section' },
      { type: 'section', fields: [{ type: 'mrkdwn', text: `*Service*\n${topology.service}` }] },
      {
        type: 'actions',
        elements: [{ type: 'button', url: `https://rm.example.com/releases/${releaseId}` }],
      },
      { type: 'context' },
    ],
  })
  t.match(slackBodies.get('release.halted'), { text: /^Release halted: .* 4\.0\.0.*error budget/ })
  t.match(slackBodies.get('halt.created'), {
    text: new RegExp(`^Line stopped for service ${topology.service}`),
  })
  t.match(slackBodies.get('incident.created'), {
    text: /^Incident declared \(sev2\): checkout 500s/,
    blocks: [
      {},
      {},
      {},
      { type: 'actions', elements: [{ url: /^https:\/\/rm\.example\.com\/incidents\/\d+$/ }] },
    ],
  })

  const teamsBodies = new Map(
    teamsReceiver.received.map((d) => [d.headers['x-ringmaster-event'], JSON.parse(d.body)]),
  )
  for (const delivery of teamsReceiver.received) {
    t.ok(verify(teams.secret, delivery.headers, delivery.body), 'signed like any webhook')
    t.notOk(verify(slack.secret, delivery.headers, delivery.body), 'with its own secret')
  }
  t.match(teamsBodies.get('stage.awaiting_approval'), {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    title: `Approval needed: ${topology.service} 4.0.0 on ${topology.rings[0]}`,
    potentialAction: [
      { '@type': 'OpenUri', targets: [{ uri: `https://rm.example.com/releases/${releaseId}` }] },
    ],
  })
  t.match(teamsBodies.get('incident.created'), {
    title: /^Incident declared/,
    themeColor: 'D13438',
  })
  t.match(await listDeliveries(api, slack.id), [
    { state: 'delivered' },
    { state: 'delivered' },
    { state: 'delivered' },
    { state: 'delivered' },
  ])
})

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
  const hook = await createWebhook(api, { service: topology.service, url: receiver.url })
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
  t.match(await listDeliveries(api, everything.id), [{ event: 'deployment.requested' }])
})

t.test('a disabled webhook gets nothing new and its pending deliveries fail', async (t) => {
  const api = await build(t)
  const topology = await createTopology(api, [{ scaleUnits: 1 }])
  const hook = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/hook',
  })
  const control = await createWebhook(api, {
    service: topology.service,
    url: 'https://executor.example/control',
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

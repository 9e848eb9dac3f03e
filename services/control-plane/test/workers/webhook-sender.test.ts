import { createServer } from 'node:net'
import { WebhookDispatcher, type WebhookRetryPolicy } from '@ringmaster/domain'
import t, { type Test } from 'tap'
import { WebhookSender, type WebhookSenderSettings } from '../../src/workers/webhook-sender.js'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { expectStatus, ManualClock } from '../helpers/release-fixtures.js'
import {
  createWebhook,
  listDeliveries,
  loadDocumentedVerifier,
  type Receiver,
  startReceiver,
} from '../helpers/webhook-fixtures.js'

/**
 * Deliveries are stamped with the database's clock when they are queued, so the sender's clock
 * starts a little after the real now and is then moved by hand.
 */
function steppingClock(): ManualClock {
  return new ManualClock(new Date(Date.now() + 1_000).toISOString())
}

/** The app with its own sender timer off, and a log the test can read. */
async function buildQuiet(t: Test): Promise<{ api: TestApp; logLines: string[] }> {
  const logLines: string[] = []
  const api = await build(t, {
    logging: { level: 'debug', stream: { write: (line) => void logLines.push(line) } },
  })
  return { api, logLines }
}

/** A sender of its own on the app's store, stopped when the test ends. */
function senderFor(
  t: Test,
  api: TestApp,
  retry: Partial<WebhookRetryPolicy> = {},
  settings: WebhookSenderSettings = {},
  random = () => 0.5,
): WebhookSender {
  const sender = new WebhookSender(
    new WebhookDispatcher(api.app.store, retry, random),
    api.app.log,
    settings,
  )
  t.teardown(() => sender.stop())
  return sender
}

/** A service with one webhook to `receiver` and `count` queued deliveries for it. */
async function queued(api: TestApp, receiver: Pick<Receiver, 'url'>, count = 1) {
  const service = uniqueName('svc')
  await expectStatus(
    api.request({ method: 'POST', url: '/v1/services', body: { name: service } }),
    201,
  )
  const hook = await createWebhook(api, { service, url: receiver.url })
  await api.app.store.transaction(async (tx) => {
    for (let n = 1; n <= count; n += 1) {
      await tx.webhookOutbox.enqueue(service, 'deployment.requested', { deployment: { id: n } })
    }
  })
  return { service, hook }
}

t.test('500 twice then 200: three attempts with growing gaps, all in the log', async (t) => {
  const { api, logLines } = await buildQuiet(t)
  const clock = steppingClock()
  const receiver = await startReceiver(t, (n) => (n <= 2 ? 500 : 200))
  const verify = await loadDocumentedVerifier(t)
  const { hook } = await queued(api, receiver)
  const sender = senderFor(t, api, {}, { clock })

  t.equal(await sender.runOnce(), 1, 'first attempt')
  let [delivery] = await listDeliveries(api, hook.id)
  t.match(delivery, {
    state: 'pending',
    attempts: 1,
    lastStatus: 500,
    lastError: 'the receiver answered 500',
    // 5 s after the first failure (jitter fixed at its middle).
    nextAttemptAt: new Date(clock.now().getTime() + 5_000).toISOString(),
  })

  clock.advanceSeconds(4.9)
  t.equal(await sender.runOnce(), 0, 'not due before its backoff')
  clock.advanceSeconds(0.1)
  t.equal(await sender.runOnce(), 1, 'second attempt after 5 s')
  ;[delivery] = await listDeliveries(api, hook.id)
  t.match(delivery, { state: 'pending', attempts: 2, lastStatus: 500 })
  t.equal(delivery!.nextAttemptAt, new Date(clock.now().getTime() + 10_000).toISOString())

  clock.advanceSeconds(9.9)
  t.equal(await sender.runOnce(), 0, 'the second wait is longer')
  clock.advanceSeconds(0.1)
  t.equal(await sender.runOnce(), 1, 'third attempt after 10 s more')
  ;[delivery] = await listDeliveries(api, hook.id)
  t.match(delivery, {
    state: 'delivered',
    attempts: 3,
    lastStatus: 200,
    lastError: null,
    nextAttemptAt: null,
    deliveredAt: clock.now().toISOString(),
  })

  const attempts = receiver.received
  t.strictSame(
    attempts.map((a) => a.headers['x-ringmaster-delivery']),
    [String(delivery!.id), String(delivery!.id), String(delivery!.id)],
    'the same delivery id on every attempt',
  )
  const stamps = attempts.map((a) => Number(a.headers['x-ringmaster-timestamp']))
  t.strictSame([stamps[1]! - stamps[0]!, stamps[2]! - stamps[1]!], [5, 10], 'gaps grow: 5 s, 10 s')
  for (const attempt of attempts) {
    t.ok(
      verify(hook.secret, attempt.headers, attempt.body, clock.now().getTime()),
      'every attempt is signed',
    )
  }
  t.notOk(
    verify(hook.secret, attempts[0]!.headers, attempts[0]!.body, clock.now().getTime() + 600_000),
    'an old signature is refused by the documented recipe',
  )
  t.notOk(logLines.join('\n').includes(hook.secret.slice(10)), 'the secret is never logged')
  t.ok(
    logLines.some((line) => line.includes('webhook delivery failed; will retry')),
    'failures are logged',
  )
})

t.test('with the real timer and a tiny base delay, the gaps grow too', async (t) => {
  const { api } = await buildQuiet(t)
  const receiver = await startReceiver(t, (n) => (n <= 2 ? 500 : 204))
  const { hook } = await queued(api, receiver)
  const sender = senderFor(t, api, { baseDelayMs: 150 })
  sender.start(10)
  const [first, second, third] = await receiver.waitFor(3)
  await sender.stop()
  const gaps = [second!.at - first!.at, third!.at - second!.at]
  t.ok(gaps[0]! >= 145, `first gap ${Math.round(gaps[0]!)} ms, after a 150 ms backoff`)
  // Lower bounds only: a busy machine can stretch a gap, never shorten one.
  t.ok(gaps[1]! >= 295, `second gap ${Math.round(gaps[1]!)} ms, after a 300 ms backoff`)
  t.match(await listDeliveries(api, hook.id), [
    { state: 'delivered', attempts: 3, lastStatus: 204 },
  ])
})

t.test('after the last attempt it is failed; redeliver queues it again', async (t) => {
  const { api } = await buildQuiet(t)
  const clock = steppingClock()
  let healthy = false
  const receiver = await startReceiver(t, () => (healthy ? 200 : 503))
  const { hook } = await queued(api, receiver)
  const sender = senderFor(t, api, {}, { clock })

  for (let attempt = 1; attempt <= 8; attempt += 1) {
    t.equal(await sender.runOnce(), 1, `attempt ${attempt}`)
    clock.advanceSeconds(15 * 60)
  }
  let [delivery] = await listDeliveries(api, hook.id)
  t.match(delivery, { state: 'failed', attempts: 8, lastStatus: 503, nextAttemptAt: null })
  t.equal(await sender.runOnce(), 0, 'given up: not sent again')
  t.equal(receiver.received.length, 8)

  const sre = await api.tokenFor('sre')
  const viewer = await api.tokenFor('viewer')
  const url = `/v1/webhook-deliveries/${delivery!.id}/redeliver`
  t.equal((await api.request({ method: 'POST', url, token: viewer })).status, 403)
  const redelivered = await api.request({ method: 'POST', url, token: sre })
  t.equal(redelivered.status, 200)
  t.match(redelivered.body, {
    id: delivery!.id,
    state: 'pending',
    attempts: 0,
    lastStatus: 503,
    nextAttemptAt: /^\d{4}-/,
  })

  healthy = true
  // Requeued at the real now, which the stepping clock is already past.
  t.equal(await sender.runOnce(), 1, 'sent again')
  ;[delivery] = await listDeliveries(api, hook.id)
  t.match(delivery, { state: 'delivered', attempts: 1, lastStatus: 200 })

  const again = await api.request({ method: 'POST', url, token: sre })
  t.equal(again.status, 409)
  t.equal(again.body.type, '/problems/delivery-not-failed')
  const missing = await api.request({
    method: 'POST',
    url: '/v1/webhook-deliveries/999999/redeliver',
    token: sre,
  })
  t.equal(missing.status, 404)
  t.equal(missing.body.type, '/problems/delivery-not-found')

  const events = (await api.request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
  t.match(
    events.filter((e: { action: string }) => e.action === 'webhook.delivery-requeued'),
    [{ subject: `webhook:${hook.id}`, data: { deliveryId: delivery!.id, previousAttempts: 8 } }],
  )
})

t.test('no answer, or no listener: a failed attempt without a status', async (t) => {
  const { api, logLines } = await buildQuiet(t)
  const clock = steppingClock()
  const silent = await startReceiver(t, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    return 200
  })
  const slow = await queued(api, silent)
  // A port that was free a moment ago: nothing listens there.
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const refused = await queued(api, { url: `http://127.0.0.1:${closedPort}/hook` })
  const sender = senderFor(t, api, {}, { clock, timeoutMs: 200 })

  t.equal(await sender.runOnce(), 2)
  t.match(await listDeliveries(api, slow.hook.id), [
    { state: 'pending', attempts: 1, lastStatus: null, lastError: 'no answer within 0.2 s' },
  ])
  t.match(await listDeliveries(api, refused.hook.id), [
    { state: 'pending', attempts: 1, lastStatus: null, lastError: /fetch failed: .*ECONNREFUSED/ },
  ])
  const log = logLines.join('\n')
  t.notOk(log.includes(slow.hook.secret.slice(10)) || log.includes(refused.hook.secret.slice(10)))
})

t.test('two senders on one database never send a delivery twice', async (t) => {
  const { api } = await buildQuiet(t)
  const receiver = await startReceiver(t)
  await queued(api, receiver, 40)
  const senders = [senderFor(t, api, {}, { batchSize: 7 }), senderFor(t, api, {}, { batchSize: 7 })]
  await Promise.all([...senders.map((s) => s.tick()), ...senders.map((s) => s.tick())])
  await Promise.all(senders.map((s) => s.settle()))
  const ids = receiver.received.map((r) => r.headers['x-ringmaster-delivery'])
  t.equal(ids.length, 40, 'every delivery sent')
  t.equal(new Set(ids).size, 40, 'none of them twice')
})

t.test('stop waits for the sends under way, then sends nothing more', async (t) => {
  const { api } = await buildQuiet(t)
  let arrived = 0
  const receiver = await startReceiver(t, async () => {
    arrived += 1
    await new Promise((resolve) => setTimeout(resolve, 200))
    return 200
  })
  const { hook } = await queued(api, receiver, 2)
  const sender = senderFor(t, api)
  sender.start(5)
  while (arrived === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  await sender.stop()
  t.match(
    await listDeliveries(api, hook.id),
    [{ state: 'delivered' }, { state: 'delivered' }],
    'the sends under way were finished and recorded',
  )
  await queued(api, receiver, 1)
  t.equal(await sender.runOnce(), 0, 'a stopped sender sends nothing')
})

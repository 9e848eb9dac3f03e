import { setTimeout as delay } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { build, uniqueName } from '../helpers/build.js'

// inject buffers a response until it ends, and an event stream does not end: these tests listen
// on a real port and read the stream with fetch.

interface ServerSentMessage {
  id?: string
  event?: string
  data?: string
  retry?: string
  comments: string[]
}

interface AuditEventBody {
  id: number
  action: string
  subject: string
  actor: string
  at: string
  data: Record<string, unknown>
  requestId: string | null
}

/** Reads one text/event-stream body a message (a block ended by a blank line) at a time. */
class EventStreamReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private buffer = ''
  private pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined

  constructor(response: Response) {
    this.reader = response.body!.getReader()
  }

  /** The next message, or undefined when the server ended the stream. */
  async next(timeoutMs = 5000): Promise<ServerSentMessage | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const end = this.buffer.indexOf('\n\n')
      if (end !== -1) {
        const block = this.buffer.slice(0, end)
        this.buffer = this.buffer.slice(end + 2)
        return parseBlock(block)
      }
      this.pending ??= this.reader.read()
      let timer: NodeJS.Timeout | undefined
      const chunk = await Promise.race([
        this.pending,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))
        }),
      ])
      clearTimeout(timer)
      if (chunk === 'timeout') throw new Error(`no complete message within ${timeoutMs} ms`)
      this.pending = undefined
      if (chunk.done) return undefined
      this.buffer += this.decoder.decode(chunk.value, { stream: true })
    }
  }

  /** The next message that is an event, skipping comments (heartbeats). */
  async nextEvent(timeoutMs = 5000): Promise<AuditEventBody & { sse: ServerSentMessage }> {
    for (;;) {
      const message = await this.next(timeoutMs)
      if (message === undefined) throw new Error('the stream ended')
      if (message.data !== undefined) return { ...JSON.parse(message.data), sse: message }
    }
  }

  /** Events until (and including) the first one `isLast` accepts. */
  async eventsUntil(isLast: (event: AuditEventBody) => boolean): Promise<AuditEventBody[]> {
    const events: AuditEventBody[] = []
    for (;;) {
      const { sse, ...event } = await this.nextEvent()
      events.push(event)
      if (isLast(event)) return events
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {})
  }
}

function parseBlock(block: string): ServerSentMessage {
  const message: ServerSentMessage = { comments: [] }
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      message.comments.push(line.slice(1).trim())
      continue
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'data')
      message.data = message.data === undefined ? value : `${message.data}\n${value}`
    else if (field === 'id' || field === 'event' || field === 'retry') message[field] = value
  }
  return message
}

interface ProblemBody {
  type: string
  detail: string
  instance: string
  errors?: { path: string }[]
}

async function problemOf(response: Response): Promise<ProblemBody> {
  return (await response.json()) as ProblemBody
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' })
}

async function connect(
  t: Test,
  url: string,
  token: string | null,
  headers: Record<string, string> = {},
): Promise<{ response: Response; reader: EventStreamReader }> {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    signal: controller.signal,
  })
  const reader = new EventStreamReader(response)
  t.teardown(async () => {
    await reader.cancel()
    controller.abort()
  })
  return { response, reader }
}

const aStreamOpens = (message: ServerSentMessage | undefined) =>
  message?.retry === '2000' && message.data === undefined

t.test('changes made after connecting arrive in order, as GET /v1/events has them', async (t) => {
  const { app, request, adminToken } = await build(t)
  const base = await listen(app)
  const before = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body.nextAfter

  const { response, reader } = await connect(t, `${base}/v1/events/stream`, adminToken, {
    'x-request-id': 'watch-rollout-1',
  })
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  t.equal(response.headers.get('cache-control'), 'no-cache')
  t.equal(response.headers.get('x-accel-buffering'), 'no')
  t.equal(response.headers.get('x-request-id'), 'watch-rollout-1')
  t.ok(aStreamOpens(await reader.next()), 'the stream opens with retry: 2000')

  const service = uniqueName('svc')
  const ring = uniqueName('ring')
  t.equal(
    (await request({ method: 'POST', url: '/v1/services', body: { name: service } })).status,
    201,
  )
  t.equal(
    (await request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 7 } })).status,
    201,
  )

  const first = await reader.nextEvent()
  const second = await reader.nextEvent()
  const stored = (await request({ method: 'GET', url: `/v1/events?after=${before}` })).body
  t.equal(stored.events.length, 2, 'exactly the two changes were recorded')

  t.equal(first.sse.event, 'service.created')
  t.equal(first.sse.id, String(stored.events[0].id))
  const { sse: _first, ...firstEvent } = first
  t.same(firstEvent, stored.events[0], 'the data is the audit event as GET /v1/events has it')
  t.match(firstEvent, { action: 'service.created', subject: `service:${service}` })
  t.equal((firstEvent.data.after as { name: string }).name, service)

  t.equal(second.sse.event, 'ring.created')
  t.equal(second.sse.id, String(stored.events[1].id))
  const { sse: _second, ...secondEvent } = second
  t.same(secondEvent, stored.events[1])
  t.match(secondEvent, { action: 'ring.created', subject: `ring:${ring}` })
  t.ok(second.id > first.id, 'ids increase')
})

t.test('Last-Event-ID resumes strictly after that event and wins over after', async (t) => {
  const { app, request, adminToken } = await build(t)
  const base = await listen(app)
  const names = [uniqueName('svc'), uniqueName('svc'), uniqueName('svc')]
  for (const name of names) {
    await request({ method: 'POST', url: '/v1/services', body: { name } })
  }
  const created = (await request({ method: 'GET', url: '/v1/events?limit=500' })).body.events
    .filter((event: AuditEventBody) => event.action === 'service.created')
    .slice(-3) as AuditEventBody[]
  t.same(
    created.map((event) => event.subject),
    names.map((name) => `service:${name}`),
  )

  const { reader } = await connect(t, `${base}/v1/events/stream?after=0`, adminToken, {
    'last-event-id': String(created[0]!.id),
  })
  t.ok(aStreamOpens(await reader.next()))
  const later = uniqueName('svc')
  await request({ method: 'POST', url: '/v1/services', body: { name: later } })

  const received = await reader.eventsUntil((event) => event.subject === `service:${later}`)
  t.same(
    received.map((event) => event.subject),
    [`service:${names[1]}`, `service:${names[2]}`, `service:${later}`],
    'the events before the connection after the resumed id, then the new one, none repeated',
  )
  t.same(received.slice(0, 2), created.slice(1))
})

t.test('subject and action filters only let matching events through', async (t) => {
  const { app, request, adminToken } = await build(t)
  const base = await listen(app)
  const watched = uniqueName('ring')
  const other = uniqueName('ring')
  const service = uniqueName('svc')

  const bySubject = await connect(t, `${base}/v1/events/stream?subject=ring:${watched}`, adminToken)
  const byAction = await connect(t, `${base}/v1/events/stream?action=ring.`, adminToken)
  const byBoth = await connect(
    t,
    `${base}/v1/events/stream?subject=ring&action=ring.updated`,
    adminToken,
  )
  for (const { reader } of [bySubject, byAction, byBoth]) t.ok(aStreamOpens(await reader.next()))

  // A ring whose name starts with the watched one must not match `ring:<watched>`.
  const lookalike = `${watched}x`
  await request({ method: 'POST', url: '/v1/rings', body: { name: other, order: 1 } })
  await request({ method: 'POST', url: '/v1/rings', body: { name: lookalike, order: 2 } })
  await request({ method: 'POST', url: '/v1/rings', body: { name: watched, order: 3 } })
  await request({ method: 'POST', url: '/v1/services', body: { name: service } })
  await request({ method: 'PATCH', url: `/v1/rings/${other}`, body: { description: 'other' } })
  const last = await request({
    method: 'PATCH',
    url: `/v1/rings/${watched}`,
    body: { description: 'watched' },
  })
  t.equal(last.status, 200)
  const isLast = (event: AuditEventBody) =>
    event.subject === `ring:${watched}` && event.action === 'ring.updated'

  const subjectEvents = await bySubject.reader.eventsUntil(isLast)
  t.same(
    subjectEvents.map((event) => [event.action, event.subject]),
    [
      ['ring.created', `ring:${watched}`],
      ['ring.updated', `ring:${watched}`],
    ],
  )
  const actionEvents = await byAction.reader.eventsUntil(isLast)
  t.same(
    actionEvents.map((event) => [event.action, event.subject]),
    [
      ['ring.created', `ring:${other}`],
      ['ring.created', `ring:${lookalike}`],
      ['ring.created', `ring:${watched}`],
      ['ring.updated', `ring:${other}`],
      ['ring.updated', `ring:${watched}`],
    ],
    'no service event',
  )
  const bothEvents = await byBoth.reader.eventsUntil(isLast)
  t.same(
    bothEvents.map((event) => [event.action, event.subject]),
    [
      ['ring.updated', `ring:${other}`],
      ['ring.updated', `ring:${watched}`],
    ],
  )
})

t.test('a missing token and a malformed Last-Event-ID are problems, not streams', async (t) => {
  const { app, adminToken } = await build(t)
  const base = await listen(app)

  const anonymous = await fetch(`${base}/v1/events/stream`)
  t.equal(anonymous.status, 401)
  t.match(anonymous.headers.get('content-type'), /^application\/problem\+json/)
  const unauthenticated = await problemOf(anonymous)
  t.equal(unauthenticated.type, '/problems/missing-token')
  t.equal(unauthenticated.instance, '/v1/events/stream')

  for (const lastEventId of ['abc', '-1', '1.5', '99999999999999999999']) {
    const response = await fetch(`${base}/v1/events/stream`, {
      headers: { authorization: `Bearer ${adminToken}`, 'last-event-id': lastEventId },
    })
    t.equal(response.status, 400, `Last-Event-ID: ${lastEventId}`)
    t.match(response.headers.get('content-type'), /^application\/problem\+json/)
    const problem = await problemOf(response)
    t.equal(problem.type, '/problems/invalid-last-event-id')
    t.match(problem.detail, 'Last-Event-ID must be')
  }

  const badQuery = await fetch(`${base}/v1/events/stream?after=-1`, {
    headers: { authorization: `Bearer ${adminToken}` },
  })
  t.equal(badQuery.status, 400)
  t.equal((await problemOf(badQuery)).errors?.[0]?.path, 'querystring/after')
})

t.test('closing the app ends open streams instead of waiting for them', async (t) => {
  const { app, adminToken, tokenFor } = await build(t)
  const base = await listen(app)
  const viewer = await tokenFor('viewer')
  const streams = [
    await connect(t, `${base}/v1/events/stream`, adminToken),
    await connect(t, `${base}/v1/events/stream?after=0`, viewer),
  ]
  for (const { reader } of streams) t.ok(aStreamOpens(await reader.next()))

  // Open streams never end by themselves: were they waited for, close would not settle.
  const gaveUp = new AbortController()
  const closed = await Promise.race([
    app.close().then(() => true),
    delay(30_000, false, { signal: gaveUp.signal }),
  ])
  gaveUp.abort()
  t.ok(closed, 'the app closed with the streams open')
  for (const { reader } of streams) {
    // The second stream started at 0, so it may still deliver the events made at start-up.
    let message = await reader.next()
    while (message?.data !== undefined) message = await reader.next()
    t.equal(message, undefined, 'the reader sees the end of the stream')
  }
})

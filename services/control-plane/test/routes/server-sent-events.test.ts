import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import {
  formatServerSentEvent,
  openServerSentEvents,
  parseLastEventId,
  type ServerSentEvents,
  type ServerSentEventsOptions,
} from '../../src/routes/server-sent-events.js'

// The module both streams use (the audit trail's and the Unleash SDKs'). A real port, because
// inject buffers a response until it ends and a stream does not end by itself.

t.test(
  'Last-Event-ID: a non-negative integer, blank or absent for a first connection',
  async (t) => {
    const accepted: [string | string[] | undefined, number | undefined][] = [
      [undefined, undefined],
      ['', undefined],
      ['  ', undefined],
      ['0', 0],
      ['42', 42],
      [' 42 ', 42],
      [['7', '8'], 7],
      ['999999999999999', 999_999_999_999_999],
    ]
    for (const [header, id] of accepted) {
      t.equal(parseLastEventId(header, 'a revision'), id, JSON.stringify(header))
    }
    for (const header of ['abc', '-1', '1.5', '1e3', '9999999999999999', '0x10']) {
      t.throws(
        () => parseLastEventId(header, 'an event id'),
        {
          code: 'invalid-last-event-id',
          message: `Last-Event-ID must be an event id (a non-negative integer), not '${header}'`,
        },
        header,
      )
    }
  },
)

t.test('an event is id, event and data lines ended by a blank line', async (t) => {
  t.equal(
    formatServerSentEvent({ id: 3, event: 'release.created', data: '{"id":3}' }),
    'id: 3\nevent: release.created\ndata: {"id":3}\n\n',
  )
})

/** An app with one stream route; `opened` resolves with the server's end of each stream. */
async function streamApp(t: Test, options: ServerSentEventsOptions) {
  const app = Fastify()
  const opened: ServerSentEvents[] = []
  let notify: (() => void) | undefined
  app.get('/stream', async (request, reply) => {
    reply.hijack()
    opened.push(openServerSentEvents(request, reply, options))
    notify?.()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    for (const stream of opened) stream.stop()
    await app.close()
  })
  const { port } = app.server.address() as AddressInfo
  /** Opens the stream without reading its body; the response is paused until resumed. */
  const connect = () =>
    new Promise<{ response: IncomingMessage; stream: ServerSentEvents }>((resolve, reject) => {
      const seen = opened.length
      const client = httpRequest({ host: '127.0.0.1', port, path: '/stream' }, (response) => {
        response.pause()
        const ready = () => resolve({ response, stream: opened[seen]! })
        if (opened.length > seen) ready()
        else notify = ready
      })
      client.on('error', reject)
      client.end()
    })
  return { connect }
}

/** Reads the body until it contains `text` (or ends). */
function readUntil(response: IncomingMessage, text: string): Promise<string> {
  return new Promise((resolve) => {
    let body = ''
    const onData = (chunk: Buffer) => {
      body += chunk.toString('utf8')
      if (body.includes(text)) finish()
    }
    const finish = () => {
      response.off('data', onData)
      response.off('end', finish)
      response.pause()
      resolve(body)
    }
    response.on('data', onData)
    response.on('end', finish)
    response.resume()
  })
}

t.test('the stream opens with its head and retry, sends events, and stop ends it', async (t) => {
  const { connect } = await streamApp(t, { retryMs: 2000 })
  const { response, stream } = await connect()
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(response.headers['cache-control'], 'no-cache')
  t.equal(response.headers['x-accel-buffering'], 'no')
  t.ok(response.headers['x-request-id'])
  let stops = 0
  stream.onStop(() => stops++)
  stream.send({ id: 1, event: 'ring.created', data: '{}' })
  const body = await readUntil(response, 'data: {}\n\n')
  t.equal(body, 'retry: 2000\n\nid: 1\nevent: ring.created\ndata: {}\n\n')
  const rest = readUntil(response, '\u0000')
  stream.stop()
  stream.stop()
  t.equal(await rest, '', 'the response ended with nothing more')
  await stream.ended
  t.ok(stream.stopped)
  t.equal(stops, 1, 'stop listeners run once')
  let late = 0
  stream.onStop(() => late++)
  t.equal(late, 1, 'a listener added after the stop runs at once')
})

t.test('no retry line unless asked, and a comment keeps an idle stream open', async (t) => {
  const { connect } = await streamApp(t, { heartbeatMs: 5 })
  const { response } = await connect()
  t.equal(await readUntil(response, '\n\n'), ': keep-alive\n\n')
})

/** 'resolved' when `promise` settles within `ms`, else 'still waiting'. */
async function settledBefore(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, ms, 'still waiting')
  })
  try {
    return await Promise.race([promise.then(() => 'resolved'), late])
  } finally {
    clearTimeout(timer)
  }
}

t.test('the head is sent at once, not with the first heartbeat', async (t) => {
  // The default heartbeat is 15 s away and nothing is sent: the client still sees its stream open.
  const { connect } = await streamApp(t, {})
  t.equal(await settledBefore(connect(), 5_000), 'resolved', 'the response head arrived')
})

t.test('a client that leaves stops the stream', async (t) => {
  const { connect } = await streamApp(t, {})
  const { response, stream } = await connect()
  const stopped = new Promise<void>((resolve) => stream.onStop(resolve))
  response.destroy()
  await stopped
  t.ok(stream.stopped)
  await stream.ended
  t.equal(
    await settledBefore(stream.pause(60_000), 5_000),
    'resolved',
    'pause on a stopped stream resolves at once, not after its 60 s',
  )
})

t.test(
  'a producer that can wait: behind, drained when the client reads, pause ends on stop',
  async (t) => {
    const { connect } = await streamApp(t, {})
    const { response, stream } = await connect()
    const chunk = 'x'.repeat(1024 * 1024)
    for (let id = 1; !stream.behind; id++) stream.send({ id, event: 'big', data: chunk })
    t.ok(stream.behind, 'the client is behind while it does not read')
    const drained = stream.drained()
    response.resume()
    await drained
    t.notOk(stream.stopped, 'waiting never cuts the client off')

    const pausing = stream.pause(60_000)
    stream.stop()
    t.equal(
      await settledBefore(pausing, 5_000),
      'resolved',
      'pause resolved when the stream stopped, not after its 60 s',
    )
  },
)

t.test('a pushed stream cuts off a client that is too far behind', async (t) => {
  const { connect } = await streamApp(t, { maxBufferedBytes: 1024 * 1024 })
  const { stream } = await connect()
  const chunk = 'x'.repeat(256 * 1024)
  let sent = 0
  while (!stream.stopped && sent < 1000) stream.send({ id: ++sent, event: 'big', data: chunk })
  t.ok(stream.stopped, 'the stream stopped')
  t.ok(sent < 1000, `after ${sent} events`)
  await stream.ended
})

import t from 'tap'
import { type AuditEvent, createRingmasterClient } from '../src/index.js'
import { parseServerSentEvents } from '../src/server-sent-events.js'
import { createTopology, startControlPlane } from './helpers/control-plane.js'

async function* chunks(...parts: string[]) {
  yield* parts
}

t.test('parses server-sent events split anywhere', async (t) => {
  const messages = []
  for await (const message of parseServerSentEvents(
    chunks(
      'retry: 2000\n\n: keep-alive\n\nid: 7\nev',
      'ent: ring.created\ndata: {"a":',
      '1}\r\n\r\n',
    ),
  )) {
    messages.push(message)
  }
  t.same(messages, [
    { id: undefined, event: 'message', data: '', retry: 2000 },
    { id: '7', event: 'ring.created', data: '{"a":1}', retry: undefined },
  ])
})

t.test('follows the audit event stream from an event id, filtered by subject', async (t) => {
  const { client } = await startControlPlane(t)
  const { service } = await createTopology(client)
  const stop = new AbortController()
  const release = await client.post('/v1/releases', { body: { service, version: '3.0.0' } })

  const seen: AuditEvent[] = []
  for await (const event of client.events({
    after: 0,
    subject: `release:${release.id}`,
    signal: stop.signal,
  })) {
    seen.push(event)
    if (seen.length === 1) {
      await client.post('/v1/releases/{id}/cancel', {
        params: { path: { id: release.id } },
        body: { reason: 'the sdk tests are done with it' },
      })
    }
    if (event.action === 'release.cancelled') stop.abort()
  }
  t.equal(seen[0]?.action, 'release.created')
  t.ok(
    seen.every((event) => event.subject.startsWith(`release:${release.id}`)),
    'only events about the release',
  )
  t.ok(seen.some((event) => event.action === 'release.cancelled'))
  t.ok(
    seen.every((event, index) => index === 0 || event.id > seen[index - 1]!.id),
    'oldest first, no repeats',
  )
})

t.test('resumes after the last event when the server ends the stream', async (t) => {
  const urls: string[] = []
  const answers = [
    'retry: 1\n\nid: 5\nevent: release.created\ndata: {"id":5,"action":"release.created"}\n\n',
    'id: 6\nevent: release.started\ndata: {"id":6,"action":"release.started"}\n\n',
  ]
  const stop = new AbortController()
  const client = createRingmasterClient({
    baseUrl: 'http://ringmaster.invalid',
    token: 'x',
    fetch: async (input) => {
      urls.push(String(input))
      return new Response(answers.shift() ?? '', {
        headers: { 'content-type': 'text/event-stream' },
      })
    },
  })
  const seen: number[] = []
  for await (const event of client.events({ subject: 'release:1', signal: stop.signal })) {
    seen.push(event.id)
    if (seen.length === 2) stop.abort()
  }
  t.same(seen, [5, 6])
  t.same(urls, [
    'http://ringmaster.invalid/v1/events/stream?subject=release%3A1',
    'http://ringmaster.invalid/v1/events/stream?after=5&subject=release%3A1',
  ])
})

import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'
import { type AdminCall, seedFlags, snapshotCaughtUp } from '../helpers/flag-fixtures.js'

// GET /api/client/streaming on a real port (inject waits for the end of a response, and a
// stream does not end): the message format, updates, resuming with Last-Event-ID, and shutdown.

interface Message {
  event?: string
  id?: string
  data?: string
}

/** Reads server-sent events one message at a time, skipping comments. */
class StreamReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private buffer = ''

  constructor(response: Response) {
    this.reader = response.body!.getReader()
  }

  async next(timeoutMs = 5000): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const end = this.buffer.indexOf('\n\n')
      if (end !== -1) {
        const block = this.buffer.slice(0, end)
        this.buffer = this.buffer.slice(end + 2)
        const message: Message = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const colon = line.indexOf(':')
          const field = line.slice(0, colon) as keyof Message
          message[field] = line.slice(colon + 1).replace(/^ /, '')
        }
        if (Object.keys(message).length > 0) return message
        continue
      }
      let timer: NodeJS.Timeout | undefined
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))
        }),
      ])
      clearTimeout(timer)
      if (chunk === 'timeout') throw new Error(`no message within ${timeoutMs} ms`)
      if (chunk.done) return undefined
      this.buffer += this.decoder.decode(chunk.value, { stream: true })
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {})
  }
}

async function setup(t: Parameters<typeof build>[0]) {
  const api = await build(t)
  const ring = uniqueName('ring')
  await api.request({ method: 'POST', url: '/v1/rings', body: { name: ring, order: 0 } })
  const admin: AdminCall = async (method, url, body) => {
    const response = await api.request({ method, url, body })
    return { status: response.status, body: response.body }
  }
  await seedFlags(admin, ring)
  const client = await api.tokenFor('client', undefined, ring)
  const base = await api.app.listen({ port: 0, host: '127.0.0.1' })
  return { api, ring, client, base }
}

async function open(base: string, token: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/api/client/streaming`, {
    headers: { authorization: token, 'unleash-client-spec': '5.2.0', ...headers },
  })
  return { response, reader: new StreamReader(response) }
}

const toggle = (api: TestApp, ring: string, enabled: boolean) =>
  api.request({ method: 'PATCH', url: `/v1/flags/everyone/rings/${ring}`, body: { enabled } })

t.test('connected with a hydration, then each change as delta events', async (t) => {
  const { api, ring, client, base } = await setup(t)
  const { response, reader } = await open(base, client)
  t.teardown(() => reader.cancel())
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), 'text/event-stream')
  const connected = (await reader.next())!
  t.equal(connected.event, 'unleash-connected')
  const revision = await api.app.store.read.flagRevisions.current(ring)
  t.equal(connected.id, String(revision), 'the event id is the ring revision')
  const hydration = JSON.parse(connected.data!)
  t.match(hydration.events, [{ type: 'hydration', eventId: revision }])

  await toggle(api, ring, false)
  const updated = (await reader.next())!
  t.equal(updated.event, 'unleash-updated')
  t.equal(updated.id, String(revision + 1))
  t.match(JSON.parse(updated.data!).events, [
    {
      type: 'feature-updated',
      eventId: revision + 1,
      feature: { name: 'everyone', enabled: false },
    },
  ])
})

t.test('a reconnect with Last-Event-ID gets only what it missed', async (t) => {
  const { api, ring, client, base } = await setup(t)
  const revision = await api.app.store.read.flagRevisions.current(ring)
  await toggle(api, ring, false)
  await api.request({ method: 'DELETE', url: '/v1/flags/colours' })
  await snapshotCaughtUp(api.app, ring)
  const { reader } = await open(base, client, { 'last-event-id': String(revision) })
  t.teardown(() => reader.cancel())
  const connected = (await reader.next())!
  t.equal(connected.event, 'unleash-connected')
  t.match(JSON.parse(connected.data!).events, [
    { type: 'feature-updated', feature: { name: 'everyone' } },
    { type: 'feature-removed', featureName: 'colours' },
  ])

  const current = await open(base, client, { 'last-event-id': String(revision + 2) })
  t.teardown(() => current.reader.cancel())
  t.same(JSON.parse((await current.reader.next())!.data!), { events: [] }, 'up to date: nothing')

  const bad = await fetch(`${base}/api/client/streaming`, {
    headers: { authorization: client, 'last-event-id': 'yesterday' },
  })
  t.equal(bad.status, 400)
  t.equal(((await bad.json()) as { type: string }).type, '/problems/invalid-last-event-id')
})

t.test('closing the app ends open streams', async (t) => {
  const { api, client, base } = await setup(t)
  const { reader } = await open(base, client)
  t.equal((await reader.next())!.event, 'unleash-connected')
  const closing = api.app.close()
  t.equal(await reader.next(), undefined, 'the stream ended')
  await closing
})

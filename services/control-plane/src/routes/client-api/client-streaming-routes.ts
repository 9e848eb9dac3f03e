import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { ClientFeaturesFilter } from '@ringmaster/domain'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { FlagSnapshots, RingSnapshot } from '../../plugins/app/flag-snapshots.js'
import { problemResponses } from '../../schemas/problem.js'
import { clientFeaturesFilter, sdkRing } from '../sdk-request.js'
import { openServerSentEvents, parseLastEventId } from '../server-sent-events.js'
import { ClientFeaturesQuery, StreamingHeaders } from './client-api-schemas.js'

// A client this far behind on reading is cut off; it reconnects with Last-Event-ID and catches up.
const maxBufferedBytes = 4 * 1024 * 1024

interface FlagStream {
  stop(): void
  ended: Promise<void>
}

/**
 * `GET /api/client/streaming`: the stream Unleash SDKs open in `experimentalMode: { type:
 * 'streaming' }`. It starts with `unleash-connected` (a hydration, or the changes since the
 * revision in Last-Event-ID) and sends `unleash-updated` with delta events as soon as the ring's
 * snapshot is rebuilt. Each event's `id` is the ring revision it brings the client to.
 */
export const clientStreamingRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const open = new Set<FlagStream>()

  // Before the server waits for open connections: streams never end by themselves.
  fastify.addHook('preClose', async () => {
    for (const stream of open) stream.stop()
    await Promise.all([...open].map((stream) => stream.ended))
  })

  fastify.get(
    '/api/client/streaming',
    {
      config: { access: ['client'] },
      exposeHeadRoute: false,
      schema: {
        operationId: 'streamClientFeatures',
        summary: "Stream the ring's flag changes to an Unleash SDK",
        description:
          'Server-sent events. `unleash-connected` carries `{ events: [...] }` with a hydration (or, on reconnect with Last-Event-ID, the changes since that revision); `unleash-updated` carries the delta events of each committed change, usually within a few milliseconds. Event ids are ring revisions. A comment is sent every 15 seconds to keep idle connections open.',
        tags: ['client-api'],
        headers: StreamingHeaders,
        querystring: ClientFeaturesQuery,
        response: {
          200: {
            description: 'The stream; it stays open until the client disconnects',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  description:
                    '`event: unleash-connected|unleash-updated`, `id: <revision>`, `data: {"events":[...]}`',
                }),
              },
            },
          },
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request, reply) => {
      const ring = sdkRing(request)
      const since = parseLastEventId(request.headers['last-event-id'], 'a revision')
      const snapshot = await fastify.flagSnapshots.get(ring)
      reply.hijack()
      const stream = openStream(
        fastify.flagSnapshots,
        request,
        reply,
        snapshot,
        since,
        clientFeaturesFilter(request.query),
      )
      open.add(stream)
      void stream.ended.then(() => open.delete(stream))
    },
  )
}

function openStream(
  snapshots: FlagSnapshots,
  request: FastifyRequest,
  reply: FastifyReply,
  snapshot: RingSnapshot,
  since: number | undefined,
  filter: ClientFeaturesFilter | undefined,
): FlagStream {
  // Snapshots are pushed to every subscriber and cannot wait for one slow reader: cut it off.
  const events = openServerSentEvents(request, reply, { maxBufferedBytes })
  let revision = since
  const send = (event: 'unleash-connected' | 'unleash-updated', next: RingSnapshot) => {
    const answer = snapshots.delta(next, revision, filter)
    if (answer.upToDate && event === 'unleash-updated') return
    events.send({
      id: next.revision,
      event,
      data: answer.upToDate ? '{"events":[]}' : answer.body,
    })
    revision = next.revision
  }
  if (!events.stopped) {
    // Listen first, so no snapshot built between the first send and the subscription is missed.
    events.onStop(snapshots.subscribe(snapshot.ring, (next) => send('unleash-updated', next)))
    send('unleash-connected', snapshots.current(snapshot.ring) ?? snapshot)
  }
  return { stop: events.stop, ended: events.ended }
}

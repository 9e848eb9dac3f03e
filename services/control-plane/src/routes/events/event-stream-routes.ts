import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type AuditEvent, type AuditService, anyRole, maxAuditPageSize } from '@ringmaster/domain'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { problemResponses } from '../../schemas/problem.js'
import {
  openServerSentEvents,
  parseLastEventId,
  type ServerSentEvent,
} from '../server-sent-events.js'

const pollIntervalMs = 250
const reconnectDelayMs = 2000

const StreamQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Start after this event id; by default the stream starts at the newest event, so only changes from now on are sent. A Last-Event-ID header takes precedence.',
      }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Only events about this subject or what lies under it: `release:42` matches `release:42` and `release:42:stage-1`, not `release:420`',
      }),
    ),
    action: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Only events whose action starts with this, e.g. `release.`',
      }),
    ),
  },
  { additionalProperties: false },
)

const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      description:
        'Sent by EventSource when it reconnects: resume strictly after this event id (overrides `after`)',
    }),
  ),
})

interface EventStream {
  /** Stops polling and resolves once the response has ended. */
  stop(): Promise<void>
}

export const eventStreamRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const openStreams = new Set<EventStream>()
  let closing = false

  // preClose runs before the server stops accepting connections and waits for open ones, so a
  // graceful shutdown is not held up by watchers, and no poll reads a database that is closing.
  fastify.addHook('preClose', async () => {
    closing = true
    await Promise.all([...openStreams].map((stream) => stream.stop()))
  })

  fastify.get(
    '/v1/events/stream',
    {
      config: { access: anyRole },
      // A HEAD of an endless stream would never end.
      exposeHeadRoute: false,
      schema: {
        operationId: 'streamEvents',
        summary: 'Watch the audit trail live as server-sent events',
        description:
          'A text/event-stream of audit events, oldest first, for watching a rollout as it happens. Each event carries `id` (the audit event id), `event` (its action) and `data` (the audit event as JSON, the same shape as in GET /v1/events). Events committed by any replica arrive within about a second. Reconnecting with Last-Event-ID resumes without gaps or repeats; a comment is sent every 15 seconds to keep idle connections open.',
        tags: ['events'],
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: {
          200: {
            description: 'The stream; it stays open until the client disconnects',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  description:
                    'Server-sent events: `id: <event id>`, `event: <action>`, `data: <audit event JSON>`',
                }),
              },
            },
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const resumeAfter = parseLastEventId(request.headers['last-event-id'], 'an event id')
      const after = resumeAfter ?? request.query.after ?? (await latestEventId(fastify.audit))
      const matches = eventFilter(request.query.subject, request.query.action)

      // Streaming bypasses Fastify's reply pipeline, so hooks such as onSend do not run.
      reply.hijack()
      const stream = openStream(request, reply, fastify.audit, after, matches, () => {
        openStreams.delete(stream)
      })
      openStreams.add(stream)
      // A request that got past routing just before the app began to close.
      if (closing) await stream.stop()
    },
  )
}

function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
  audit: AuditService,
  after: number,
  matches: (event: AuditEvent) => boolean,
  onEnd: () => void,
): EventStream {
  const events = openServerSentEvents(request, reply, { retryMs: reconnectDelayMs })
  const polling = (async () => {
    let cursor = after
    try {
      while (!events.stopped) {
        const page = await audit.listAfter(cursor, maxAuditPageSize)
        for (const event of page.events) {
          if (events.stopped) break
          if (matches(event)) events.send(serverSentEvent(event))
          // Filtered-out events move the cursor too, so they are not read again.
          cursor = event.id
        }
        if (events.stopped) break
        // The trail can wait: read no further until a slow client has taken what it was sent.
        if (events.behind) await events.drained()
        else if (page.events.length < maxAuditPageSize) await events.pause(pollIntervalMs)
      }
    } catch (error) {
      request.log.error({ err: error }, 'event stream ended: reading the audit trail failed')
    } finally {
      events.stop()
      await events.ended
      onEnd()
    }
  })()

  return {
    async stop() {
      events.stop()
      await polling
    },
  }
}

/** The same fields GET /v1/events returns, whatever else the domain object carries. */
function serverSentEvent(event: AuditEvent): ServerSentEvent {
  const { id, at, actor, action, subject, data, requestId } = event
  return {
    id,
    event: action,
    data: JSON.stringify({ id, at, actor, action, subject, data, requestId }),
  }
}

function eventFilter(subject: string | undefined, action: string | undefined) {
  return (event: AuditEvent) =>
    (subject === undefined ||
      event.subject === subject ||
      event.subject.startsWith(`${subject}:`)) &&
    (action === undefined || event.action.startsWith(action))
}

/**
 * The newest event id, or 0. The audit service only pages forward, so this gallops up from the
 * first event and then bisects: a few single-row reads instead of paging through the whole trail.
 */
async function latestEventId(audit: AuditService): Promise<number> {
  const firstAfter = async (id: number) => (await audit.listAfter(id, 1)).events[0]?.id
  let known = (await firstAfter(0)) ?? 0
  if (known === 0) return 0
  let upper: number | undefined
  for (let step = 1; upper === undefined; step *= 2) {
    const next = await firstAfter(known + step)
    if (next === undefined) upper = known + step
    else known = next
  }
  while (known < upper) {
    const middle = Math.floor((known + upper) / 2)
    const next = await firstAfter(middle)
    if (next === undefined) upper = middle
    else known = next
  }
  return known
}

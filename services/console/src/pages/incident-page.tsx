import { type AuditEvent, type Incident, RingmasterProblem } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Link } from 'wouter'
import { may } from '../access.js'
import { haltScopeInWords } from '../components/halt-banner.js'
import { IncidentState, incidentScopeInWords } from '../components/incident-state.js'
import { TraceLink } from '../components/trace-link.js'
import { describeError, formatDuration, formatTime } from '../format.js'
import { actorOf, useIncidentTimeline } from '../live/incident-timeline.js'
import { useSession } from '../session/session.js'

function isClientMistake(error: unknown): boolean {
  return error instanceof RingmasterProblem && error.status < 500
}

function IncidentNotFound({ id }: { id: number | string }) {
  return (
    <>
      <h1>Incident {id}</h1>
      <p role="alert" data-testid="incident-not-found">
        There is no incident {id}. The link may be mistyped, or from another Ringmaster.
      </p>
      <p>
        <Link href="/incidents">See all incidents</Link>
      </p>
    </>
  )
}

/** When it happened and who said so; who mitigated and resolved it comes from its events. */
function IncidentTimes({ incident, events }: { incident: Incident; events: AuditEvent[] }) {
  const by = (action: string) => {
    const actor = actorOf(events, action)
    return actor ? `, by ${actor}` : ''
  }
  return (
    <dl className="facts" data-testid="incident-times">
      <dt>Users affected from</dt>
      <dd>{formatTime(incident.startedAt)}</dd>
      <dt>Opened</dt>
      <dd>
        detected {formatTime(incident.detectedAt)}, declared by {incident.createdBy}
      </dd>
      <dt>Mitigated</dt>
      <dd data-testid="incident-mitigated">
        {incident.mitigatedAt
          ? `${formatTime(incident.mitigatedAt)}${by('incident.mitigated')}`
          : 'not yet'}
      </dd>
      <dt>Resolved</dt>
      <dd data-testid="incident-resolved">
        {incident.resolvedAt
          ? `${formatTime(incident.resolvedAt)}${by('incident.resolved')}, restored in ${formatDuration(
              Date.parse(incident.resolvedAt) - Date.parse(incident.detectedAt),
            )}`
          : 'not yet'}
      </dd>
    </dl>
  )
}

/** What it concerns: the service, where, the release it blames, and its links. */
function IncidentScope({ incident }: { incident: Incident }) {
  return (
    <dl className="facts" data-testid="incident-scope">
      <dt>Service</dt>
      <dd>{incident.service}</dd>
      <dt>Where</dt>
      <dd>
        {incidentScopeInWords(incident)}, {Math.round(incident.trafficShare * 1000) / 10}% of fleet
        traffic
      </dd>
      <dt>Release</dt>
      <dd>
        {incident.releaseId !== null ? (
          <Link href={`/releases/${incident.releaseId}`}>Release #{incident.releaseId}</Link>
        ) : (
          'none suspected'
        )}
      </dd>
      <dt>Review</dt>
      <dd>
        {incident.reviewUrl ? (
          <a href={incident.reviewUrl} target="_blank" rel="noreferrer">
            Post-incident review
          </a>
        ) : (
          'none yet'
        )}
      </dd>
      <dt>Trace</dt>
      <dd>
        <TraceLink traceId={incident.traceId} />
      </dd>
    </dl>
  )
}

/** The halt declared with it: whether it still stops the line (the banner lifts it). */
function IncidentHalt({ incident }: { incident: Incident }) {
  const { client } = useSession()
  const halts = useQuery({
    queryKey: ['halts'],
    queryFn: () => client.get('/v1/halts', { params: { query: { active: true } } }),
  })
  if (incident.haltId === null) {
    return <p data-testid="incident-halt">It holds no halt: the line was not stopped for it.</p>
  }
  if (!halts.data) return <p className="loading">Loading halt #{incident.haltId}…</p>
  const halt = halts.data.halts.find((one) => one.id === incident.haltId && one.liftedAt === null)
  return (
    <p data-testid="incident-halt">
      {halt ? (
        <>
          <strong>
            Halt #{halt.id} {haltScopeInWords(halt)} still stops the line.
          </strong>{' '}
          {incident.resolvedAt
            ? 'The incident is resolved; lift the halt from the banner when it is safe to deploy.'
            : 'It stays until someone lifts it, also after the incident is resolved.'}
        </>
      ) : (
        `Halt #${incident.haltId} was declared with it and has been lifted.`
      )}
    </p>
  )
}

/** Mitigate and resolve, for the roles that may (the server decides anyway). */
function IncidentResponse({ incident }: { incident: Incident }) {
  const { client } = useSession()
  const queryClient = useQueryClient()
  const act = useMutation({
    mutationFn: (step: 'mitigate' | 'resolve') =>
      step === 'mitigate'
        ? client.post('/v1/incidents/{id}/mitigate', {
            params: { path: { id: incident.id } },
            body: {},
          })
        : client.post('/v1/incidents/{id}/resolve', {
            params: { path: { id: incident.id } },
            body: {},
          }),
    onSuccess: (updated) => queryClient.setQueryData(['incident', incident.id], updated),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ['incident', incident.id] })
      void queryClient.invalidateQueries({ queryKey: ['incidents'] })
    },
  })
  if (incident.resolvedAt) return null
  return (
    <>
      {act.error ? <p role="alert">{describeError(act.error)}</p> : null}
      <div className="actions">
        {!incident.mitigatedAt ? (
          <button
            type="button"
            className="secondary"
            disabled={act.isPending}
            onClick={() => act.mutate('mitigate')}
          >
            Mitigate
          </button>
        ) : null}
        <button type="button" disabled={act.isPending} onClick={() => act.mutate('resolve')}>
          Resolve
        </button>
      </div>
    </>
  )
}

/** What happened to it, oldest first, from its audit events. */
function IncidentHistory({ events }: { events: AuditEvent[] }) {
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">What happened</h2>
      {events.length === 0 ? (
        <p className="empty">No event yet.</p>
      ) : (
        <ol className="timeline" data-testid="incident-history">
          {events.map((event) => (
            <li key={event.id}>
              <time dateTime={event.at}>{formatTime(event.at)}</time> {event.action}{' '}
              <span className="muted">by {event.actor}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

/** One incident: what, where, when and who, the halt it holds, and what to do next. */
export function IncidentPage({ id }: { id: string }) {
  const number = Number(id)
  if (!/^[1-9]\d*$/.test(id) || !Number.isSafeInteger(number)) return <IncidentNotFound id={id} />
  return <IncidentDetail id={number} />
}

function IncidentDetail({ id }: { id: number }) {
  const { client, session } = useSession()
  const incident = useQuery({
    queryKey: ['incident', id],
    queryFn: () => client.get('/v1/incidents/{id}', { params: { path: { id } } }),
    // A missing incident stays missing: say so now instead of after the retries.
    retry: (failures, error) => !isClientMistake(error) && failures < 2,
  })
  const events = useIncidentTimeline(client, id)
  if (incident.error instanceof RingmasterProblem && incident.error.status === 404) {
    return <IncidentNotFound id={id} />
  }
  if (incident.error) {
    return (
      <>
        <h1>Incident {id}</h1>
        <p role="alert">{describeError(incident.error)}</p>
      </>
    )
  }
  const data = incident.data
  if (!data) return <p className="loading">Loading incident {id}…</p>
  return (
    <>
      <p>
        <Link href="/incidents">← Incidents</Link>
      </p>
      <h1>
        #{data.id} {data.title} <IncidentState incident={data} />
      </h1>
      <p>
        <strong data-testid="incident-severity">{data.severity}</strong>{' '}
        <span className="muted">(sev1 is the worst, sev4 the mildest)</span>
      </p>
      {data.notes ? <p data-testid="incident-notes">{data.notes}</p> : null}
      <div className="grid-2">
        <section className="card" aria-labelledby="scope-title">
          <h2 id="scope-title">What it concerns</h2>
          <IncidentScope incident={data} />
        </section>
        <section className="card" aria-labelledby="times-title">
          <h2 id="times-title">When, and who</h2>
          <IncidentTimes incident={data} events={events} />
        </section>
      </div>
      <section className="card" aria-labelledby="next-title">
        <h2 id="next-title">Next</h2>
        <IncidentHalt incident={data} />
        {may(session.role, 'respond-to-incident') ? <IncidentResponse incident={data} /> : null}
      </section>
      <IncidentHistory events={events} />
    </>
  )
}

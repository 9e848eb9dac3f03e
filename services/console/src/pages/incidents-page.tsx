import type { Incident } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link } from 'wouter'
import { may } from '../access.js'
import { describeError, formatDuration, formatTime } from '../format.js'
import { useSession } from '../session/session.js'

type Severity = Incident['severity']

function DeclareIncident() {
  const { client } = useSession()
  const queryClient = useQueryClient()
  const services = useQuery({ queryKey: ['services'], queryFn: () => client.get('/v1/services') })
  const rings = useQuery({
    queryKey: ['topology', 'rings'],
    queryFn: () => client.get('/v1/rings'),
  })
  const [service, setService] = useState('')
  const [severity, setSeverity] = useState<Severity>('sev2')
  const [title, setTitle] = useState('')
  const [ring, setRing] = useState('')
  const [releaseId, setReleaseId] = useState('')
  const [halt, setHalt] = useState(false)
  const declare = useMutation({
    mutationFn: () =>
      client.post('/v1/incidents', {
        body: {
          service,
          severity,
          title,
          ...(ring ? { ring } : {}),
          ...(releaseId ? { releaseId: Number(releaseId) } : {}),
          halt,
        },
      }),
    onSuccess: () => {
      setTitle('')
      void queryClient.invalidateQueries({ queryKey: ['incidents'] })
      void queryClient.invalidateQueries({ queryKey: ['halts'] })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    declare.mutate()
  }
  return (
    <section className="card" aria-labelledby="declare-title">
      <h2 id="declare-title">Declare an incident</h2>
      <form onSubmit={submit}>
        <div className="grid-2">
          <label>
            Service
            <select required value={service} onChange={(e) => setService(e.target.value)}>
              <option value="">Choose a service</option>
              {services.data?.services.map((one) => (
                <option key={one.name} value={one.name}>
                  {one.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Severity
            <select value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
              {(['sev1', 'sev2', 'sev3', 'sev4'] as const).map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
          <label>
            What users see
            <input required value={title} onChange={(e) => setTitle(e.target.value)} />
          </label>
          <label>
            Ring (empty: the whole fleet)
            <select value={ring} onChange={(e) => setRing(e.target.value)}>
              <option value="">whole fleet</option>
              {rings.data?.rings.map((one) => (
                <option key={one.name} value={one.name}>
                  {one.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Suspected release id
            <input
              type="number"
              min={1}
              value={releaseId}
              onChange={(e) => setReleaseId(e.target.value)}
            />
          </label>
        </div>
        <label className="inline">
          <input type="checkbox" checked={halt} onChange={(e) => setHalt(e.target.checked)} />
          Also stop the line for the service
        </label>
        {declare.error ? <p role="alert">{describeError(declare.error)}</p> : null}
        <div className="actions">
          <button type="submit" className="danger" disabled={declare.isPending}>
            Declare incident
          </button>
        </div>
      </form>
    </section>
  )
}

function IncidentRow({ incident, canRespond }: { incident: Incident; canRespond: boolean }) {
  const { client } = useSession()
  const queryClient = useQueryClient()
  const act = useMutation({
    mutationFn: (action: 'mitigate' | 'resolve') =>
      action === 'mitigate'
        ? client.post('/v1/incidents/{id}/mitigate', {
            params: { path: { id: incident.id } },
            body: {},
          })
        : client.post('/v1/incidents/{id}/resolve', {
            params: { path: { id: incident.id } },
            body: {},
          }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['incidents'] }),
  })
  const state = incident.resolvedAt ? 'resolved' : incident.mitigatedAt ? 'mitigated' : 'open'
  const restoredIn = incident.resolvedAt
    ? formatDuration(Date.parse(incident.resolvedAt) - Date.parse(incident.detectedAt))
    : undefined
  return (
    <tr>
      <td>#{incident.id}</td>
      <td>{incident.severity}</td>
      <td>
        {incident.title}
        {act.error ? <p role="alert">{describeError(act.error)}</p> : null}
      </td>
      <td>{incident.service}</td>
      <td>{incident.ring ?? 'whole fleet'}</td>
      <td>
        {incident.releaseId ? (
          <Link href={`/releases/${incident.releaseId}`}>#{incident.releaseId}</Link>
        ) : (
          '—'
        )}
      </td>
      <td>{formatTime(incident.detectedAt)}</td>
      <td>
        <span
          className={`state state-${state === 'open' ? 'failed' : state === 'mitigated' ? 'baking' : 'succeeded'}`}
        >
          {state}
        </span>
        {restoredIn ? <span className="muted"> in {restoredIn}</span> : null}
      </td>
      <td>
        {canRespond && !incident.resolvedAt ? (
          <div className="actions">
            {!incident.mitigatedAt ? (
              <button type="button" className="secondary" onClick={() => act.mutate('mitigate')}>
                Mitigate #{incident.id}
              </button>
            ) : null}
            <button type="button" onClick={() => act.mutate('resolve')}>
              Resolve #{incident.id}
            </button>
          </div>
        ) : null}
      </td>
    </tr>
  )
}

/** Incidents: declare (anyone), mitigate and resolve (responders). */
export function IncidentsPage() {
  const { client, session } = useSession()
  const incidents = useQuery({
    queryKey: ['incidents'],
    queryFn: () => client.get('/v1/incidents'),
  })
  return (
    <>
      <h1>Incidents</h1>
      {may(session.role, 'declare-incident') ? <DeclareIncident /> : null}
      {incidents.error ? <p role="alert">{describeError(incidents.error)}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Severity</th>
            <th scope="col">Title</th>
            <th scope="col">Service</th>
            <th scope="col">Ring</th>
            <th scope="col">Release</th>
            <th scope="col">Detected</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {incidents.data?.incidents.map((incident) => (
            <IncidentRow
              key={incident.id}
              incident={incident}
              canRespond={may(session.role, 'respond-to-incident')}
            />
          ))}
        </tbody>
      </table>
      {incidents.data?.incidents.length === 0 ? <p className="empty">No incident.</p> : null}
    </>
  )
}

import type { Incident } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link } from 'wouter'
import { may } from '../access.js'
import { IncidentState, incidentScopeInWords } from '../components/incident-state.js'
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

/** How many resolved incidents the list shows below the open ones. */
const recentlyResolved = 20
/** The API's largest page: open incidents are few, and all of them matter. */
const openAtMost = 200

function IncidentRow({ incident }: { incident: Incident }) {
  return (
    <tr>
      <td>
        <Link href={`/incidents/${incident.id}`}>
          #{incident.id} {incident.title}
        </Link>
      </td>
      <td>{incident.severity}</td>
      <td>{incident.service}</td>
      <td>{incidentScopeInWords(incident)}</td>
      <td>
        {incident.releaseId ? (
          <Link href={`/releases/${incident.releaseId}`}>#{incident.releaseId}</Link>
        ) : (
          '—'
        )}
      </td>
      <td>{formatTime(incident.detectedAt)}</td>
      <td>
        <IncidentState incident={incident} />
        {incident.resolvedAt ? (
          <span className="muted">
            {' '}
            in {formatDuration(Date.parse(incident.resolvedAt) - Date.parse(incident.detectedAt))}
          </span>
        ) : null}
      </td>
    </tr>
  )
}

/** One table of incidents: the open ones, or the recently resolved. */
function IncidentTable({ open, title, empty }: { open: boolean; title: string; empty: string }) {
  const { client } = useSession()
  const headingId = open ? 'open-incidents' : 'resolved-incidents'
  const incidents = useQuery({
    queryKey: ['incidents', { open }],
    queryFn: () =>
      client.get('/v1/incidents', {
        params: { query: { open, limit: open ? openAtMost : recentlyResolved } },
      }),
  })
  return (
    <section aria-labelledby={headingId} data-testid={headingId}>
      <h2 id={headingId}>{title}</h2>
      {incidents.error ? <p role="alert">{describeError(incidents.error)}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Severity</th>
            <th scope="col">Service</th>
            <th scope="col">Where</th>
            <th scope="col">Release</th>
            <th scope="col">Detected</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {incidents.data?.incidents.map((incident) => (
            <IncidentRow key={incident.id} incident={incident} />
          ))}
        </tbody>
      </table>
      {incidents.data?.incidents.length === 0 ? <p className="empty">{empty}</p> : null}
      {open && incidents.data?.nextBefore ? (
        <p className="muted">Only the newest {openAtMost} open incidents are shown.</p>
      ) : null}
    </section>
  )
}

/** Incidents: declare one (anyone), the open ones first, then the recently resolved. */
export function IncidentsPage() {
  const { session } = useSession()
  return (
    <>
      <h1>Incidents</h1>
      {may(session.role, 'declare-incident') ? <DeclareIncident /> : null}
      <IncidentTable open={true} title="Open" empty="No open incident." />
      <IncidentTable
        open={false}
        title={`Recently resolved (the last ${recentlyResolved})`}
        empty="No resolved incident."
      />
    </>
  )
}

import type { Halt } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { may } from '../access.js'
import { describeError, since } from '../format.js'
import { useSession } from '../session/session.js'

export function haltScopeInWords(halt: Pick<Halt, 'scope' | 'target'>): string {
  if (halt.scope === 'global') return 'everywhere'
  return `${halt.scope} ${halt.target}`
}

/** The active halts, on every page; kept current by the event stream (halt.* events). */
export function HaltBanner() {
  const { client, session } = useSession()
  const queryClient = useQueryClient()
  const halts = useQuery({
    queryKey: ['halts'],
    queryFn: () => client.get('/v1/halts', { params: { query: { active: true } } }),
  })
  const lift = useMutation({
    mutationFn: (id: number) => client.delete('/v1/halts/{id}', { params: { path: { id } } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['halts'] }),
  })
  const active = (halts.data?.halts ?? []).filter((halt) => halt.liftedAt === null)
  if (active.length === 0) return null
  return (
    <section className="halt-banner" aria-label="Active halts" data-testid="halt-banner">
      <h2>The line is stopped</h2>
      <ul>
        {active.map((halt) => (
          <li key={halt.id}>
            <strong>Halt {haltScopeInWords(halt)}</strong>: {halt.reason}{' '}
            <span className="muted">
              by {halt.createdBy}, {since(halt.createdAt)} ago
              {halt.incidentId !== null ? ` (incident ${halt.incidentId})` : ''}
            </span>
            {may(session.role, 'lift-halt') ? (
              <button
                type="button"
                className="secondary"
                disabled={lift.isPending}
                onClick={() => lift.mutate(halt.id)}
              >
                Lift halt {haltScopeInWords(halt)}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {lift.error ? <p role="alert">{describeError(lift.error)}</p> : null}
    </section>
  )
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { describeError } from '../format.js'
import { useSession } from '../session/session.js'

type Scope = 'global' | 'service' | 'ring' | 'release'

/** The Stop the line button and its dialog: a reason and a scope, then POST /v1/halts. */
export function StopTheLine({ releaseId }: { releaseId?: number }) {
  const { client } = useSession()
  const queryClient = useQueryClient()
  const dialog = useRef<HTMLDialogElement>(null)
  const [open, setOpen] = useState(false)
  const [scope, setScope] = useState<Scope>(releaseId ? 'release' : 'global')
  const [target, setTarget] = useState(releaseId ? String(releaseId) : '')
  const [reason, setReason] = useState('')

  const services = useQuery({
    queryKey: ['services'],
    queryFn: () => client.get('/v1/services'),
    enabled: open,
  })
  const rings = useQuery({
    queryKey: ['topology', 'rings'],
    queryFn: () => client.get('/v1/rings'),
    enabled: open,
  })

  useEffect(() => {
    if (open) dialog.current?.showModal()
    else dialog.current?.close()
  }, [open])

  const stop = useMutation({
    mutationFn: async () => {
      if (scope === 'release') {
        await client.post('/v1/releases/{id}/halt', {
          params: { path: { id: Number(target) } },
          body: { reason },
        })
        return
      }
      await client.post('/v1/halts', {
        body: scope === 'global' ? { scope, reason } : { scope, target, reason },
      })
    },
    onSuccess: () => {
      setOpen(false)
      setReason('')
      void queryClient.invalidateQueries({ queryKey: ['halts'] })
      void queryClient.invalidateQueries({ queryKey: ['release'] })
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    stop.mutate()
  }
  const changeScope = (next: Scope) => {
    setScope(next)
    setTarget(next === 'release' && releaseId ? String(releaseId) : '')
  }

  return (
    <>
      <button type="button" className="stop-the-line" onClick={() => setOpen(true)}>
        Stop the line
      </button>
      <dialog
        ref={dialog}
        aria-labelledby="stop-the-line-title"
        onClose={() => setOpen(false)}
        className="dialog"
      >
        <form onSubmit={submit}>
          <h2 id="stop-the-line-title">Stop the line</h2>
          <p>No new wave starts where the halt holds until an SRE or admin lifts it.</p>
          <fieldset>
            <legend>Where</legend>
            {(
              [
                ['global', 'Everywhere'],
                ['service', 'One service'],
                ['ring', 'One ring'],
                ['release', 'One release'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="choice">
                <input
                  type="radio"
                  name="scope"
                  value={value}
                  checked={scope === value}
                  onChange={() => changeScope(value)}
                />
                {label}
              </label>
            ))}
          </fieldset>
          {scope === 'service' ? (
            <label>
              Service
              <select required value={target} onChange={(e) => setTarget(e.target.value)}>
                <option value="">Choose a service</option>
                {services.data?.services.map((service) => (
                  <option key={service.name} value={service.name}>
                    {service.name}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {scope === 'ring' ? (
            <label>
              Ring
              <select required value={target} onChange={(e) => setTarget(e.target.value)}>
                <option value="">Choose a ring</option>
                {rings.data?.rings.map((ring) => (
                  <option key={ring.name} value={ring.name}>
                    {ring.name}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {scope === 'release' ? (
            <label>
              Release id
              <input
                type="number"
                min={1}
                required
                value={target}
                onChange={(e) => setTarget(e.target.value)}
              />
            </label>
          ) : null}
          <label>
            Reason (everyone whose release waits reads it)
            <textarea required value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {stop.error ? <p role="alert">{describeError(stop.error)}</p> : null}
          <div className="actions">
            <button type="submit" className="danger" disabled={stop.isPending}>
              Stop the line
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Keep going
            </button>
          </div>
        </form>
      </dialog>
    </>
  )
}

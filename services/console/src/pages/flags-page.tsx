import type { Constraint, Flag, Strategy } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { may } from '../access.js'
import { BarChart } from '../components/bar-chart.js'
import { describeError } from '../format.js'
import { useSession } from '../session/session.js'

function constraintInWords(constraint: Constraint): string {
  const values = constraint.values?.join(', ') ?? constraint.value ?? ''
  const not = constraint.inverted ? 'not ' : ''
  return `${constraint.contextName} ${not}${constraint.operator.toLowerCase().replaceAll('_', ' ')} ${values}`.trim()
}

/** A strategy as a sentence: who gets the flag. */
export function strategyInWords(strategy: Strategy): string {
  const parameters = strategy.parameters as Record<string, string | undefined>
  let who: string
  switch (strategy.name) {
    case 'default':
      who = 'everyone'
      break
    case 'flexibleRollout':
      who = `${parameters.rollout ?? '100'}% of users (sticky on ${parameters.stickiness ?? 'default'})`
      break
    case 'userWithId':
      who = `users ${parameters.userIds ?? ''}`
      break
    case 'remoteAddress':
      who = `addresses ${parameters.IPs ?? ''}`
      break
    case 'applicationHostname':
      who = `hosts ${parameters.hostNames ?? ''}`
      break
    default:
      who = `strategy ${strategy.name}`
  }
  const conditions = strategy.constraints.map(constraintInWords)
  if (strategy.segments.length > 0) conditions.push(`in segment ${strategy.segments.join(', ')}`)
  return conditions.length > 0 ? `${who}, when ${conditions.join(' and ')}` : who
}

function FlagRings({ flag }: { flag: Flag }) {
  const { client, session } = useSession()
  const queryClient = useQueryClient()
  const toggle = useMutation({
    mutationFn: ({ ring, enabled }: { ring: string; enabled: boolean }) =>
      client.patch('/v1/flags/{key}/rings/{ring}', {
        params: { path: { key: flag.key, ring } },
        body: { enabled },
      }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['flags'] }),
  })
  const canToggle = may(session.role, 'toggle-flag')
  return (
    <>
      <table>
        <caption className="visually-hidden">{flag.key} per ring</caption>
        <thead>
          <tr>
            <th scope="col">Ring</th>
            <th scope="col">State</th>
            <th scope="col">Who gets it</th>
          </tr>
        </thead>
        <tbody>
          {flag.rings.map((ring) => (
            <tr key={ring.ring}>
              <th scope="row">{ring.ring}</th>
              <td>
                <span
                  className={`state state-${ring.enabled ? 'succeeded' : 'not-started'}`}
                  data-testid={`flag-${flag.key}-${ring.ring}`}
                >
                  {ring.enabled ? 'on' : 'off'}
                </span>{' '}
                {canToggle ? (
                  <button
                    type="button"
                    className={ring.enabled ? 'danger' : ''}
                    aria-pressed={ring.enabled}
                    disabled={toggle.isPending}
                    onClick={() => toggle.mutate({ ring: ring.ring, enabled: !ring.enabled })}
                  >
                    {ring.enabled
                      ? `Turn ${flag.key} off in ${ring.ring}`
                      : `Turn ${flag.key} on in ${ring.ring}`}
                  </button>
                ) : null}
              </td>
              <td>
                {ring.strategies.length === 0 ? (
                  <span className="muted">nobody (no strategy)</span>
                ) : (
                  <ul>
                    {ring.strategies.map((strategy, index) => (
                      // Strategies have no id; their order is what the API gives.
                      // biome-ignore lint/suspicious/noArrayIndexKey: the list is replaced whole
                      <li key={index}>{strategyInWords(strategy)}</li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {toggle.error ? <p role="alert">{describeError(toggle.error)}</p> : null}
    </>
  )
}

function FlagMetrics({ flag }: { flag: Flag }) {
  const { client } = useSession()
  const metrics = useQuery({
    queryKey: ['flags', flag.key, 'metrics'],
    queryFn: () => client.get('/v1/flags/{key}/metrics', { params: { path: { key: flag.key } } }),
  })
  if (!metrics.data) return null
  const { totals, buckets } = metrics.data
  const byRing = new Map<string, { yes: number; no: number }>()
  for (const bucket of buckets) {
    const sum = byRing.get(bucket.ring) ?? { yes: 0, no: 0 }
    sum.yes += bucket.yes
    sum.no += bucket.no
    byRing.set(bucket.ring, sum)
  }
  return (
    <div>
      <p>
        Last 24 h: {totals.yes} evaluations answered on, {totals.no} off.
      </p>
      {byRing.size > 0 ? (
        <BarChart
          title={`Evaluations of ${flag.key} per ring`}
          unit="evaluations"
          series={[
            {
              name: 'on',
              values: [...byRing].map(([ring, sum]) => ({ label: ring, value: sum.yes })),
            },
            {
              name: 'off',
              values: [...byRing].map(([ring, sum]) => ({ label: ring, value: sum.no })),
            },
          ]}
        />
      ) : null}
    </div>
  )
}

function EvaluateTool({ flags, rings }: { flags: Flag[]; rings: string[] }) {
  const { client } = useSession()
  const [ring, setRing] = useState('')
  const [flag, setFlag] = useState('')
  const [userId, setUserId] = useState('')
  const [properties, setProperties] = useState('')
  const evaluate = useMutation({
    mutationFn: () => {
      const custom: Record<string, string> = {}
      for (const pair of properties.split(',')) {
        const [key, ...rest] = pair.split('=')
        if (key?.trim()) custom[key.trim()] = rest.join('=').trim()
      }
      return client.post('/v1/evaluate', {
        body: {
          ring: ring || rings[0] || '',
          context: { ...(userId ? { userId } : {}), properties: custom },
          ...(flag ? { flags: [flag] } : {}),
        },
      })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    evaluate.mutate()
  }
  return (
    <section className="card" aria-labelledby="evaluate-title">
      <h2 id="evaluate-title">Evaluate and explain</h2>
      <form onSubmit={submit}>
        <label className="inline">
          Ring
          <select value={ring} onChange={(e) => setRing(e.target.value)}>
            {rings.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Flag
          <select value={flag} onChange={(e) => setFlag(e.target.value)}>
            <option value="">every flag</option>
            {flags.map((candidate) => (
              <option key={candidate.key} value={candidate.key}>
                {candidate.key}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          User id
          <input value={userId} onChange={(e) => setUserId(e.target.value)} />
        </label>
        <label className="inline">
          Properties (key=value, …)
          <input value={properties} onChange={(e) => setProperties(e.target.value)} />
        </label>
        <button type="submit" disabled={evaluate.isPending || rings.length === 0}>
          Evaluate
        </button>
      </form>
      {evaluate.error ? <p role="alert">{describeError(evaluate.error)}</p> : null}
      {evaluate.data ? (
        <table data-testid="evaluation">
          <caption className="visually-hidden">Evaluation results</caption>
          <thead>
            <tr>
              <th scope="col">Flag</th>
              <th scope="col">Answer</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {evaluate.data.results.map((result) => (
              <tr key={result.flag}>
                <th scope="row">{result.flag}</th>
                <td>
                  {result.enabled ? 'on' : 'off'}
                  {result.variant.enabled ? ` (variant ${result.variant.name})` : ''}
                </td>
                <td>{result.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

/** Flags: per ring on/off (the kill switch), strategies in words, evaluate-and-explain, metrics. */
export function FlagsPage() {
  const { client } = useSession()
  const flags = useQuery({ queryKey: ['flags'], queryFn: () => client.get('/v1/flags') })
  const rings = useQuery({
    queryKey: ['topology', 'rings'],
    queryFn: () => client.get('/v1/rings'),
  })
  const ringNames = [...(rings.data?.rings ?? [])]
    .sort((a, b) => a.order - b.order)
    .map((r) => r.name)
  const list = (flags.data?.flags ?? []).filter((flag) => !flag.archived)
  return (
    <>
      <h1>Flags</h1>
      {flags.error ? <p role="alert">{describeError(flags.error)}</p> : null}
      <EvaluateTool flags={list} rings={ringNames} />
      {flags.data && list.length === 0 ? <p className="empty">No flag yet.</p> : null}
      {list.map((flag) => (
        <section key={flag.key} className="card" aria-labelledby={`flag-${flag.key}`}>
          <h2 id={`flag-${flag.key}`}>
            {flag.key} <span className="muted">({flag.type})</span>
          </h2>
          {flag.description ? <p>{flag.description}</p> : null}
          <p className="muted">
            Owner {flag.owner ?? '—'}
            {flag.tags.length > 0 ? `; tags ${flag.tags.join(', ')}` : ''}
            {flag.stale ? '; stale' : ''}
          </p>
          <FlagRings flag={flag} />
          <FlagMetrics flag={flag} />
        </section>
      ))}
    </>
  )
}

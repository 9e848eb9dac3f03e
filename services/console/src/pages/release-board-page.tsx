import type { AuditEvent, Deployment, ReleaseDetail, ReleaseHealth, Stage } from '@ringmaster/sdk'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { memo, useMemo, useState } from 'react'
import { Link } from 'wouter'
import { may } from '../access.js'
import { ApprovalForm } from '../components/approval-form.js'
import { TraceLink } from '../components/trace-link.js'
import { describeError, formatTime, since, until } from '../format.js'
import { useReleaseTimeline } from '../live/release-timeline.js'
import { useNow } from '../live/use-now.js'
import { useSession } from '../session/session.js'
import { BlockedByList } from './inbox-page.js'

const noReports: UnitHealth[] = []

type CellState = Deployment['state'] | 'not-started'

/** A mark beside the colour, so the state reads without colour too. */
const cellMarks: Record<CellState, string> = {
  'not-started': '·',
  pending: '…',
  in_progress: '▶',
  succeeded: '✓',
  failed: '✗',
  rolled_back: '↺',
}
const cellWords: Record<CellState, string> = {
  'not-started': 'not started',
  pending: 'pending',
  in_progress: 'deploying',
  succeeded: 'deployed',
  failed: 'failed',
  rolled_back: 'rolled back',
}

type UnitHealth = ReleaseHealth['scaleUnits'][number]
type HealthMark = 'healthy' | 'unhealthy' | 'none'

const healthMarks: Record<HealthMark, string> = { healthy: '♥', unhealthy: '⚠', none: '?' }
const healthWords: Record<HealthMark, string> = {
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  none: 'no health report',
}
const signalLimits: Record<string, keyof UnitHealth['thresholds']> = {
  errorRate: 'maxErrorRate',
  p99Ms: 'maxP99Ms',
}

/** The signals of a report against the ring's thresholds: `errorRate 0.004 (≤ 0.01)`. */
function describeSignals(health: UnitHealth): string {
  return Object.entries(health.signals)
    .map(([signal, value]) => {
      const limitName = signalLimits[signal]
      const limit = limitName ? health.thresholds[limitName] : undefined
      return `${signal} ${value}${limit === undefined ? '' : ` (≤ ${limit})`}`
    })
    .join(', ')
}

function describeHealth(health: UnitHealth): string {
  const signals = describeSignals(health)
  return `${health.status}${signals ? `, ${signals}` : ''}${health.passed ? '' : `: ${health.reasons.join('; ')}`}, reported by ${health.reportedBy} ${formatTime(health.reportedAt)}`
}

function HealthBadge({ health }: { health: UnitHealth | undefined }) {
  const mark: HealthMark = !health ? 'none' : health.passed ? 'healthy' : 'unhealthy'
  const title = health ? `Health: ${describeHealth(health)}` : 'Health: no report yet'
  return (
    <span className={`health health-${mark}`} title={title} data-health={mark}>
      <span aria-hidden="true">{healthMarks[mark]}</span>
      <span className="visually-hidden">, {healthWords[mark]}</span>
    </span>
  )
}

/** The newest deployment of each scale unit in the stage. */
function latestDeployments(stage: Stage): Map<string, Deployment> {
  const latest = new Map<string, Deployment>()
  for (const deployment of stage.deployments) {
    const seen = latest.get(deployment.scaleUnit)
    if (!seen || seen.id < deployment.id) latest.set(deployment.scaleUnit, deployment)
  }
  return latest
}

const Cell = memo(function Cell({
  scaleUnit,
  deployment,
  health,
  canRetry,
  onRetry,
}: {
  scaleUnit: string
  deployment: Deployment | undefined
  health: UnitHealth | undefined
  canRetry: boolean
  onRetry: (id: number) => void
}) {
  const state: CellState = deployment?.state ?? 'not-started'
  const title = `${scaleUnit}: ${cellWords[state]}${deployment?.message ? ` (${deployment.message})` : ''}`
  return (
    <li
      className={`cell state-${state}`}
      title={title}
      data-scale-unit={scaleUnit}
      data-state={state}
    >
      <span className="mark" aria-hidden="true">
        {cellMarks[state]}
      </span>
      {scaleUnit}
      <span className="visually-hidden">: {cellWords[state]}</span>
      <HealthBadge health={health} />
      {state === 'failed' && canRetry && deployment ? (
        <button type="button" className="secondary small" onClick={() => onRetry(deployment.id)}>
          Retry {scaleUnit}
        </button>
      ) : null}
    </li>
  )
})

function BakeCountdown({ stage }: { stage: Stage }) {
  const now = useNow(1000)
  if (stage.state !== 'baking' || !stage.bakeUntil) return null
  const end = Date.parse(stage.bakeUntil)
  const start = stage.deployedAt
    ? Date.parse(stage.deployedAt)
    : end - stage.policy.bakeMinutes * 60_000
  const total = Math.max(1, end - start)
  const done = Math.min(total, Math.max(0, now - start))
  return (
    <span className="bake">
      <label className="inline">
        Bake on {stage.ring}: {end > now ? `${until(stage.bakeUntil, now)} left` : 'done'}
        <progress max={total} value={done} />
      </label>
    </span>
  )
}

const RingRow = memo(function RingRow({
  stage,
  health,
  canRetry,
  onRetry,
}: {
  stage: Stage
  health: ReadonlyMap<string, UnitHealth>
  canRetry: boolean
  onRetry: (id: number) => void
}) {
  const latest = latestDeployments(stage)
  const policy = stage.policy
  const approval = stage.gate === 'pre' ? policy.preApproval : policy.postApproval
  return (
    <section className="board-ring" aria-label={`Ring ${stage.ring}`} data-ring={stage.ring}>
      <header>
        <h3>{stage.ring}</h3>
        <span className={`state state-${stage.state}`} data-testid={`stage-state-${stage.ring}`}>
          {stage.state.replaceAll('_', ' ')}
        </span>
        {stage.stateSince ? <span className="muted">for {since(stage.stateSince)}</span> : null}
        <span className="muted">
          {stage.currentWave >= 0 && stage.state !== 'pending'
            ? `wave ${Math.min(stage.currentWave + 1, stage.waves.length)} of ${stage.waves.length}`
            : `${stage.waves.length} wave(s)`}
        </span>
        <BakeCountdown stage={stage} />
      </header>
      <p className="muted">
        {approval
          ? `${stage.gate === 'pre' ? 'Before' : 'After'} deploying: ${approval.minApprovals} approval(s) from ${approval.role}. `
          : ''}
        Bake {policy.bakeMinutes} min, {policy.maxParallel} scale unit(s) at a time
        {policy.health.maxErrorRate !== undefined
          ? `, error rate ≤ ${policy.health.maxErrorRate}`
          : ''}
        {policy.health.maxP99Ms !== undefined ? `, p99 ≤ ${policy.health.maxP99Ms} ms` : ''}
        {policy.autoRollback ? ', rolls back on failed health' : ''}.
      </p>
      {stage.approvals.length > 0 ? (
        <ul className="approvals">
          {stage.approvals.map((given) => (
            <li key={given.id}>
              {given.decision === 'approve' ? 'Approved' : 'Rejected'} by {given.subject} (
              {given.gate}-gate) {since(given.at)} ago{given.comment ? `: “${given.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="waves">
        {stage.waves.map((wave, index) => (
          <div className="wave" key={wave.join(',')}>
            <div className="wave-label">
              Wave {index + 1}
              {index === stage.currentWave && stage.state === 'deploying' ? ' (current)' : ''}
            </div>
            <ul className="cells">
              {wave.map((scaleUnit) => (
                <Cell
                  key={scaleUnit}
                  scaleUnit={scaleUnit}
                  deployment={latest.get(scaleUnit)}
                  health={health.get(scaleUnit)}
                  canRetry={canRetry}
                  onRetry={onRetry}
                />
              ))}
            </ul>
          </div>
        ))}
      </div>
    </section>
  )
})

function Legend() {
  return (
    <ul className="legend" aria-label="Legend">
      {(Object.keys(cellMarks) as CellState[]).map((state) => (
        <li key={state} className={`cell state-${state}`}>
          <span className="mark" aria-hidden="true">
            {cellMarks[state]}
          </span>
          {cellWords[state]}
        </li>
      ))}
      {(Object.keys(healthMarks) as HealthMark[]).map((mark) => (
        <li key={mark} className={`health health-${mark}`}>
          <span aria-hidden="true">{healthMarks[mark]} </span>
          {healthWords[mark]}
        </li>
      ))}
    </ul>
  )
}

function ReleaseActions({ release }: { release: ReleaseDetail }) {
  const { client, session } = useSession()
  const queryClient = useQueryClient()
  const [reason, setReason] = useState('')
  const role = session.role
  const update = (next: unknown) => {
    if (next && typeof next === 'object' && 'stages' in next) {
      queryClient.setQueryData(['release', release.id], next)
    }
    void queryClient.invalidateQueries({ queryKey: ['release', release.id] })
    void queryClient.invalidateQueries({ queryKey: ['inbox'] })
  }
  const path = { params: { path: { id: release.id } }, body: { reason } }
  const act = useMutation({
    mutationFn: (action: 'promote' | 'halt' | 'resume' | 'rollback' | 'cancel') => {
      switch (action) {
        case 'promote':
          return client.post('/v1/releases/{id}/promote', path)
        case 'halt':
          return client.post('/v1/releases/{id}/halt', path)
        case 'resume':
          return client.post('/v1/releases/{id}/resume', path)
        case 'rollback':
          return client.post('/v1/releases/{id}/rollback', path)
        case 'cancel':
          return client.post('/v1/releases/{id}/cancel', path)
      }
    },
    onSuccess: update,
  })
  const awaiting = release.stages.find((stage) => stage.state === 'awaiting_approval')
  const open = ['queued', 'in_progress', 'halted'].includes(release.state)
  const buttons = [
    ['promote', 'Promote', may(role, 'promote') && release.state === 'in_progress'],
    [
      'halt',
      'Halt release',
      may(role, 'stop-the-line') && ['queued', 'in_progress'].includes(release.state),
    ],
    ['resume', 'Resume', may(role, 'resume') && release.state === 'halted'],
    [
      'rollback',
      'Roll back',
      may(role, 'rollback') &&
        release.state !== 'rolled_back' &&
        release.state !== 'cancelled' &&
        release.state !== 'superseded',
    ],
    ['cancel', 'Cancel release', may(role, 'cancel') && open],
  ] as const
  const shown = buttons.filter(([, , allowed]) => allowed)
  const canApprove = awaiting && may(role, 'approve')
  if (shown.length === 0 && !canApprove) return null
  return (
    <section className="card" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      {canApprove && awaiting ? (
        <div data-testid="approval-form">
          <ApprovalForm
            releaseId={release.id}
            ring={awaiting.ring}
            commentLabel={`Comment on approving ${awaiting.ring}`}
            approveLabel={`Approve ${awaiting.ring}`}
            rejectLabel={`Reject ${awaiting.ring}`}
          />
        </div>
      ) : null}
      {shown.length > 0 ? (
        <>
          <label>
            Reason (recorded in the audit trail)
            <input value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <div className="actions">
            {shown.map(([action, label]) => (
              <button
                key={action}
                type="button"
                className={action === 'promote' || action === 'resume' ? '' : 'danger'}
                disabled={act.isPending || reason.trim() === ''}
                onClick={() => act.mutate(action)}
              >
                {label}
              </button>
            ))}
          </div>
          {act.error ? <p role="alert">{describeError(act.error)}</p> : null}
        </>
      ) : null}
    </section>
  )
}

function Timeline({ events, reports }: { events: AuditEvent[]; reports: UnitHealth[] }) {
  const health = events.filter((event) => event.action === 'health-gate.failed')
  return (
    <div className="grid-2">
      <section className="card" aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        {reports.length === 0 ? (
          <p className="empty">No health report yet.</p>
        ) : (
          <ul aria-label="Latest health reports" data-testid="health-reports">
            {reports.map((report) => (
              <li key={report.scaleUnit} data-scale-unit-health={report.scaleUnit}>
                <HealthBadge health={report} /> {report.scaleUnit} ({report.ring}):{' '}
                {describeHealth(report)}
              </li>
            ))}
          </ul>
        )}
        {health.length === 0 ? (
          <p className="empty">No health gate has failed.</p>
        ) : (
          <ul>
            {health.map((event) => (
              <li key={event.id}>
                {formatTime(event.at)}: {event.action} on{' '}
                {event.subject.split(':').slice(2).join(':')} {JSON.stringify(event.data)}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">What happened</h2>
        <ol className="timeline" reversed>
          {events.slice(0, 30).map((event) => (
            <li key={event.id}>
              <time dateTime={event.at}>{formatTime(event.at)}</time> {event.action}{' '}
              <span className="muted">
                {event.subject.split(':').slice(2).join(' ')} by {event.actor}
              </span>
            </li>
          ))}
        </ol>
      </section>
    </div>
  )
}

/** The rollout board: rings × scale units, live from the release's event stream. */
export function ReleaseBoardPage({ id }: { id: number }) {
  const { client, session } = useSession()
  const queryClient = useQueryClient()
  const release = useQuery({
    queryKey: ['release', id],
    queryFn: () => client.get('/v1/releases/{id}', { params: { path: { id } } }),
  })
  const health = useQuery({
    queryKey: ['release-health', id],
    queryFn: () => client.get('/v1/releases/{id}/health', { params: { path: { id } } }),
  })
  const reports = health.data?.scaleUnits ?? noReports
  const healthByUnit = useMemo(
    () => new Map(reports.map((report) => [report.scaleUnit, report])),
    [reports],
  )
  const timeline = useReleaseTimeline(client, id)
  const retry = useMutation({
    mutationFn: (deploymentId: number) =>
      client.post('/v1/deployments/{id}/retry', { params: { path: { id: deploymentId } } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['release', id] }),
  })
  if (release.error) {
    return (
      <>
        <h1>Release {id}</h1>
        <p role="alert">{describeError(release.error)}</p>
      </>
    )
  }
  const data = release.data
  if (!data) return <p className="loading">Loading release {id}…</p>
  return (
    <>
      <p>
        <Link href="/releases">← Releases</Link>
      </p>
      <h1>
        {data.service} {data.version}{' '}
        <span className={`state state-${data.state}`} data-testid="release-state">
          {data.state.replaceAll('_', ' ')}
        </span>
      </h1>
      <dl className="facts">
        <dt>Release</dt>
        <dd>
          #{data.id} ({data.kind})
        </dd>
        <dt>Commit</dt>
        <dd>{data.commit ?? '—'}</dd>
        <dt>Requested by</dt>
        <dd>
          {data.requester}, {formatTime(data.createdAt)}
        </dd>
        <dt>Rings</dt>
        <dd>
          {data.ringFrom} → {data.ringTo}
        </dd>
        <dt>Trace</dt>
        <dd>
          <TraceLink traceId={data.traceId} />
        </dd>
        {data.halt ? (
          <>
            <dt>Halted</dt>
            <dd>
              by {data.halt.by} ({data.halt.cause.replaceAll('_', ' ')}): {data.halt.reason}
            </dd>
          </>
        ) : null}
        {data.outcome ? (
          <>
            <dt>Outcome</dt>
            <dd>{data.outcome}</dd>
          </>
        ) : null}
      </dl>
      <section className="card" aria-labelledby="blocked-by-title">
        <h2 id="blocked-by-title">Waiting for</h2>
        <BlockedByList blockedBy={data.blockedBy} />
      </section>
      <ReleaseActions release={data} />
      <h2>Rollout</h2>
      <Legend />
      {retry.error ? <p role="alert">{describeError(retry.error)}</p> : null}
      <div className="board" data-testid="board" data-events-applied={timeline.applied}>
        {data.stages.map((stage) => (
          <RingRow
            key={stage.id}
            stage={stage}
            health={healthByUnit}
            canRetry={may(session.role, 'retry-deployment')}
            onRetry={retry.mutate}
          />
        ))}
      </div>
      {health.error ? <p role="alert">{describeError(health.error)}</p> : null}
      <Timeline events={timeline.events} reports={reports} />
    </>
  )
}

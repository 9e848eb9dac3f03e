import type { BlockedBy, InboxApproval } from '@ringmaster/sdk'
import { useQuery } from '@tanstack/react-query'
import { Link } from 'wouter'
import { may } from '../access.js'
import { ApprovalForm } from '../components/approval-form.js'
import { describeError, describeExpiry, formatTime, since, until } from '../format.js'
import { useNow } from '../live/use-now.js'
import { useSession } from '../session/session.js'

export function BlockedByList({ blockedBy }: { blockedBy: readonly BlockedBy[] }) {
  if (blockedBy.length === 0) return <span className="muted">nothing: it moves on its own</span>
  return (
    <ul className="blocked">
      {blockedBy.map((blocker) => (
        <li key={`${blocker.kind}:${blocker.message}`}>
          <strong>{blocker.kind}</strong>: {blocker.message}
          {blocker.until ? ` (until ${formatTime(blocker.until)}, in ${until(blocker.until)})` : ''}
        </li>
      ))}
    </ul>
  )
}

function ApprovalCard({ item }: { item: InboxApproval }) {
  const { session } = useSession()
  const now = useNow(30_000)
  const label = `${item.service} ${item.version} into ${item.ring}`
  return (
    <li className="card" data-testid="inbox-approval">
      <h3>
        <Link href={`/releases/${item.releaseId}`}>{label}</Link>
      </h3>
      <dl className="facts">
        <dt>Commit</dt>
        <dd>{item.commit ?? '—'}</dd>
        <dt>Requested by</dt>
        <dd>{item.requester}</dd>
        <dt>Ring</dt>
        <dd>
          {item.ring} (ring {item.ringOrder},{' '}
          {item.gate === 'pre' ? 'before deploying' : 'after baking'})
        </dd>
        <dt>Waiting</dt>
        <dd>{item.awaitingSince ? since(item.awaitingSince) : '—'}</dd>
        <dt>Approvals</dt>
        <dd>
          {item.approvals} of {item.quorum} from {item.role}
          {item.approvedBy.length > 0 ? ` (${item.approvedBy.join(', ')})` : ''}
        </dd>
        <dt>Expires</dt>
        <dd data-testid="inbox-expiry">{describeExpiry(item.expiresAt, now)}</dd>
      </dl>
      {may(session.role, 'approve') ? (
        <ApprovalForm
          releaseId={item.releaseId}
          ring={item.ring}
          commentLabel={`Comment on ${label}`}
          approveLabel={`Approve ${label}`}
          rejectLabel="Reject"
        />
      ) : null}
    </li>
  )
}

/** Home: the approvals I may give, and my releases that wait, with why in words. */
export function InboxPage() {
  const { client } = useSession()
  const inbox = useQuery({
    queryKey: ['inbox'],
    queryFn: () => client.get('/v1/inbox'),
  })
  return (
    <>
      <h1>Inbox</h1>
      {inbox.error ? <p role="alert">{describeError(inbox.error)}</p> : null}
      <section aria-labelledby="approvals-title">
        <h2 id="approvals-title">Approvals waiting for you</h2>
        {inbox.data && inbox.data.approvals.length === 0 ? (
          <p className="empty">No release waits for your approval.</p>
        ) : (
          <ul className="grid-2 plain">
            {inbox.data?.approvals.map((item) => (
              <ApprovalCard key={`${item.releaseId}:${item.ring}`} item={item} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="blocked-title">
        <h2 id="blocked-title">Your releases that wait</h2>
        {inbox.data && inbox.data.blockedReleases.length === 0 ? (
          <p className="empty">None of your releases is blocked.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Release</th>
                <th scope="col">State</th>
                <th scope="col">Waiting for</th>
              </tr>
            </thead>
            <tbody>
              {inbox.data?.blockedReleases.map(({ release, blockedBy }) => (
                <tr key={release.id}>
                  <td>
                    <Link href={`/releases/${release.id}`}>
                      {release.service} {release.version}
                    </Link>
                  </td>
                  <td>
                    <span className={`state state-${release.state}`}>
                      {release.state.replaceAll('_', ' ')}
                    </span>
                    {release.currentStage ? (
                      <span className="muted">
                        {' '}
                        {release.currentStage.ring}:{' '}
                        {release.currentStage.state.replaceAll('_', ' ')}
                      </span>
                    ) : null}
                  </td>
                  <td>
                    <BlockedByList blockedBy={blockedBy} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  )
}

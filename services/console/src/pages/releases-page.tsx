import type { paths } from '@ringmaster/sdk'
import { useQuery } from '@tanstack/react-query'
import { Link, useSearch } from 'wouter'
import { navigate } from 'wouter/use-browser-location'
import { describeError, formatTime } from '../format.js'
import { useSession } from '../session/session.js'

type ReleaseState = NonNullable<
  NonNullable<paths['/v1/releases']['get']['parameters']['query']>['state']
>
const states: ReleaseState[] = [
  'queued',
  'in_progress',
  'awaiting_approval',
  'deploying',
  'baking',
  'awaiting_promotion',
  'halted',
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
  'superseded',
]

/** Every release, newest first, filtered by state (`?state=` keeps the filter in the address). */
export function ReleasesPage() {
  const { client } = useSession()
  const search = new URLSearchParams(useSearch())
  const state = (search.get('state') ?? '') as ReleaseState | ''
  const releases = useQuery({
    queryKey: ['releases', state],
    queryFn: () =>
      client.get('/v1/releases', {
        params: { query: state === '' ? {} : { state } },
      }),
  })
  return (
    <>
      <h1>Releases</h1>
      <label className="inline">
        State
        <select
          value={state}
          onChange={(e) =>
            navigate(e.target.value === '' ? '/releases' : `/releases?state=${e.target.value}`)
          }
        >
          <option value="">Any</option>
          {states.map((value) => (
            <option key={value} value={value}>
              {value.replaceAll('_', ' ')}
            </option>
          ))}
        </select>
      </label>
      {releases.error ? <p role="alert">{describeError(releases.error)}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Release</th>
            <th scope="col">Service</th>
            <th scope="col">Version</th>
            <th scope="col">State</th>
            <th scope="col">Current stage</th>
            <th scope="col">Requested by</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {releases.data?.releases.map((release) => (
            <tr key={release.id}>
              <td>
                <Link href={`/releases/${release.id}`}>#{release.id}</Link>
              </td>
              <td>{release.service}</td>
              <td>{release.version}</td>
              <td>
                <span className={`state state-${release.state}`}>
                  {release.state.replaceAll('_', ' ')}
                </span>
              </td>
              <td>
                {release.currentStage
                  ? `${release.currentStage.ring}: ${release.currentStage.state.replaceAll('_', ' ')}`
                  : '—'}
              </td>
              <td>{release.requester}</td>
              <td>{formatTime(release.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {releases.data?.releases.length === 0 ? <p className="empty">No release.</p> : null}
    </>
  )
}

import type { Ring, RingPolicy, ScaleUnit } from '@ringmaster/sdk'
import { useQuery } from '@tanstack/react-query'
import { describeError } from '../format.js'
import { useSession } from '../session/session.js'

/** A ring's promotion policy, in words. */
export function policyInWords(policy: RingPolicy): string[] {
  const words: string[] = []
  if (policy.preApproval) {
    words.push(
      `before deploying: ${policy.preApproval.minApprovals} approval(s) from ${policy.preApproval.role}, valid ${policy.preApproval.ttlHours} h`,
    )
  }
  if (policy.postApproval) {
    words.push(
      `after baking: ${policy.postApproval.minApprovals} approval(s) from ${policy.postApproval.role}`,
    )
  }
  words.push(policy.bakeMinutes > 0 ? `bakes ${policy.bakeMinutes} min` : 'no bake')
  words.push(`${policy.maxParallel} scale unit(s) at a time`)
  if (policy.health.maxErrorRate !== undefined)
    words.push(`error rate ≤ ${policy.health.maxErrorRate}`)
  if (policy.health.maxP99Ms !== undefined) words.push(`p99 ≤ ${policy.health.maxP99Ms} ms`)
  if (policy.manualPromotion) words.push('promoted by hand')
  if (policy.autoRollback) words.push('rolls back when health fails')
  return words
}

function byRegion(units: ScaleUnit[]): [string, ScaleUnit[]][] {
  const regions = new Map<string, ScaleUnit[]>()
  for (const unit of units) regions.set(unit.region, [...(regions.get(unit.region) ?? []), unit])
  return [...regions.entries()].sort(([a], [b]) => a.localeCompare(b))
}

function RingCard({ ring, units }: { ring: Ring; units: ScaleUnit[] }) {
  return (
    <section className="card" aria-labelledby={`ring-${ring.name}`}>
      <h2 id={`ring-${ring.name}`}>
        Ring {ring.order}: {ring.name}
      </h2>
      {ring.description ? <p>{ring.description}</p> : null}
      <ul>
        {policyInWords(ring.policy).map((words) => (
          <li key={words}>{words}</li>
        ))}
      </ul>
      {units.length === 0 ? (
        <p className="empty">No scale unit.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Scale units of {ring.name} by region</caption>
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">Scale unit</th>
              <th scope="col">Paired with</th>
              <th scope="col">Traffic weight</th>
              <th scope="col">Labels</th>
            </tr>
          </thead>
          <tbody>
            {byRegion(units).flatMap(([region, inRegion]) =>
              inRegion.map((unit, index) => (
                <tr key={unit.name}>
                  {index === 0 ? (
                    <th scope="rowgroup" rowSpan={inRegion.length}>
                      {region}
                    </th>
                  ) : null}
                  <td>{unit.name}</td>
                  <td>{unit.pairedWith ?? '—'}</td>
                  <td>{unit.trafficWeight}</td>
                  <td>
                    {Object.entries(unit.labels)
                      .map(([key, value]) => `${key}=${String(value)}`)
                      .join(', ') || '—'}
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
    </section>
  )
}

/** Rings in order with their policies, and their scale units by region with pairs. */
export function TopologyPage() {
  const { client } = useSession()
  const rings = useQuery({
    queryKey: ['topology', 'rings'],
    queryFn: () => client.get('/v1/rings'),
  })
  const units = useQuery({
    queryKey: ['topology', 'scale-units'],
    queryFn: () => client.get('/v1/scale-units'),
  })
  const error = rings.error ?? units.error
  return (
    <>
      <h1>Topology</h1>
      {error ? <p role="alert">{describeError(error)}</p> : null}
      {rings.data?.rings.length === 0 ? <p className="empty">No ring yet.</p> : null}
      {[...(rings.data?.rings ?? [])]
        .sort((a, b) => a.order - b.order)
        .map((ring) => (
          <RingCard
            key={ring.name}
            ring={ring}
            units={(units.data?.scaleUnits ?? []).filter((unit) => unit.ring === ring.name)}
          />
        ))}
    </>
  )
}

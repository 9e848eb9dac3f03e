import type { Clock, RingPolicyInput, RolloutSpan } from '@ringmaster/domain'
import type { ApiResponse, TestApp } from './build.js'
import { uniqueName } from './build.js'

/** A clock tests move by hand, so a 60-minute bake passes in no time. */
export class ManualClock implements Clock {
  private current: number

  constructor(start = '2026-11-23T09:00:00.000Z') {
    this.current = Date.parse(start)
  }

  now(): Date {
    return new Date(this.current)
  }

  advanceMinutes(minutes: number): void {
    this.current += minutes * 60_000
  }

  advanceSeconds(seconds: number): void {
    this.current += Math.round(seconds * 1000)
  }
}

export interface RingSpec {
  policy?: RingPolicyInput
  scaleUnits: number
  /** Pair scale unit i with i+1 for each i given. */
  pairs?: number[]
}

export interface Topology {
  service: string
  rings: string[]
  /** Scale unit names per ring, in name order. */
  scaleUnits: string[][]
}

/**
 * Rings and scale units with names no other test uses. Ring orders come from a shared counter
 * region so tests on one database never collide; each test builds its own app anyway.
 */
export async function createTopology(api: TestApp, rings: RingSpec[]): Promise<Topology> {
  const prefix = uniqueName('t')
  const service = `${prefix}-svc`
  await expectStatus(
    api.request({ method: 'POST', url: '/v1/services', body: { name: service } }),
    201,
  )
  const ringNames: string[] = []
  const unitNames: string[][] = []
  for (const [index, spec] of rings.entries()) {
    const ring = `${prefix}-ring-${index}`
    ringNames.push(ring)
    await expectStatus(
      api.request({
        method: 'POST',
        url: '/v1/rings',
        body: { name: ring, order: index, ...(spec.policy && { policy: spec.policy }) },
      }),
      201,
    )
    const units: string[] = []
    for (let unit = 0; unit < spec.scaleUnits; unit += 1) {
      const name = `${ring}-su-${String(unit).padStart(3, '0')}`
      units.push(name)
      await expectStatus(
        api.request({
          method: 'POST',
          url: '/v1/scale-units',
          body: {
            name,
            region: unit % 2 === 0 ? 'westeurope' : 'northeurope',
            ring,
            ...(spec.pairs?.includes(unit - 1) && { pairedWith: units[unit - 1] }),
          },
        }),
        201,
      )
    }
    unitNames.push(units)
  }
  return { service, rings: ringNames, scaleUnits: unitNames }
}

/** Creates a release as `token` and expects it to be accepted. */
export function createRelease(
  api: TestApp,
  token: string,
  body: Record<string, unknown>,
): Promise<ApiResponse> {
  return expectStatus(api.request({ method: 'POST', url: '/v1/releases', token, body }), 201)
}

export async function expectStatus(
  response: Promise<ApiResponse>,
  status: number,
): Promise<ApiResponse> {
  const result = await response
  if (result.status !== status) {
    throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`)
  }
  return result
}

/**
 * A built-in executor: for each scale unit, reads the desired state and completes every open
 * deployment with `result` (succeeded unless the unit is listed in `failOn`). Returns the ids done.
 */
export async function runExecutor(
  api: TestApp,
  token: string,
  scaleUnits: readonly string[],
  failOn: readonly string[] = [],
): Promise<number[]> {
  const done: number[] = []
  for (const unit of scaleUnits) {
    const desired = await expectStatus(
      api.request({ method: 'GET', url: `/v1/scale-units/${unit}/desired`, token }),
      200,
    )
    for (const deployment of desired.body.deployments as Array<{ id: number }>) {
      const result = failOn.includes(unit) ? 'failed' : 'succeeded'
      await expectStatus(
        api.request({
          method: 'POST',
          url: `/v1/deployments/${deployment.id}/complete`,
          token,
          body: { result, ...(result === 'failed' && { message: 'health probe timed out' }) },
        }),
        200,
      )
      done.push(deployment.id)
    }
  }
  await api.settle()
  return done
}

export async function getRelease(api: TestApp, id: number) {
  return (await expectStatus(api.request({ method: 'GET', url: `/v1/releases/${id}` }), 200)).body
}

/** Every rollout span recorded so far: leasing far in the future returns every row (no exporter runs in these tests). */
export async function recordedSpans(api: TestApp): Promise<RolloutSpan[]> {
  // Leasing far in the future returns every row; no exporter runs in these tests.
  return api.app.store.transaction((tx) =>
    tx.rolloutSpans.lease('2100-01-01T00:00:00.000Z', '2100-01-01T00:00:01.000Z', 10_000),
  )
}

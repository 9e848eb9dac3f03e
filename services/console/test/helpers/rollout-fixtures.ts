import type { RingmasterClient } from '@ringmaster/sdk'
import { uniqueName } from './console-harness.js'

export interface Rollout {
  service: string
  rings: string[]
  /** Scale unit names per ring. */
  scaleUnits: string[][]
}

/**
 * A service and two rings of two scale units each: ring 0 needs one approval from an approver
 * and does not bake; ring 1 takes the defaults. Named for this test only.
 */
export async function createRollout(admin: RingmasterClient, firstOrder = 0): Promise<Rollout> {
  const prefix = uniqueName('c')
  const service = `${prefix}-checkout`
  await admin.post('/v1/services', { body: { name: service } })
  const rings = [`${prefix}-ring-0`, `${prefix}-ring-1`]
  // Ring orders are unique per database; each test file has its own database.
  await admin.post('/v1/rings', {
    body: {
      name: rings[0]!,
      order: firstOrder,
      description: 'the team',
      policy: {
        preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 },
        bakeMinutes: 0,
        maxParallel: 2,
      },
    },
  })
  await admin.post('/v1/rings', {
    body: { name: rings[1]!, order: firstOrder + 1, policy: { maxParallel: 2 } },
  })
  const scaleUnits = rings.map((ring) => [`${ring}-wus2`, `${ring}-neu`])
  for (const [index, ring] of rings.entries()) {
    for (const [unit, name] of scaleUnits[index]!.entries()) {
      await admin.post('/v1/scale-units', {
        body: { name, ring, region: unit === 0 ? 'westus2' : 'northeurope' },
      })
    }
  }
  return { service, rings, scaleUnits }
}

/** What an executor on the scale unit does: takes its open deployments, starts or completes them. */
export async function reportOnScaleUnit(
  executor: RingmasterClient,
  scaleUnit: string,
  step: 'start' | 'complete',
): Promise<number> {
  const desired = await executor.get('/v1/scale-units/{name}/desired', {
    params: { path: { name: scaleUnit } },
  })
  let reported = 0
  for (const deployment of desired.deployments) {
    const id = { params: { path: { id: deployment.id } } }
    if (step === 'start' && deployment.state === 'pending') {
      await executor.post('/v1/deployments/{id}/start', id)
      reported += 1
    }
    if (step === 'complete' && deployment.state !== 'succeeded') {
      await executor.post('/v1/deployments/{id}/complete', { ...id, body: { result: 'succeeded' } })
      reported += 1
    }
  }
  return reported
}

import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { buildApp } from '@ringmaster/control-plane'
import { createTestDatabase } from '@ringmaster/db/testing'
import type { Test } from 'tap'
import { createRingmasterClient, type RingmasterClient } from '../../src/index.js'

export interface RunningControlPlane {
  url: string
  adminToken: string
  /** An SDK client over real HTTP, as the admin. */
  client: RingmasterClient
}

/**
 * The real control plane on its own fresh database (PGlite, or PostgreSQL in that pass),
 * listening on a free loopback port; closed with the test.
 */
export async function startControlPlane(t: Test): Promise<RunningControlPlane> {
  const database = await createTestDatabase()
  const adminToken = `sdk-admin-${randomUUID()}`
  const app = await buildApp({
    database: database.target,
    adminToken,
    engineIntervalMs: 0,
    webhookIntervalMs: 0,
    spanExportIntervalMs: 0,
  })
  t.teardown(async () => {
    await app.close()
    await database.dispose()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    adminToken,
    client: createRingmasterClient({ baseUrl: url, token: adminToken, userAgent: 'sdk-tests' }),
  }
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export interface Topology {
  service: string
  rings: string[]
}

/** A service and two rings of one scale unit each, named for this test only. */
export async function createTopology(client: RingmasterClient): Promise<Topology> {
  const prefix = uniqueName('sdk')
  const service = `${prefix}-svc`
  await client.post('/v1/services', { body: { name: service } })
  const rings: string[] = []
  for (const order of [0, 1]) {
    const ring = `${prefix}-ring-${order}`
    await client.post('/v1/rings', { body: { name: ring, order } })
    await client.post('/v1/scale-units', {
      body: { name: `${ring}-su-000`, region: 'westeurope', ring },
    })
    rings.push(ring)
  }
  return { service, rings }
}

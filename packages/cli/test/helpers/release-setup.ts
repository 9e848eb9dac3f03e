import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { eventually, runCli } from './cli-process.js'
import { type RunningServer, type StartServerOptions, startServer } from './server-process.js'

export interface ReleaseSetup {
  server: RunningServer
  dir: string
  service: string
  /** Scale units per ring: ring-0 has one, ring-1 two. */
  scaleUnits: string[]
  /** Environments for the pipeline (creates releases, runs agents) and a lead engineer (approves). */
  pipeline: Record<string, string>
  lead: Record<string, string>
  admin: Record<string, string>
}

/**
 * A server with two rings applied from a topology file by the CLI: ring-0 (one scale unit, one
 * approval from role approver) and ring-1 (two scale units), a service, and the tokens.
 */
export async function setUpRelease(
  t: Test,
  ring0Policy: object = {},
  serverOptions: StartServerOptions = {},
): Promise<ReleaseSetup> {
  const server = await startServer(t, serverOptions)
  const dir = mkdtempSync(join(tmpdir(), 'ringmaster-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const scaleUnits = ['team-wus2', 'prod-weu', 'prod-neu']
  writeFileSync(
    join(dir, 'topology.yaml'),
    `rings:
  - name: ring-0
    order: 0
    description: the team
    policy:
      preApproval: { role: approver, minApprovals: 1, ttlHours: 24 }
${Object.entries(ring0Policy)
  .map(([key, value]) => `      ${key}: ${JSON.stringify(value)}`)
  .join('\n')}
  - name: ring-1
    order: 1
    policy: { maxParallel: 2 }
scaleUnits:
  - { name: team-wus2, region: westus2, ring: ring-0 }
  - { name: prod-weu, region: westeurope, ring: ring-1, pairedWith: prod-neu }
  - { name: prod-neu, region: northeurope, ring: ring-1 }
`,
  )
  const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
  const applied = await runCli(t, ['topology', 'apply', '-f', join(dir, 'topology.yaml')], admin)
  if (applied.code !== 0) throw new Error(`topology apply failed: ${applied.stderr}`)
  const service = 'checkout'
  await server.call('POST', '/v1/services', { name: service })
  const pipeline = await server.call('POST', '/v1/tokens', {
    name: 'ci',
    role: 'pipeline',
    subject: 'checkout-ci',
  })
  const lead = await server.call('POST', '/v1/tokens', {
    name: 'jane',
    role: 'approver',
    subject: 'jane',
  })
  return {
    server,
    dir,
    service,
    scaleUnits,
    admin,
    pipeline: { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: pipeline.secret },
    lead: { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: lead.secret },
  }
}

export interface AuditEvent {
  id: number
  actor: string
  action: string
  subject: string
  data: Record<string, unknown>
}

/** The audit trail's events with this action, oldest first. */
export async function auditEvents(server: RunningServer, action: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = []
  let after = 0
  for (;;) {
    const page = await server.call('GET', `/v1/events?after=${after}&limit=500`)
    events.push(...page.events)
    if (page.events.length < 500) break
    after = page.nextAfter
  }
  return events.filter((event) => event.action === action)
}

/** Waits until the scale unit has a deployment to do, and returns it. */
export function pendingDeployment(
  server: RunningServer,
  scaleUnit: string,
): Promise<{ id: number; releaseId: number; kind: string; version: string | null }> {
  return eventually(`work for ${scaleUnit}`, async () => {
    const desired = await server.call('GET', `/v1/scale-units/${scaleUnit}/desired`)
    return desired.deployments.find(
      (deployment: { state: string }) => deployment.state === 'pending',
    )
  })
}

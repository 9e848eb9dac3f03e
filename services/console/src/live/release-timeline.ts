import type { AuditEvent, Deployment, ReleaseDetail, RingmasterClient } from '@ringmaster/sdk'
import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'

const deploymentStates = new Set<Deployment['state']>([
  'in_progress',
  'succeeded',
  'failed',
  'rolled_back',
])

/**
 * Applies a deployment event to the cached release at once, so the board shows every report the
 * moment it arrives; the refetch the event also causes (live-events.tsx) brings the rest (waves,
 * stage states, blockedBy). Only the stage that holds the deployment gets new objects, so only
 * its row re-renders.
 */
export function applyDeploymentEvent(
  release: ReleaseDetail | undefined,
  event: AuditEvent,
): ReleaseDetail | undefined {
  if (!release || !event.action.startsWith('deployment.')) return release
  const state = (
    event.action === 'deployment.started' ? 'in_progress' : event.action.slice(11)
  ) as Deployment['state']
  const id = (event.data as { deploymentId?: unknown }).deploymentId
  if (!deploymentStates.has(state) || typeof id !== 'number') return release
  let changed = false
  const stages = release.stages.map((stage) => {
    const index = stage.deployments.findIndex((deployment) => deployment.id === id)
    const current = stage.deployments[index]
    if (!current || current.state === state) return stage
    changed = true
    const deployments = stage.deployments.slice()
    deployments[index] = { ...current, state }
    return { ...stage, deployments }
  })
  return changed ? { ...release, stages } : release
}

/**
 * Follows the release's own events from its first (`subject=release:<id>`, `after=0`): the
 * history shown on the board, then every change as it happens.
 */
export function useReleaseTimeline(client: RingmasterClient, releaseId: number, keep = 100) {
  const queryClient = useQueryClient()
  const [events, setEvents] = useState<AuditEvent[]>([])
  const [applied, setApplied] = useState(0)
  useEffect(() => {
    const stop = new AbortController()
    setEvents([])
    // Events are applied in batches, one per frame: a burst (the history, 100 reports a second)
    // costs one render per frame instead of one per event, and none is skipped.
    let batch: AuditEvent[] = []
    let scheduled = false
    const flush = () => {
      scheduled = false
      const arrived = batch
      batch = []
      if (arrived.length === 0 || stop.signal.aborted) return
      queryClient.setQueryData<ReleaseDetail>(['release', releaseId], (release) =>
        arrived.reduce(applyDeploymentEvent, release),
      )
      setApplied((count) => count + arrived.length)
      setEvents((previous) => [...arrived.slice(-keep).reverse(), ...previous].slice(0, keep))
    }
    const follow = async () => {
      const stream = client.events({
        after: 0,
        subject: `release:${releaseId}`,
        signal: stop.signal,
        retry: { retries: 1000, minDelayMs: 500, maxDelayMs: 5000 },
      })
      try {
        for await (const event of stream) {
          batch.push(event)
          if (!scheduled) {
            scheduled = true
            requestAnimationFrame(flush)
          }
        }
      } catch {
        // The global stream reports a lost session; the board keeps what it has.
      }
    }
    void follow()
    return () => stop.abort()
  }, [client, queryClient, releaseId, keep])
  return { events, applied }
}

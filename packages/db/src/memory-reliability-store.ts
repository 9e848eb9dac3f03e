import type {
  Deployment,
  Incident,
  Release,
  ReliabilityRecordRepository,
  Stage,
} from '@ringmaster/domain'

interface ReliabilitySources {
  releases: Map<number, Release>
  stages: Map<number, Stage>
  deployments: Map<number, Deployment>
  incidents: Map<number, Incident>
}

/** The reliability report's reads over the in-memory tables, with the database's edges. */
export function memoryReliabilityRecordRepository(
  state: () => ReliabilitySources,
): ReliabilityRecordRepository {
  const at = (value: string) => Date.parse(value)
  const latest = (values: Array<string | null>): string | null =>
    values.reduce<string | null>(
      (last, value) => (value !== null && (last === null || at(value) > at(last)) ? value : last),
      null,
    )
  const earliest = (values: string[]): string | null =>
    values.reduce<string | null>(
      (first, value) => (first === null || at(value) < at(first) ? value : first),
      null,
    )
  return {
    async listRingArrivals(filter) {
      const s = state()
      return [...s.stages.values()]
        .filter((stage) => stage.ring === filter.ring && stage.deployedAt !== null)
        .filter(
          (stage) =>
            at(stage.deployedAt!) >= at(filter.from) && at(stage.deployedAt!) < at(filter.to),
        )
        .map((stage) => ({ stage, release: s.releases.get(stage.releaseId)! }))
        .filter(({ release }) => filter.service === undefined || release.service === filter.service)
        .sort(
          (a, b) =>
            at(a.stage.deployedAt!) - at(b.stage.deployedAt!) || a.release.id - b.release.id,
        )
        .map(({ stage, release }) => {
          const rollbacks = [...s.deployments.values()].filter(
            (d) => d.releaseId === release.id && d.kind === 'rollback',
          )
          const blames = [...s.incidents.values()].filter((i) => i.releaseId === release.id)
          return {
            releaseId: release.id,
            service: release.service,
            ring: stage.ring,
            kind: release.kind,
            fixesIncidentId: release.incidentId,
            commitTime: release.commitTime,
            reachedAt: stage.deployedAt!,
            rolledBackAt: release.state === 'rolled_back' ? release.finishedAt : null,
            openRollbackDeployments: rollbacks.filter(
              (d) => d.state !== 'succeeded' && d.state !== 'rolled_back',
            ).length,
            lastRollbackFinishedAt: latest(rollbacks.map((d) => d.finishedAt)),
            blamingIncidents: blames.length,
            openBlamingIncidents: blames.filter((i) => i.resolvedAt === null).length,
            firstBlameDetectedAt: earliest(blames.map((i) => i.detectedAt)),
            lastBlameResolvedAt: latest(blames.map((i) => i.resolvedAt)),
          }
        })
    },
    async listIncidents(filter) {
      return [...state().incidents.values()]
        .filter((i) => at(i.startedAt) < at(filter.to))
        .filter((i) => i.resolvedAt === null || at(i.resolvedAt) >= at(filter.from))
        .filter((i) => filter.service === undefined || i.service === filter.service)
        .filter((i) => filter.ring === undefined || i.ring === null || i.ring === filter.ring)
        .sort((a, b) => at(a.detectedAt) - at(b.detectedAt) || a.id - b.id)
        .map((i) => ({
          id: i.id,
          service: i.service,
          ring: i.ring,
          trafficShare: i.trafficShare,
          startedAt: i.startedAt,
          detectedAt: i.detectedAt,
          resolvedAt: i.resolvedAt,
        }))
    },
  }
}

import { randomUUID } from 'node:crypto'
import type {
  ApiToken,
  Approval,
  AuditEvent,
  Clock,
  Deployment,
  FreezeWindow,
  Halt,
  HealthReport,
  IdempotencyClaim,
  Incident,
  Release,
  ReleaseStoreTransaction,
  Ring,
  RolloutSpan,
  ScaleUnit,
  Service,
  Stage,
  Store,
  StoredApiToken,
  StoreTransaction,
} from '@ringmaster/domain'
import { activeReleaseStates, openDeploymentStates, systemClock } from '@ringmaster/domain'
import {
  dropRingStates,
  type MemoryFlagState,
  memoryFlagRepositories,
} from './memory-flag-store.js'
import { memoryIncidentRepository } from './memory-incident-store.js'
import { memoryReliabilityRecordRepository } from './memory-reliability-store.js'
import { memoryRolloutSpanRepository } from './memory-rollout-span-store.js'
import {
  type MemoryWebhook,
  type MemoryWebhookDelivery,
  memoryWebhookRepository,
  newMemoryDelivery,
} from './memory-webhook-store.js'

/** A release with what only the engine's lease and schedule need. */
interface StoredRelease extends Release {
  nextCheckAt: string | null
  leaseOwner: string | null
  leaseUntil: string | null
}

interface MemoryState extends Omit<MemoryFlagState, 'rings'> {
  services: Map<string, Service>
  rings: Map<string, Omit<Ring, 'scaleUnits'>>
  scaleUnits: Map<string, ScaleUnit>
  apiTokens: Map<string, StoredApiToken>
  auditEvents: AuditEvent[]
  idempotency: Map<string, { fingerprint: string; result: unknown }>
  sequence: number
  releases: Map<number, StoredRelease>
  stages: Map<number, Stage>
  deployments: Map<number, Deployment>
  approvals: Map<number, Approval>
  halts: Map<number, Halt>
  freezeWindows: Map<number, FreezeWindow>
  healthReports: Map<number, HealthReport>
  /** Keyed by service and scale unit. */
  installedVersions: Map<string, string>
  webhooks: Map<number, MemoryWebhook>
  webhookDeliveries: Map<number, MemoryWebhookDelivery>
  incidents: Map<number, Incident>
  rolloutSpans: Map<number, RolloutSpan>
  /** The last id handed out per table, like the database's bigserial sequences. */
  ids: Record<NumberedTable, number>
}

type NumberedTable =
  | 'releases'
  | 'stages'
  | 'deployments'
  | 'approvals'
  | 'halts'
  | 'freezeWindows'
  | 'healthReports'
  | 'webhooks'
  | 'webhookDeliveries'
  | 'segments'
  | 'incidents'
  | 'rolloutSpans'

function nextNumber(state: MemoryState, table: NumberedTable): number {
  state.ids[table] += 1
  return state.ids[table]
}

/**
 * The in-memory fake behind the domain's repository interfaces, for domain tests. Transactions
 * run one at a time on a copy of the state that replaces it only when the work succeeds, so a
 * failed command leaves nothing behind, as in the database.
 */
export class MemoryStore implements Store {
  private state: MemoryState = {
    services: new Map(),
    rings: new Map(),
    scaleUnits: new Map(),
    apiTokens: new Map(),
    auditEvents: [],
    idempotency: new Map(),
    sequence: 0,
    releases: new Map(),
    stages: new Map(),
    deployments: new Map(),
    approvals: new Map(),
    halts: new Map(),
    freezeWindows: new Map(),
    healthReports: new Map(),
    installedVersions: new Map(),
    webhooks: new Map(),
    webhookDeliveries: new Map(),
    incidents: new Map(),
    rolloutSpans: new Map(),
    flags: new Map(),
    segments: new Map(),
    flagRevisions: new Map(),
    flagChanges: [],
    flagMetrics: new Map(),
    sdkRegistrations: new Map(),
    ids: {
      releases: 0,
      stages: 0,
      deployments: 0,
      approvals: 0,
      halts: 0,
      freezeWindows: 0,
      healthReports: 0,
      webhooks: 0,
      webhookDeliveries: 0,
      segments: 0,
      incidents: 0,
      rolloutSpans: 0,
    },
  }
  private queue: Promise<unknown> = Promise.resolve()

  readonly read: StoreTransaction

  constructor(private readonly clock: Clock = systemClock) {
    this.read = memoryRepositories(() => this.state, clock)
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.serialized((draft) => work(memoryRepositories(() => draft, this.clock)))
  }

  private serialized<T>(work: (draft: MemoryState) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const draft = structuredClone(this.state)
      const result = await work(draft)
      this.state = draft
      return structuredClone(result)
    }
    const next = this.queue.then(run, run)
    this.queue = next.catch(() => undefined)
    return next
  }
}

function memoryRepositories(state: () => MemoryState, clock: Clock): StoreTransaction {
  const now = () => clock.now().toISOString()
  const nextId = () => {
    const s = state()
    s.sequence += 1
    return `00000000-0000-4000-8000-${s.sequence.toString(16).padStart(12, '0')}`
  }
  const ringView = (ring: Omit<Ring, 'scaleUnits'>): Ring => ({
    ...structuredClone(ring),
    scaleUnits: [...state().scaleUnits.values()]
      .filter((unit) => unit.ring === ring.name)
      .map((unit) => unit.name)
      .sort(),
  })
  const publicToken = ({ secretHash: _hash, ...token }: StoredApiToken): ApiToken =>
    structuredClone(token)

  return {
    services: {
      async insert(input) {
        const service = { ...input, createdAt: now(), updatedAt: now() }
        state().services.set(service.name, service)
        return structuredClone(service)
      },
      // Transactions already run one at a time here, so there is nothing to lock.
      async findByName(name, _options) {
        const service = state().services.get(name)
        return service ? structuredClone(service) : null
      },
      async list() {
        return [...state().services.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((service) => structuredClone(service))
      },
    },
    rings: {
      async insert(input) {
        const ring = { ...input, createdAt: now(), updatedAt: now() }
        state().rings.set(ring.name, ring)
        return ringView(ring)
      },
      async findByName(name) {
        const ring = state().rings.get(name)
        return ring ? ringView(ring) : null
      },
      async findByOrder(order) {
        const ring = [...state().rings.values()].find((candidate) => candidate.order === order)
        return ring ? ringView(ring) : null
      },
      async list() {
        return [...state().rings.values()].sort((a, b) => a.order - b.order).map(ringView)
      },
      async update(name, change) {
        const ring = { ...state().rings.get(name)!, ...change, updatedAt: now() }
        state().rings.set(name, ring)
        return ringView(ring)
      },
      async delete(name) {
        state().rings.delete(name)
        dropRingStates(state().flags, name)
      },
    },
    scaleUnits: {
      async insert(input) {
        const scaleUnit = { ...input, createdAt: now(), updatedAt: now() }
        state().scaleUnits.set(scaleUnit.name, scaleUnit)
        return structuredClone(scaleUnit)
      },
      async findByName(name) {
        const scaleUnit = state().scaleUnits.get(name)
        return scaleUnit ? structuredClone(scaleUnit) : null
      },
      async list(filter) {
        const orderOf = (ring: string) => state().rings.get(ring)?.order ?? 0
        return [...state().scaleUnits.values()]
          .filter((unit) => filter.ring === undefined || unit.ring === filter.ring)
          .filter((unit) => filter.region === undefined || unit.region === filter.region)
          .sort((a, b) => orderOf(a.ring) - orderOf(b.ring) || a.name.localeCompare(b.name))
          .map((unit) => structuredClone(unit))
      },
      async update(name, change) {
        const scaleUnit = { ...state().scaleUnits.get(name)!, ...change, updatedAt: now() }
        state().scaleUnits.set(name, scaleUnit)
        return structuredClone(scaleUnit)
      },
      async delete(name) {
        state().scaleUnits.delete(name)
      },
    },
    apiTokens: {
      async insert(input) {
        const token: StoredApiToken = {
          ...input,
          id: nextId(),
          createdAt: now(),
          lastUsedAt: null,
          revokedAt: null,
        }
        state().apiTokens.set(token.id, token)
        return publicToken(token)
      },
      async findById(id) {
        const token = state().apiTokens.get(id)
        return token ? publicToken(token) : null
      },
      async findLiveByPrefix(prefix) {
        return [...state().apiTokens.values()]
          .filter((token) => token.prefix === prefix && token.revokedAt === null)
          .map((token) => structuredClone(token))
      },
      async list() {
        return [...state().apiTokens.values()].map(publicToken)
      },
      async countLiveWithRole(role, _options) {
        return [...state().apiTokens.values()].filter(
          (token) => token.role === role && token.revokedAt === null,
        ).length
      },
      // Transactions of the memory store already run one at a time.
      async lockAdminBootstrap() {},
      async revoke(id, at) {
        const token = { ...state().apiTokens.get(id)!, revokedAt: at }
        state().apiTokens.set(id, token)
        return publicToken(token)
      },
      async touch(id, at) {
        const token = state().apiTokens.get(id)
        if (token) token.lastUsedAt = at
      },
    },
    auditLog: {
      async append(input) {
        const events = state().auditEvents
        const event = { ...structuredClone(input), id: events.length + 1, at: now() }
        events.push(event)
      },
      async listAfter(after, limit) {
        return state()
          .auditEvents.filter((event) => event.id > after)
          .slice(0, limit)
          .map((event) => structuredClone(event))
      },
    },
    idempotency: {
      async claim(scope, key, fingerprint): Promise<IdempotencyClaim> {
        const existing = state().idempotency.get(`${scope}\u0000${key}`)
        if (!existing) {
          state().idempotency.set(`${scope}\u0000${key}`, { fingerprint, result: null })
          return { outcome: 'claimed' }
        }
        if (existing.fingerprint !== fingerprint) return { outcome: 'mismatch' }
        return { outcome: 'replay', result: structuredClone(existing.result) }
      },
      async complete(scope, key, result) {
        const existing = state().idempotency.get(`${scope}\u0000${key}`)!
        existing.result = structuredClone(result)
      },
    },
    webhookOutbox: {
      async enqueueMany(service, event, payloads) {
        for (const payload of payloads) await this.enqueue(service, event, payload)
      },
      async enqueue(service, event, payload) {
        const s = state()
        for (const webhook of s.webhooks.values()) {
          if (webhook.service !== service || webhook.disabledAt !== null) continue
          if (webhook.events.length > 0 && !webhook.events.includes(event)) continue
          const id = nextNumber(s, 'webhookDeliveries')
          s.webhookDeliveries.set(
            id,
            newMemoryDelivery({ id, webhookId: webhook.id, event, payload }, now()),
          )
        }
      },
    },
    webhooks: memoryWebhookRepository(state, now, (table) => nextNumber(state(), table)),
    incidents: memoryIncidentRepository(
      () => state().incidents,
      now,
      () => nextNumber(state(), 'incidents'),
    ),
    rolloutSpans: memoryRolloutSpanRepository(
      () => state().rolloutSpans,
      () => nextNumber(state(), 'rolloutSpans'),
    ),
    reliabilityRecords: memoryReliabilityRecordRepository(state),
    ...memoryReleaseRepositories(state, now),
    ...memoryFlagRepositories(state, now, () => nextNumber(state(), 'segments')),
  }
}

function memoryReleaseRepositories(
  state: () => MemoryState,
  now: () => string,
): ReleaseStoreTransaction {
  const copy = <T>(value: T): T => structuredClone(value)
  /** Incidents point at the halt they opened; a halt is read with that incident's id. */
  const withIncident = (halt: Halt): Halt => {
    const ids = [...state().incidents.values()]
      .filter((incident) => incident.haltId === halt.id)
      .map((incident) => incident.id)
    return { ...copy(halt), incidentId: ids.length > 0 ? Math.min(...ids) : null }
  }
  const publicRelease = ({
    nextCheckAt: _next,
    leaseOwner: _owner,
    leaseUntil: _until,
    ...release
  }: StoredRelease): Release => copy(release)
  const deploymentKey = (d: Pick<Deployment, 'stageId' | 'scaleUnit' | 'kind'>) =>
    `${d.stageId}\u0000${d.scaleUnit}\u0000${d.kind}`
  const versionKey = (service: string, scaleUnit: string) => `${service}\u0000${scaleUnit}`
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id
  // A timestamptz comes back from the database in UTC with milliseconds; so it does here.
  const utc = <T extends string | null | undefined>(value: T): T =>
    (typeof value === 'string' ? new Date(value).toISOString() : value) as T
  /** The defined fields of a change, its times as the database would return them. */
  const definedFields = <T extends object>(change: T): Partial<T> =>
    Object.fromEntries(
      Object.entries(change)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [
          key,
          key.endsWith('At') || key === 'bakeUntil' ? utc(value) : value,
        ]),
    ) as Partial<T>

  return {
    releases: {
      async insert(input) {
        const s = state()
        const release: StoredRelease = {
          ...copy(input),
          commitTime: utc(input.commitTime),
          id: nextNumber(s, 'releases'),
          state: 'queued',
          halt: null,
          outcome: null,
          traceId: randomUUID().replaceAll('-', ''),
          createdAt: utc(input.createdAt),
          updatedAt: utc(input.createdAt),
          finishedAt: null,
          nextCheckAt: null,
          leaseOwner: null,
          leaseUntil: null,
        }
        s.releases.set(release.id, release)
        return publicRelease(release)
      },
      // Transactions already run one at a time here, so there is nothing to lock.
      async findById(id, _options) {
        const release = state().releases.get(id)
        return release ? publicRelease(release) : null
      },
      async list(filter) {
        return [...state().releases.values()]
          .filter((release) => filter.service === undefined || release.service === filter.service)
          .filter((release) => filter.version === undefined || release.version === filter.version)
          .filter((release) => filter.states === undefined || filter.states.includes(release.state))
          .filter((release) => filter.beforeId === undefined || release.id < filter.beforeId)
          .sort((a, b) => b.id - a.id)
          .slice(0, filter.limit)
          .map(publicRelease)
      },
      async update(id, change) {
        const s = state()
        const release: StoredRelease = {
          ...s.releases.get(id)!,
          ...copy(definedFields(change)),
          ...(change.nextCheckAt !== undefined && { leaseOwner: null, leaseUntil: null }),
          updatedAt: now(),
        }
        s.releases.set(id, release)
        return publicRelease(release)
      },
      async leaseDue(owner, at, leaseUntil, limit) {
        const due = Date.parse(at)
        const leased = [...state().releases.values()]
          .filter((release) => release.state === 'queued' || release.state === 'in_progress')
          .filter((r) => r.nextCheckAt === null || Date.parse(r.nextCheckAt) <= due)
          .filter(
            (r) =>
              r.leaseUntil === null || Date.parse(r.leaseUntil) < due || r.leaseOwner === owner,
          )
          .sort(byId)
          .slice(0, limit)
        for (const release of leased) {
          release.leaseOwner = owner
          release.leaseUntil = utc(leaseUntil)
        }
        return leased.map((release) => release.id)
      },
    },
    stages: {
      async insertMany(inputs) {
        const s = state()
        return inputs.map((input) => {
          const stage: Stage = {
            ...copy(input),
            id: nextNumber(s, 'stages'),
            state: 'pending',
            currentWave: -1,
            gate: null,
            stateSince: null,
            waveStartedAt: null,
            startedAt: null,
            deployedAt: null,
            bakeUntil: null,
            finishedAt: null,
            freezeOverride: null,
          }
          s.stages.set(stage.id, stage)
          return copy(stage)
        })
      },
      async listByRelease(releaseId) {
        return [...state().stages.values()]
          .filter((stage) => stage.releaseId === releaseId)
          .sort((a, b) => a.position - b.position)
          .map(copy)
      },
      async update(id, change) {
        const s = state()
        const stage = { ...s.stages.get(id)!, ...copy(definedFields(change)) }
        s.stages.set(id, stage)
        return copy(stage)
      },
      async findRingHolders(service, ring, states, excludeReleaseId) {
        const s = state()
        return [...s.stages.values()]
          .filter((stage) => stage.ring === ring && states.includes(stage.state))
          .filter((stage) => {
            const release = s.releases.get(stage.releaseId)
            return (
              release !== undefined &&
              release.id !== excludeReleaseId &&
              release.service === service &&
              activeReleaseStates.includes(release.state)
            )
          })
          .sort((a, b) => a.releaseId - b.releaseId || a.position - b.position)
          .map((stage) => ({ releaseId: stage.releaseId, state: stage.state }))
      },
    },
    deployments: {
      async insertMany(inputs) {
        const s = state()
        const taken = new Set([...s.deployments.values()].map(deploymentKey))
        const created: Deployment[] = []
        for (const input of inputs) {
          // The database's unique index: a repeated deployment is skipped, not an error.
          if (taken.has(deploymentKey(input))) continue
          taken.add(deploymentKey(input))
          const deployment: Deployment = {
            ...copy(input),
            id: nextNumber(s, 'deployments'),
            state: 'pending',
            attempt: 1,
            message: null,
            logsUrl: null,
            createdAt: now(),
            requestedAt: utc(input.requestedAt),
            startedAt: null,
            finishedAt: null,
          }
          s.deployments.set(deployment.id, deployment)
          created.push(copy(deployment))
        }
        return created
      },
      async findById(id, _options) {
        const deployment = state().deployments.get(id)
        return deployment ? copy(deployment) : null
      },
      async listByRelease(releaseId) {
        return [...state().deployments.values()]
          .filter((deployment) => deployment.releaseId === releaseId)
          .map(copy)
      },
      async listByStageWave(stageId, wave) {
        return [...state().deployments.values()]
          .filter((d) => d.stageId === stageId && d.wave === wave && d.kind === 'deploy')
          .map(copy)
      },
      async listOpenForScaleUnit(scaleUnit) {
        return [...state().deployments.values()]
          .filter((d) => d.scaleUnit === scaleUnit && openDeploymentStates.includes(d.state))
          .map(copy)
      },
      async listHealthGated(service, scaleUnit) {
        const s = state()
        return [...s.deployments.values()]
          .filter(
            (d) =>
              d.service === service &&
              d.scaleUnit === scaleUnit &&
              d.kind === 'deploy' &&
              d.state === 'succeeded',
          )
          .filter((d) => {
            const stage = s.stages.get(d.stageId)
            return stage?.state === 'deploying' || stage?.state === 'baking'
          })
          .filter((d) => s.releases.get(d.releaseId)?.state === 'in_progress')
          .map(copy)
      },
      async update(id, change) {
        const s = state()
        const deployment = { ...s.deployments.get(id)!, ...copy(definedFields(change)) }
        s.deployments.set(id, deployment)
        return copy(deployment)
      },
      async withdrawPending(releaseId, message, at) {
        let withdrawn = 0
        for (const deployment of state().deployments.values()) {
          if (deployment.releaseId !== releaseId || deployment.state !== 'pending') continue
          deployment.state = 'rolled_back'
          deployment.message = message
          deployment.finishedAt = utc(at)
          withdrawn += 1
        }
        return withdrawn
      },
    },
    approvals: {
      async insert(input) {
        const s = state()
        const approval: Approval = { ...copy(input), id: nextNumber(s, 'approvals'), at: now() }
        s.approvals.set(approval.id, approval)
        return copy(approval)
      },
      async listByStage(stageId) {
        return [...state().approvals.values()]
          .filter((approval) => approval.stageId === stageId)
          .map(copy)
      },
      async listByRelease(releaseId) {
        return [...state().approvals.values()]
          .filter((approval) => approval.releaseId === releaseId)
          .map(copy)
      },
    },
    halts: {
      // Transactions already run one at a time here: the line is always locked for the caller.
      async lockLine(_mode) {},
      async insert(input) {
        const s = state()
        const halt: Halt = {
          ...copy(input),
          id: nextNumber(s, 'halts'),
          createdAt: input.createdAt ?? now(),
          liftedBy: null,
          liftedAt: null,
          incidentId: null,
        }
        s.halts.set(halt.id, halt)
        return copy(halt)
      },
      async findById(id, _options) {
        const halt = state().halts.get(id)
        return halt ? withIncident(halt) : null
      },
      async listActive() {
        return [...state().halts.values()]
          .filter((halt) => halt.liftedAt === null)
          .map(withIncident)
      },
      async list(limit) {
        return [...state().halts.values()]
          .sort((a, b) => b.id - a.id)
          .slice(0, limit)
          .map(withIncident)
      },
      async lift(id, by, at) {
        const s = state()
        const halt = { ...s.halts.get(id)!, liftedBy: by, liftedAt: utc(at) }
        s.halts.set(id, halt)
        return withIncident(halt)
      },
    },
    freezeWindows: {
      async insert(input) {
        const s = state()
        const window: FreezeWindow = {
          ...copy(input),
          startsAt: utc(input.startsAt),
          endsAt: utc(input.endsAt),
          id: nextNumber(s, 'freezeWindows'),
          createdAt: now(),
        }
        s.freezeWindows.set(window.id, window)
        return copy(window)
      },
      async findById(id) {
        const window = state().freezeWindows.get(id)
        return window ? copy(window) : null
      },
      async list() {
        return [...state().freezeWindows.values()].map(copy)
      },
      async delete(id) {
        state().freezeWindows.delete(id)
      },
    },
    healthReports: {
      async insert(input) {
        const s = state()
        const report: HealthReport = {
          ...copy(input),
          id: nextNumber(s, 'healthReports'),
          at: utc(input.at),
        }
        s.healthReports.set(report.id, report)
        return copy(report)
      },
      async listRecent(filter) {
        return [...state().healthReports.values()]
          .filter((report) => filter.service === undefined || report.service === filter.service)
          .filter(
            (report) => filter.scaleUnit === undefined || report.scaleUnit === filter.scaleUnit,
          )
          .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id - a.id)
          .slice(0, filter.limit)
          .map(copy)
      },
    },
    installedVersions: {
      async getMany(service, scaleUnits) {
        const versions = new Map<string, string>()
        for (const scaleUnit of scaleUnits) {
          const version = state().installedVersions.get(versionKey(service, scaleUnit))
          if (version !== undefined) versions.set(scaleUnit, version)
        }
        return versions
      },
      async listForScaleUnit(scaleUnit) {
        const versions: Record<string, string> = {}
        for (const [key, version] of [...state().installedVersions].sort(([a], [b]) =>
          a.localeCompare(b),
        )) {
          const [service, unit] = key.split('\u0000') as [string, string]
          if (unit === scaleUnit) versions[service] = version
        }
        return versions
      },
      async set(service, scaleUnit, version) {
        if (version === null) state().installedVersions.delete(versionKey(service, scaleUnit))
        else state().installedVersions.set(versionKey(service, scaleUnit), version)
      },
    },
  }
}

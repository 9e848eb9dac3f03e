import type { ApiToken, NewApiToken, StoredApiToken } from './api-token.js'
import type { AuditEvent, NewAuditEvent } from './audit-event.js'
import type {
  ConsoleSessionRepository,
  ServerSecretRepository,
} from './console-session/console-session.js'
import type { FlagStoreTransaction } from './flag/flag-store.js'
import type { IncidentRepository } from './incident/incident.js'
import type { ReadOptions } from './read-options.js'
import type { ReleaseStoreTransaction } from './release/release-store.js'
import type { ReliabilityRecordRepository } from './report/reliability-records.js'
import type {
  NewRing,
  NewScaleUnit,
  NewService,
  Ring,
  RingChange,
  ScaleUnit,
  ScaleUnitChange,
  ScaleUnitFilter,
  Service,
} from './topology.js'
import type { RolloutSpanRepository } from './trace/rollout-span.js'
import type { WebhookRepository } from './webhook/webhook-store.js'

export interface ServiceRepository {
  insert(service: NewService): Promise<Service>
  /** With `forUpdate`, serializes every change to the service's releases (see ReleaseEngine). */
  findByName(name: string, options?: ReadOptions): Promise<Service | null>
  list(): Promise<Service[]>
}

export interface RingRepository {
  insert(ring: NewRing): Promise<Ring>
  findByName(name: string): Promise<Ring | null>
  findByOrder(order: number): Promise<Ring | null>
  list(): Promise<Ring[]>
  update(name: string, change: RingChange): Promise<Ring>
  delete(name: string): Promise<void>
}

export interface ScaleUnitRepository {
  insert(scaleUnit: NewScaleUnit): Promise<ScaleUnit>
  findByName(name: string, options?: ReadOptions): Promise<ScaleUnit | null>
  list(filter: ScaleUnitFilter): Promise<ScaleUnit[]>
  update(name: string, change: ScaleUnitChange): Promise<ScaleUnit>
  delete(name: string): Promise<void>
}

export interface ApiTokenRepository {
  insert(token: NewApiToken): Promise<ApiToken>
  findById(id: string): Promise<ApiToken | null>
  /** Live (not revoked) tokens whose stored prefix equals `prefix`. */
  findLiveByPrefix(prefix: string): Promise<StoredApiToken[]>
  list(): Promise<ApiToken[]>
  countLiveWithRole(role: ApiToken['role'], options?: ReadOptions): Promise<number>
  /**
   * Makes admin bootstraps take turns: held until the transaction ends, so a replica starting at
   * the same time as another sees the admin token the first one stored and does not add its own.
   */
  lockAdminBootstrap(): Promise<void>
  revoke(id: string, at: string): Promise<ApiToken>
  touch(id: string, at: string): Promise<void>
}

export interface AuditLog {
  /**
   * Records `event` with the transaction: it gets its id and `at` when the transaction commits,
   * after every event committed before it, so ids and `at` both follow commit order.
   */
  append(event: NewAuditEvent): Promise<void>
  listAfter(after: number, limit: number): Promise<AuditEvent[]>
}

export type IdempotencyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'replay'; result: unknown }
  | { outcome: 'mismatch' }

export interface IdempotencyRepository {
  /**
   * Claims `key` for this scope inside the current transaction. A concurrent claim of the same key
   * waits until the first transaction ends, then sees its stored response.
   */
  claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim>
  complete(scope: string, key: string, result: unknown): Promise<void>
}

/** Push delivery to executors: rows written with the change, sent after it commits. */
export interface WebhookOutbox {
  /**
   * Queues one signed delivery of `event` to every enabled webhook of `service` that wants it
   * (`webhookWants`: an empty list, `*`, the event's kind as `kind.*`, or its name), in the current
   * transaction, so a change and its notifications commit (or vanish) together.
   */
  enqueue(service: string, event: string, payload: Record<string, unknown>): Promise<void>
  /** `enqueue` for many payloads of one event in one statement (a wave's deployments). */
  enqueueMany(service: string, event: string, payloads: Record<string, unknown>[]): Promise<void>
  /** `enqueue` to the webhooks of every service (a halt of the whole line or of a ring). */
  enqueueForEveryService(event: string, payload: Record<string, unknown>): Promise<void>
}

/** The repositories as seen from inside one transaction. */
export interface StoreTransaction extends ReleaseStoreTransaction, FlagStoreTransaction {
  services: ServiceRepository
  rings: RingRepository
  scaleUnits: ScaleUnitRepository
  apiTokens: ApiTokenRepository
  consoleSessions: ConsoleSessionRepository
  serverSecrets: ServerSecretRepository
  auditLog: AuditLog
  idempotency: IdempotencyRepository
  webhookOutbox: WebhookOutbox
  webhooks: WebhookRepository
  incidents: IncidentRepository
  rolloutSpans: RolloutSpanRepository
  reliabilityRecords: ReliabilityRecordRepository
}

export interface Store {
  /** Runs `work` in one transaction: everything it wrote commits together or not at all. */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>
  /** Reads that need no transaction. */
  read: StoreTransaction
}

import type {
  ApiToken,
  AuditEvent,
  Clock,
  IdempotencyClaim,
  Ring,
  ScaleUnit,
  Service,
  Store,
  StoredApiToken,
  StoreTransaction,
} from '@ringmaster/domain'
import { systemClock } from '@ringmaster/domain'

interface MemoryState {
  services: Map<string, Service>
  rings: Map<string, Omit<Ring, 'scaleUnits'>>
  scaleUnits: Map<string, ScaleUnit>
  apiTokens: Map<string, StoredApiToken>
  auditEvents: AuditEvent[]
  idempotency: Map<string, { fingerprint: string; result: unknown }>
  sequence: number
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
  }
  private queue: Promise<unknown> = Promise.resolve()

  readonly read: StoreTransaction

  constructor(private readonly clock: Clock = systemClock) {
    this.read = memoryRepositories(() => this.state, clock)
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const draft = structuredClone(this.state)
      const result = await work(memoryRepositories(() => draft, this.clock))
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
      async findByName(name) {
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
        return structuredClone(event)
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
  }
}

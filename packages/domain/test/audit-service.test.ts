import t from 'tap'
import type { AuditEvent } from '../src/audit-event.js'
import { AuditService, maxAuditPageSize } from '../src/audit-service.js'
import type { Store } from '../src/store.js'

const event = (id: number): AuditEvent => ({
  id,
  at: new Date(Date.UTC(2030, 0, 1, 0, 0, id)).toISOString(),
  actor: 'alice',
  action: 'service.created',
  subject: `service:svc-${id}`,
  data: {},
  requestId: null,
})

/** An audit log of `count` events; records the limit each read asked for. */
function storeWith(count: number): { store: Store; limits: number[] } {
  const events = Array.from({ length: count }, (_, index) => event(index + 1))
  const limits: number[] = []
  const auditLog = {
    append: async () => {
      throw new Error('not used')
    },
    listAfter: async (after: number, limit: number) => {
      limits.push(limit)
      return events.filter((candidate) => candidate.id > after).slice(0, limit)
    },
  }
  // AuditService only reads the audit log.
  return { store: { read: { auditLog } } as unknown as Store, limits }
}

t.test('pages carry the cursor for the next page', async (t) => {
  const { store } = storeWith(5)
  const audit = new AuditService(store)
  const cases = [
    { after: 0, limit: 2, ids: [1, 2], nextAfter: 2 },
    { after: 2, limit: 2, ids: [3, 4], nextAfter: 4 },
    { after: 4, limit: 2, ids: [5], nextAfter: 5 },
    { after: 5, limit: 2, ids: [], nextAfter: 5 },
    { after: 40, limit: 2, ids: [], nextAfter: 40 },
  ]
  for (const { after, limit, ids, nextAfter } of cases) {
    const page = await audit.listAfter(after, limit)
    t.strictSame(
      page.events.map((e) => e.id),
      ids,
      `after ${after}`,
    )
    t.equal(page.nextAfter, nextAfter, `after ${after}`)
  }
})

t.test(`a page holds at most ${maxAuditPageSize} events`, async (t) => {
  const { store, limits } = storeWith(maxAuditPageSize + 20)
  const audit = new AuditService(store)
  const page = await audit.listAfter(0, 10_000)
  t.equal(page.events.length, maxAuditPageSize)
  t.equal(page.nextAfter, maxAuditPageSize)
  await audit.listAfter(0, 7)
  t.strictSame(limits, [maxAuditPageSize, 7])
})

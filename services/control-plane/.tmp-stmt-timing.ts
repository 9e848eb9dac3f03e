// temporary: time each PGlite statement of one import (not committed)
import { DrizzleStore, migrateDatabase, openDatabase } from '@ringmaster/db'
import { FlagService, TopologyService } from '@ringmaster/domain'

const database = await openDatabase({ kind: 'pglite' })
await migrateDatabase(database)
const client = (database.db as any).$client
const orig = client.execProtocolStream.bind(client)
const log: [number, string][] = []
let on = false
client.execProtocolStream = async (msg: Uint8Array, opts: unknown) => {
  const t0 = performance.now()
  const r = await orig(msg, opts)
  if (on) log.push([performance.now() - t0, Buffer.from(msg.slice(0, 400)).toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').slice(0, 150)])
  return r
}
const store = new DrizzleStore(database.db)
const context = { actor: { tokenId: 't', subject: 'bench', role: 'admin' } } as any
await new TopologyService(store).createRing(context, { name: 'production', order: 0 } as any)
const N = Number(process.argv[2] ?? 5000)
const features = Array.from({ length: N }, (_, index) => ({
  name: `bench.flag-${String(index).padStart(5, '0')}`,
  enabled: index % 3 !== 0,
  ...(index % 7 === 0 && { type: 'experiment' }),
  strategies: index % 2 ? [{ name: 'default' }] : [{ name: 'flexibleRollout', parameters: { rollout: String(index % 101), stickiness: 'default', groupId: 'g' }, ...(index % 10 === 0 && { constraints: [{ contextName: 'region', operator: 'IN', values: ['westeurope'] }] }) }],
  ...(index % 20 === 0 && { variants: [{ name: 'blue', weight: 500, stickiness: 'default' }, { name: 'green', weight: 500, stickiness: 'default' }] }),
}))
const flags = new FlagService(store, async (rings) => { for (const r of rings) await store.read.flagRevisions.loadRing(r, 0, 5001) })
on = true
const t0 = performance.now()
await flags.importFlags(context, { ring: 'production', features } as any)
console.log('import total', (performance.now() - t0).toFixed(0))
let sum = 0
for (const [ms, sql] of log) { sum += ms; if (ms > 5) console.log(ms.toFixed(1).padStart(8), sql) }
console.log('statements', log.length, 'sql ms', sum.toFixed(0))
await database.close()

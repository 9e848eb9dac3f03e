import { createServer, type Socket } from 'node:net'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { DatabaseSockets } from '../src/database-availability.js'

// After a failed availability probe the pool's connections are cut, and a query that then needs a
// new connection must fail at once rather than wait on a silent database for the connect timeout.
// The "database" here is a TCP server that accepts and never answers, as a blackholed one does.

async function silentServer(t: Test): Promise<number> {
  const held = new Set<Socket>()
  const server = createServer((socket) => {
    held.add(socket)
    socket.on('close', () => held.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of held) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function client(port: number, sockets: DatabaseSockets) {
  return postgres(`postgres://ringmaster@127.0.0.1:${port}/ringmaster`, {
    max: 1,
    // Far longer than the test's own timeout: only a refused connection ends these queries in time.
    connect_timeout: 600,
    onnotice: () => {},
    ...({ socket: sockets.factory } as object),
  })
}

function failure(query: Promise<unknown>): Promise<unknown> {
  return query.then(
    () => new Error('the query answered'),
    (error: unknown) => error,
  )
}

t.test('a query waiting for a connection fails with the cut, and so does the next', async (t) => {
  const port = await silentServer(t)
  const sockets = new DatabaseSockets()
  const sql = client(port, sockets)
  t.teardown(() => sql.end({ timeout: 0 }))
  const waiting = failure(sql`select 1`)
  // The query sits on a connection that never finishes its handshake.
  while (sockets.size === 0) await new Promise((resolve) => setImmediate(resolve))
  sockets.refuseNewConnections(true)
  sockets.destroyAll()
  t.match(await waiting, { code: 'DATABASE_UNAVAILABLE' }, 'the query in flight failed')
  const next = await failure(sql`select 2`)
  t.match(next, { code: 'DATABASE_UNAVAILABLE' }, 'a new connection is refused at once')
  // The refused socket closes on a later turn of the loop.
  while (sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(sockets.size, 0, 'no connection is left waiting on the silent database')
})

t.test('new connections are made again once the refusal ends', async (t) => {
  const port = await silentServer(t)
  const sockets = new DatabaseSockets()
  const sql = client(port, sockets)
  t.teardown(() => sql.end({ timeout: 0 }))
  sockets.refuseNewConnections(true)
  t.match(await failure(sql`select 1`), { code: 'DATABASE_UNAVAILABLE' })
  sockets.refuseNewConnections(false)
  void failure(sql`select 2`)
  while (sockets.size === 0) await new Promise((resolve) => setImmediate(resolve))
  t.equal(sockets.size, 1, 'the pool connects to the database again')
})

import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../src/database.js'
import { createTestDatabase, testDatabaseKind } from '../src/testing/test-database.js'

// A long transaction must not starve the event loop: SDK reads are answered from memory while
// a big import runs, and they only need the loop to turn. On PostgreSQL every statement waits on
// the network; on PGlite a statement runs in-process, and its answer must still come back on a
// macrotask, not as a microtask that keeps the loop from ever turning.

t.test(
  `${testDatabaseKind}: the event loop turns between a transaction's statements`,
  async (t) => {
    const database = await createTestDatabase()
    const connection = await openDatabase(database.target)
    t.teardown(async () => {
      await connection.close()
      await database.dispose()
    })

    const statements = 50
    let turns = 0
    let counting = true
    // An immediate that re-arms itself counts how often the loop reaches its check phase.
    const count = () => {
      if (!counting) return
      turns++
      setImmediate(count)
    }
    await connection.db.transaction(async (tx) => {
      setImmediate(count)
      for (let index = 0; index < statements; index++) await tx.execute(sql`select ${index}::int`)
    })
    counting = false
    t.ok(
      turns >= statements / 2,
      `the loop turned ${turns} times during ${statements} statements (at least ${statements / 2})`,
    )
  },
)

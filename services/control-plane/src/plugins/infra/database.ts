import {
  type DatabaseConnection,
  type DatabaseTarget,
  DrizzleStore,
  type MigrationStatus,
  migrateDatabase,
  migrationStatus,
  openDatabase,
} from '@ringmaster/db'
import type { Store } from '@ringmaster/domain'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseConnection
    store: Store
    /** Whether the newest migration is applied: how a route learns it without importing the db. */
    migrationStatus(): Promise<MigrationStatus>
  }
}

export interface DatabasePluginOptions {
  target: DatabaseTarget
}

/** Opens the database chosen by configuration, migrates it, and closes it with the app. */
export const databasePlugin = fp(
  async (fastify: FastifyInstance, options: DatabasePluginOptions) => {
    const database = await openDatabase(options.target)
    try {
      await migrateDatabase(database)
    } catch (error) {
      await database.close()
      throw error
    }
    fastify.addHook('onClose', () => database.close())
    fastify.decorate('database', database)
    fastify.decorate('store', new DrizzleStore(database.db))
    fastify.decorate('migrationStatus', () => migrationStatus(database))
  },
  { name: 'database' },
)

import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DatabaseTarget } from '@ringmaster/db'
import { createTestDatabase } from '@ringmaster/db/testing'
import type { Clock, Role } from '@ringmaster/domain'
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import type { Test } from 'tap'
import { app, type LoggingOptions, serverOptions } from '../../src/app.js'

export interface TestApp {
  app: FastifyInstance
  /** Every route the app registered, with its declared access. */
  routes: RouteOptions[]
  adminToken: string
  /**
   * A new token with this role; its subject defaults to `<role>-<random>`. SDK roles (`client`,
   * `frontend`) need the ring they serve.
   */
  tokenFor(role: Role, subject?: string, ring?: string): Promise<string>
  request(init: ApiRequest): Promise<ApiResponse>
  /** Waits until the promotion engine has nothing running. */
  settle(): Promise<void>
  /** Runs one promotion tick (what the timer does) and waits for it. */
  tick(): Promise<void>
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  url: string
  token?: string | null
  body?: unknown
  headers?: Record<string, string>
}

export interface ApiResponse {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field in tests.
  body: any
}

export interface BuildOptions {
  /** Use this database instead of a fresh copy of the migrated template. */
  database?: DatabaseTarget
  logging?: LoggingOptions
  clock?: Clock
  /** The promotion timer; off by default so tests decide when time-driven work runs. */
  engineIntervalMs?: number
  /** The webhook sender's timer; off by default, like the promotion timer. */
  webhookIntervalMs?: number
  /** RINGMASTER_PUBLIC_URL: where webhook deliveries link to. */
  consoleUrl?: string
  /** How often flag snapshots are compared with the database (the app's default when unset). */
  flagCheckIntervalMs?: number
  /** The rollout span exporter's timer; off by default, like the promotion timer. */
  spanExportIntervalMs?: number
  /** Runs after the app's own preClose hooks: a test holds a shutdown half-way with it. */
  onPreClose?: () => Promise<void>
  /** Console sessions' lifetime (the app's 8 hours when unset). */
  sessionTtlMs?: number
  /** RINGMASTER_SESSION_KEY; unset: the key kept in the database. */
  sessionKey?: string
  traceUrlTemplate?: string
  /** The built console to serve. */
  consoleDir?: string
  trustProxy?: boolean | number | string
}

// Replicas (or a restart) built on one database are configured alike, as real ones are: the same
// RINGMASTER_ADMIN_TOKEN. A different one would be refused at start (admin-bootstrap.ts).
const adminTokenOfDatabase = new WeakMap<DatabaseTarget, string>()

function adminTokenFor(database: DatabaseTarget | undefined): string {
  if (database === undefined) return `test-admin-${randomUUID()}`
  let token = adminTokenOfDatabase.get(database)
  if (token === undefined) {
    token = `test-admin-${randomUUID()}`
    adminTokenOfDatabase.set(database, token)
  }
  return token
}

/**
 * Builds the app the way the server does, on its own fresh database, and tears both down when
 * the test ends.
 */
export async function build(t: Test, options: BuildOptions = {}): Promise<TestApp> {
  const testDatabase = options.database ? undefined : await createTestDatabase({ inProcess: true })
  const adminToken = adminTokenFor(options.database)
  const routes: RouteOptions[] = []
  const fastify = Fastify(
    serverOptions(options.logging ?? false, { trustProxy: options.trustProxy }),
  ).withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('onRoute', (route) => {
    routes.push(route)
  })
  await fastify.register(app, {
    database: options.database ?? testDatabase!.target,
    adminToken,
    clock: options.clock,
    engineIntervalMs: options.engineIntervalMs ?? 0,
    webhookIntervalMs: options.webhookIntervalMs ?? 0,
    consoleUrl: options.consoleUrl,
    flagCheckIntervalMs: options.flagCheckIntervalMs,
    spanExportIntervalMs: options.spanExportIntervalMs ?? 0,
    sessionTtlMs: options.sessionTtlMs,
    sessionKey: options.sessionKey,
    traceUrlTemplate: options.traceUrlTemplate,
    consoleDir: options.consoleDir,
  })
  if (options.onPreClose) fastify.addHook('preClose', options.onPreClose)
  await fastify.ready()
  t.teardown(async () => {
    await fastify.close()
    await testDatabase?.dispose()
  })

  const request = async (init: ApiRequest): Promise<ApiResponse> => {
    const token = init.token === undefined ? adminToken : init.token
    const response = await fastify.inject({
      method: init.method,
      url: init.url,
      headers: {
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && {
        payload: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
      }),
    })
    const text = response.body
    return {
      status: response.statusCode,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    }
  }

  return {
    app: fastify,
    routes,
    adminToken,
    request,
    settle: () => fastify.promotionWorker.settle(),
    async tick() {
      await fastify.promotionWorker.tick()
      await fastify.promotionWorker.settle()
    },
    async tokenFor(role, subject = `${role}-${randomUUID().slice(0, 8)}`, ring) {
      const response = await request({
        method: 'POST',
        url: '/v1/tokens',
        body: { name: `${role}-token`, role, subject, ...(ring !== undefined && { ring }) },
      })
      if (response.status !== 201) {
        throw new Error(`could not create a ${role} token: ${JSON.stringify(response.body)}`)
      }
      return response.body.secret as string
    },
  }
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import type { Test } from 'tap'
import type { TestApp } from './build.js'
import { expectStatus } from './release-fixtures.js'

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders
  /** The raw body, as signed. */
  body: string
  /** When it arrived (performance.now(), ms). */
  at: number
  /** What the receiver answered. */
  status: number
}

export interface Receiver {
  url: string
  received: ReceivedDelivery[]
  /** Resolves once `count` requests have arrived; fails the wait after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>
}

/**
 * A real HTTP receiver on 127.0.0.1, closed when the test ends. `answer` decides each response
 * from the request's position (1 for the first) and may take its time.
 */
export async function startReceiver(
  t: Test,
  answer: (
    n: number,
    request: { headers: IncomingHttpHeaders; body: string },
  ) => number | Promise<number> = () => 200,
): Promise<Receiver> {
  const received: ReceivedDelivery[] = []
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const at = performance.now()
    const status = await answer(received.length + 1, { headers: request.headers, body })
    received.push({ headers: request.headers, body, at, status })
    response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/ringmaster`,
    received,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs
      while (received.length < count) {
        if (performance.now() > deadline) {
          throw new Error(`expected ${count} deliveries, got ${received.length} in ${timeoutMs} ms`)
        }
        await delay(5)
      }
      return received.slice(0, count)
    },
  }
}

export type WebhookVerifier = (
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  nowMs?: number,
) => boolean

/** The verification snippet from docs/webhooks.md, loaded as it is written there. */
export async function loadDocumentedVerifier(t: Test): Promise<WebhookVerifier> {
  const docs = await readFile(new URL('../../../../docs/webhooks.md', import.meta.url), 'utf8')
  const snippet = [...docs.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((code) => code.includes('export function verifyRingmasterWebhook'))
  if (!snippet) throw new Error('docs/webhooks.md has no verifyRingmasterWebhook snippet')
  const directory = await mkdtemp(join(tmpdir(), 'ringmaster-webhook-docs-'))
  t.teardown(() => rm(directory, { recursive: true, force: true }))
  const file = join(directory, 'verify-webhook.mjs')
  await writeFile(file, snippet)
  const module = (await import(pathToFileURL(file).href)) as {
    verifyRingmasterWebhook: WebhookVerifier
  }
  return module.verifyRingmasterWebhook
}

export interface CreatedWebhook {
  id: number
  secret: string
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are asserted field by field in tests.
  webhook: any
}

export async function createWebhook(
  api: TestApp,
  body: { service: string; url: string; events?: string[]; format?: 'json' | 'slack' | 'teams' },
): Promise<CreatedWebhook> {
  const created = await expectStatus(
    api.request({ method: 'POST', url: '/v1/webhooks', body }),
    201,
  )
  return { id: created.body.webhook.id, secret: created.body.secret, webhook: created.body.webhook }
}

export async function listDeliveries(api: TestApp, webhookId: number) {
  const response = await expectStatus(
    api.request({ method: 'GET', url: `/v1/webhooks/${webhookId}/deliveries` }),
    200,
  )
  return response.body.deliveries as Array<{
    id: number
    webhookId: number
    event: string
    payload: Record<string, unknown>
    state: string
    attempts: number
    nextAttemptAt: string | null
    lastStatus: number | null
    lastError: string | null
    deliveredAt: string | null
  }>
}

import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from '@ringmaster/control-plane'
import { createTestDatabase } from '@ringmaster/db/testing'
import { createRingmasterClient, type RingmasterClient } from '@ringmaster/sdk'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const consoleDir = join(packageRoot, 'dist')
const repoRoot = join(packageRoot, '..', '..')

/** Debian's chromium by default; RINGMASTER_CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.RINGMASTER_CHROMIUM_PATH ?? '/usr/bin/chromium'

export interface ConsoleUnderTest {
  url: string
  /** The SDK as the admin, over real HTTP. */
  admin: RingmasterClient
  /** A new token of this role; answers its secret. */
  token(
    role: 'admin' | 'approver' | 'pipeline' | 'sre' | 'viewer',
    subject?: string,
  ): Promise<string>
  /** A client SDK token bound to a ring (for unleash-client). */
  sdkToken(ring: string): Promise<string>
  browser: Browser
}

/**
 * The real control plane on its own fresh database, serving the built console, listening on a
 * free loopback port; and Debian's Chromium through playwright-core. Both closed with the test.
 * Without a browser the file is a visible skip on a developer's machine and a failure in CI.
 */
export async function startConsole(t: Test): Promise<ConsoleUnderTest | undefined> {
  if (!existsSync(chromiumPath)) {
    const why = `no Chromium at ${chromiumPath} (apt-get install chromium, or set RINGMASTER_CHROMIUM_PATH)`
    if (process.env.CI === 'true') throw new Error(why)
    t.plan(0, why)
    return undefined
  }
  if (!existsSync(join(consoleDir, 'index.html'))) {
    throw new Error(`the console is not built (${consoleDir}): run pnpm build first`)
  }
  const database = await createTestDatabase()
  const adminToken = `console-admin-${randomUUID()}`
  const app = await buildApp({
    database: database.target,
    adminToken,
    engineIntervalMs: 200,
    webhookIntervalMs: 0,
    spanExportIntervalMs: 0,
    consoleDir,
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true })
  t.teardown(async () => {
    await browser.close()
    await app.close()
    await database.dispose()
  })
  const admin = createRingmasterClient({
    baseUrl: url,
    token: adminToken,
    userAgent: 'console-tests',
  })
  return {
    url,
    admin,
    browser,
    token: async (role, subject = uniqueName(role)) =>
      (await admin.post('/v1/tokens', { body: { name: uniqueName(role), role, subject } })).secret,
    sdkToken: async (ring) =>
      (
        await admin.post('/v1/tokens', {
          body: { name: uniqueName('sdk'), role: 'client', subject: 'console-tests', ring },
        })
      ).secret,
  }
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export interface WatchedPage {
  page: Page
  /** CSP violations and console errors seen so far. */
  problems: string[]
}

/**
 * A page that records every Content-Security-Policy violation (the `securitypolicyviolation`
 * event, listened to before any page script runs) and every console error or uncaught exception.
 */
export async function openPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage()
  const problems: string[] = []
  await page.exposeFunction('__reportCspViolation', (text: string) => problems.push(text))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation(text: string): void })
        .__reportCspViolation
      report(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`)
    })
  })
  page.on('console', (message) => {
    // A 401/403 the console handles (session check, a refused write) is logged by Chromium as a
    // failed resource load; that is the network, not the page.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console error: ${message.text()}`)
    }
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  return { page, problems }
}

/** Signs in through the form with a pasted token, and waits for the signed-in layout. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url)
  await page.getByLabel('API token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByTestId('who-am-i').waitFor()
}

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through
 * the DevTools protocol, which the page's CSP does not govern; a script tag would be blocked.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource)
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe
    return (await axe.run()).violations
  })) as AxeViolation[]
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join('; ')})`,
    )
}

/** Saves docs/console/<name>.png when RINGMASTER_CONSOLE_SCREENSHOTS=1 (for the README's tour). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.RINGMASTER_CONSOLE_SCREENSHOTS !== '1') return
  const folder = join(repoRoot, 'docs', 'console')
  mkdirSync(folder, { recursive: true })
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true })
}

/** Waits for a condition the test cannot be told about (an SDK's poll, a server's worker). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

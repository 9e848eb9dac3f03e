import { createRingmasterClient } from '@ringmaster/sdk'
import t from 'tap'
import {
  openPage,
  screenshot,
  seriousAccessibilityViolations,
  signIn,
  startConsole,
  uniqueName,
} from './helpers/console-harness.js'
import { createRollout, reportOnScaleUnit } from './helpers/rollout-fixtures.js'

// Every page, as an admin on a topology with a release, an incident and a flag: axe-core finds
// no serious or critical violation, the CSP blocks nothing, and sign-in, sign-out and an ended
// session behave.

const running = await startConsole(t)
if (running) {
  const { url, admin, browser } = running
  const rollout = await createRollout(admin)
  const executor = createRingmasterClient({
    baseUrl: url,
    token: await running.token('pipeline', 'checkout-ci'),
  })
  const release = await executor.post('/v1/releases', {
    body: { service: rollout.service, version: '2.4.1', commit: 'a1b2c3d' },
  })
  const lead = createRingmasterClient({ baseUrl: url, token: await running.token('approver') })
  await lead.post('/v1/releases/{id}/stages/{ring}/approvals', {
    params: { path: { id: release.id, ring: rollout.rings[0]! } },
    body: { decision: 'approve', comment: 'looks good' },
  })
  const [first] = rollout.scaleUnits[0]!
  // The engine starts ring 0 shortly after the approval.
  for (let tries = 0; tries < 100; tries++) {
    if ((await reportOnScaleUnit(executor, first!, 'complete')) > 0) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const incident = await admin.post('/v1/incidents', {
    body: {
      service: rollout.service,
      severity: 'sev3',
      title: 'slow checkout in ring 0',
      ring: rollout.rings[0]!,
    },
  })
  await admin.put('/v1/flags/{key}', {
    params: { path: { key: uniqueName('dark-mode') } },
    body: {
      description: 'Dark mode',
      rings: { [rollout.rings[0]!]: { enabled: true, strategies: [{ name: 'default' }] } },
    },
  })

  t.test(
    'every page: no serious accessibility violation, nothing blocked by the CSP',
    async (t) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      t.teardown(() => context.close())
      const { page, problems } = await openPage(context)
      await page.goto(url)
      await page.getByLabel('API token').waitFor()
      t.same(await seriousAccessibilityViolations(page), [], 'sign-in')
      await screenshot(page, 'sign-in')
      await signIn(page, url, await running.token('admin', 'ada'))
      const pages = [
        ['/', 'Inbox', 'inbox-admin'],
        ['/releases', 'Releases', 'releases'],
        [`/releases/${release.id}`, `${rollout.service} 2.4.1`, 'board-admin'],
        ['/topology', 'Topology', 'topology'],
        ['/flags', 'Flags', 'flags-admin'],
        ['/incidents', 'Incidents', 'incidents'],
        [`/incidents/${incident.id}`, `#${incident.id} ${incident.title}`, 'incident'],
        ['/reports', 'Reports', 'reports'],
      ] as const
      for (const [path, heading, shot] of pages) {
        await page.goto(`${url}${path}`)
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
        // Let the queries of the page answer before judging it.
        await page.locator('main[data-fetching="0"]').waitFor()
        t.same(await seriousAccessibilityViolations(page), [], `${path}`)
        await screenshot(page, shot)
      }
      t.same(problems, [], 'no CSP violation or console error on any page')
    },
  )

  t.test('sign out, and an ended session, go back to sign-in', async (t) => {
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page } = await openPage(context)
    await signIn(page, url, await running.token('viewer'))
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor()
    await page.reload()
    await page.getByLabel('API token').waitFor()
    t.equal(
      await page.evaluate(() => fetch('/v1/session').then((response) => response.status)),
      401,
      'signed out, also after a reload: the cookie is no session',
    )

    const name = uniqueName('short-lived')
    const issued = await admin.post('/v1/tokens', { body: { name, role: 'viewer', subject: name } })
    await signIn(page, url, issued.secret)
    await admin.delete('/v1/tokens/{id}', { params: { path: { id: issued.token.id } } })
    await page.getByRole('link', { name: 'Topology' }).click()
    await page.getByRole('status').filter({ hasText: 'session has ended' }).waitFor()
    t.ok(await page.getByLabel('API token').isVisible(), 'a revoked token: back to sign-in')
    t.equal(
      await page.evaluate(() => fetch('/v1/session').then((response) => response.status)),
      401,
      'and its session is gone',
    )

    await page.getByLabel('API token').fill('rm_not_a_token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').waitFor()
    t.match(
      await page.getByRole('alert').textContent(),
      /\S/,
      'a wrong token is refused with a message',
    )
    t.equal(
      await page.evaluate(() => fetch('/v1/session').then((response) => response.status)),
      401,
      'and signs nobody in',
    )
  })
}

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

// A lead engineer signs in, approves ring 0 from the inbox, and watches the board move while an
// executor reports its deployments: no reload, every report on the board as it happens.

const running = await startConsole(t)
if (running) {
  const { url, admin, browser } = running
  const rollout = await createRollout(admin)
  const lead = await running.token('approver', uniqueName('jane'))
  const executor = createRingmasterClient({
    baseUrl: url,
    token: await running.token('pipeline', 'checkout-ci'),
  })
  const release = await executor.post('/v1/releases', {
    body: { service: rollout.service, version: '1.0.0', commit: '4f2a9c1' },
  })

  t.test('a lead approves ring 0 and the board moves live', async (t) => {
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page, problems } = await openPage(context)
    await signIn(page, url, lead)
    const approveLabel = `Approve ${rollout.service} 1.0.0 into ${rollout.rings[0]}`
    const card = page.getByTestId('inbox-approval').filter({ hasText: rollout.service })
    await card.waitFor()
    t.match(await card.textContent(), /4f2a9c1/, 'the inbox shows the commit')
    t.match(await card.textContent(), /checkout-ci/, 'and who asked')
    t.same(await seriousAccessibilityViolations(page), [], 'inbox: no serious a11y violation')
    await screenshot(page, 'inbox')

    // A marker that a reload would lose.
    await page.evaluate(() => {
      ;(window as unknown as { notReloaded: boolean }).notReloaded = true
    })
    await page
      .getByLabel(`Comment on ${rollout.service} 1.0.0 into ${rollout.rings[0]}`)
      .fill('ship it')
    await page.getByRole('button', { name: approveLabel }).click()
    await card.waitFor({ state: 'detached' })

    await page.getByRole('link', { name: 'Releases' }).click()
    await page.getByRole('link', { name: `#${release.id}` }).click()
    const ring0 = page.getByTestId(`stage-state-${rollout.rings[0]}`)
    await ring0.filter({ hasText: 'deploying' }).waitFor()
    const approved = await running.admin.get('/v1/releases/{id}', {
      params: { path: { id: release.id } },
    })
    t.match(
      approved.stages.find((stage) => stage.ring === rollout.rings[0]),
      { state: 'deploying' },
      'ring 0 deploys once approved',
    )
    t.match(await page.locator('.approvals').first().textContent(), /Approved by jane-.*ship it/)

    const cell = (scaleUnit: string) => page.locator(`[data-scale-unit="${scaleUnit}"]`)
    for (const [index, ring] of rollout.rings.entries()) {
      if (index > 0)
        await page.getByTestId(`stage-state-${ring}`).filter({ hasText: 'deploying' }).waitFor()
      for (const scaleUnit of rollout.scaleUnits[index]!) {
        t.equal(await reportOnScaleUnit(executor, scaleUnit, 'start'), 1, `${scaleUnit} started`)
        await cell(scaleUnit).and(page.locator('[data-state="in_progress"]')).waitFor()
        t.match(
          await cell(scaleUnit).textContent(),
          /deploying/,
          `${scaleUnit}: deploying, in words`,
        )
        if (index === 0 && scaleUnit === rollout.scaleUnits[0]![0]) await screenshot(page, 'board')
        t.equal(await reportOnScaleUnit(executor, scaleUnit, 'complete'), 1, `${scaleUnit} done`)
        await cell(scaleUnit).and(page.locator('[data-state="succeeded"]')).waitFor()
        if (index === 1 && scaleUnit === rollout.scaleUnits[1]![0]) {
          const mark = cell(scaleUnit).locator('[data-health]')
          t.equal(await mark.getAttribute('data-health'), 'none', `${scaleUnit}: no report yet`)
          // Deployed, its ring still deploying: the report gates the release, and the board hears.
          await executor.post('/v1/scale-units/{name}/health', {
            params: { path: { name: scaleUnit } },
            body: { service: rollout.service, status: 'healthy', signals: { errorRate: 0.002 } },
          })
          await cell(scaleUnit).locator('[data-health="healthy"]').waitFor()
          t.match(
            await mark.getAttribute('title'),
            /^Health: healthy, errorRate 0\.002, reported by checkout-ci/,
            'the mark says what was reported, and by whom',
          )
          t.match(
            await page.getByTestId('health-reports').textContent(),
            new RegExp(`${scaleUnit} \\(${ring}\\): healthy`),
            'the Health card lists the latest report',
          )
        }
      }
    }
    await page.getByTestId('release-state').filter({ hasText: 'succeeded' }).waitFor()
    const finished = await running.admin.get('/v1/releases/{id}', {
      params: { path: { id: release.id } },
    })
    t.equal(finished.state, 'succeeded', 'the release the board shows succeeded')
    t.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'all without a reload',
    )
    t.same(await seriousAccessibilityViolations(page), [], 'board: no serious a11y violation')
    t.same(problems, [], 'no CSP violation or console error')
  })

  t.test('a viewer sees no action buttons', async (t) => {
    const second = await executor.post('/v1/releases', {
      body: { service: rollout.service, version: '1.0.1', commit: 'b7e1d00' },
    })
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page, problems } = await openPage(context)
    await signIn(page, url, await running.token('viewer'))
    await page.getByRole('heading', { name: 'Inbox' }).waitFor()
    await page.goto(`${url}/releases/${second.id}`)
    await page.getByTestId('release-state').waitFor()
    await page
      .getByTestId(`stage-state-${rollout.rings[0]}`)
      .filter({ hasText: 'awaiting approval' })
      .waitFor()
    const forbidden =
      /^(Approve|Reject|Promote|Resume|Roll back|Cancel release|Retry|Lift halt|Turn |Mitigate|Resolve)/
    const buttons = async () =>
      (await page.getByRole('button').allTextContents()).filter((name) =>
        forbidden.test(name.trim()),
      )
    t.same(await buttons(), [], 'the board offers the viewer nothing it may not do')
    for (const [path, heading] of [
      ['/', 'Inbox'],
      ['/flags', 'Flags'],
      ['/incidents', 'Incidents'],
    ] as const) {
      await page.getByRole('link', { name: heading, exact: true }).click()
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
      t.same(await buttons(), [], `${path}: no action the viewer may not do`)
    }
    t.same(problems, [], 'no CSP violation or console error')
  })
}

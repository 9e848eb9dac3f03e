import t from 'tap'
import { InMemStorageProvider, Unleash, UnleashEvents } from 'unleash-client'
import {
  openPage,
  screenshot,
  seriousAccessibilityViolations,
  signIn,
  startConsole,
  uniqueName,
  waitFor,
} from './helpers/console-harness.js'

const running = await startConsole(t)
if (running) {
  const { url, admin, browser } = running

  t.test('a kill switch turned off in the console reaches unleash-client', async (t) => {
    const ring = uniqueName('ring')
    await admin.post('/v1/rings', { body: { name: ring, order: 0 } })
    const key = uniqueName('new-checkout')
    await admin.put('/v1/flags/{key}', {
      params: { path: { key } },
      body: {
        description: 'New checkout flow',
        type: 'kill-switch',
        rings: {
          [ring]: {
            enabled: true,
            strategies: [
              {
                name: 'flexibleRollout',
                parameters: { rollout: '100', stickiness: 'default', groupId: key },
                constraints: [{ contextName: 'country', operator: 'IN', values: ['NL', 'DE'] }],
              },
            ],
          },
        },
      },
    })
    const unleash = new Unleash({
      appName: 'checkout',
      url: `${url}/api`,
      customHeaders: { Authorization: await running.sdkToken(ring) },
      refreshInterval: 250,
      metricsInterval: 60_000,
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
    })
    unleash.on(UnleashEvents.Error, (error) => t.fail(`unleash-client error: ${error}`))
    t.teardown(() => unleash.destroy())
    const context = { properties: { country: 'NL' } }
    await waitFor(() => unleash.isEnabled(key, context), 'the flag to be on in unleash-client')

    const browserContext = await browser.newContext()
    t.teardown(() => browserContext.close())
    const { page, problems } = await openPage(browserContext)
    await signIn(page, url, await running.token('admin'))
    await page.getByRole('link', { name: 'Flags', exact: true }).click()
    const section = page.getByRole('region', { name: new RegExp(key) })
    await section.waitFor()
    t.match(
      await section.textContent(),
      /100% of users \(sticky on default\), when country in NL, DE/,
      'the strategy, in words',
    )
    await page.getByLabel('User id').fill('u42')
    await page.getByLabel(/Properties/).fill('country=FR')
    await page.getByRole('button', { name: 'Evaluate' }).click()
    const evaluation = page.getByTestId('evaluation')
    await evaluation.waitFor()
    t.match(await evaluation.textContent(), new RegExp(`${key}off`), 'evaluate: off for FR')
    t.same(await seriousAccessibilityViolations(page), [], 'flags: no serious a11y violation')
    await screenshot(page, 'flags')

    await page.getByRole('button', { name: `Turn ${key} off in ${ring}` }).click()
    await page.getByTestId(`flag-${key}-${ring}`).filter({ hasText: 'off' }).waitFor()
    await waitFor(() => !unleash.isEnabled(key, context), 'unleash-client to see the flag off')
    t.equal(unleash.isEnabled(key, context), false, 'unleash-client answers off')
    t.same(problems, [], 'no CSP violation or console error')
  })
}

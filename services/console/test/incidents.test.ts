import { createRingmasterClient } from '@ringmaster/sdk'
import t from 'tap'
import {
  openPage,
  seriousAccessibilityViolations,
  signIn,
  startConsole,
  uniqueName,
} from './helpers/console-harness.js'
import { createRollout } from './helpers/rollout-fixtures.js'

// The page a webhook about an incident links to (/incidents/:id): an SRE finds it in the list,
// reads it, resolves it; an unknown id says so; a viewer reads it but may not resolve it.

const running = await startConsole(t)
if (running) {
  const { url, admin, browser } = running
  const rollout = await createRollout(admin)
  const executor = createRingmasterClient({
    baseUrl: url,
    token: await running.token('pipeline', 'checkout-ci'),
  })
  const release = await executor.post('/v1/releases', {
    body: { service: rollout.service, version: '3.1.0', commit: '9c0ffee' },
  })
  const declare = (title: string, halt = false) =>
    admin.post('/v1/incidents', {
      body: {
        service: rollout.service,
        severity: 'sev2',
        title,
        ring: rollout.rings[0]!,
        releaseId: release.id,
        halt,
      },
    })

  t.test('an SRE finds an incident in the list, reads it and resolves it', async (t) => {
    const earlier = await declare(`old outage ${uniqueName('o')}`)
    await admin.post('/v1/incidents/{id}/resolve', {
      params: { path: { id: earlier.id } },
      body: {},
    })
    const title = `checkout errors ${uniqueName('i')}`
    const incident = await declare(title, true)
    t.type(incident.haltId, 'number', 'declared with a halt')

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    t.teardown(() => context.close())
    const { page, problems } = await openPage(context)
    const sre = uniqueName('sam')
    await signIn(page, url, await running.token('sre', sre))
    await page.getByRole('link', { name: 'Incidents', exact: true }).click()
    await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor()
    const open = page.getByTestId('open-incidents')
    const resolved = page.getByTestId('resolved-incidents')
    const link = page.getByRole('link', { name: `#${incident.id} ${title}` })
    await open.getByRole('link', { name: `#${incident.id} ${title}` }).waitFor()
    await resolved.getByRole('link', { name: `#${earlier.id} ${earlier.title}` }).waitFor()
    t.equal(
      await resolved.getByText(title).count(),
      0,
      'the open incident is not among the resolved',
    )
    t.equal(
      await open.getByText(earlier.title).count(),
      0,
      'the resolved one is not among the open',
    )
    await page.locator('main[data-fetching="0"]').waitFor()
    t.same(await seriousAccessibilityViolations(page), [], '/incidents: no serious a11y violation')

    await link.click()
    await page.getByRole('heading', { name: `#${incident.id} ${title}`, level: 1 }).waitFor()
    t.equal(new URL(page.url()).pathname, `/incidents/${incident.id}`, 'the row leads to its page')
    t.equal(
      await page.getByTestId(`incident-state-${incident.id}`).textContent(),
      'open',
      'its state',
    )
    t.equal(await page.getByTestId('incident-severity').textContent(), 'sev2', 'its severity')
    const scope = page.getByTestId('incident-scope')
    t.match(await scope.textContent(), rollout.service, 'the service')
    t.match(await scope.textContent(), `ring ${rollout.rings[0]}`, 'the ring')
    t.equal(
      await scope.getByRole('link', { name: `Release #${release.id}` }).getAttribute('href'),
      `/releases/${release.id}`,
      'a link to the release it blames',
    )
    const times = page.getByTestId('incident-times')
    t.match(await times.textContent(), `declared by ${incident.createdBy}`, 'who opened it')
    t.equal(
      await page.getByTestId('incident-resolved').textContent(),
      'not yet',
      'not resolved yet',
    )
    t.match(
      await page.getByTestId('incident-halt').textContent(),
      `Halt #${incident.haltId} service ${rollout.service} still stops the line`,
      'the halt it holds',
    )
    await page.getByTestId('incident-history').getByText('incident.created').waitFor()
    await page.locator('main[data-fetching="0"]').waitFor()
    t.same(await seriousAccessibilityViolations(page), [], '/incidents/:id: no serious violation')

    await page.getByRole('button', { name: 'Resolve', exact: true }).click()
    await page
      .getByTestId(`incident-state-${incident.id}`)
      .filter({ hasText: /^resolved$/ })
      .waitFor()
    const stored = await admin.get('/v1/incidents/{id}', { params: { path: { id: incident.id } } })
    t.type(stored.resolvedAt, 'string', 'the server holds it resolved')
    // Who resolved it comes from the incident's events, followed live.
    await page
      .getByTestId('incident-resolved')
      .filter({ hasText: `by ${sre}` })
      .waitFor()
    t.match(
      await page.getByTestId('incident-halt').textContent(),
      /still stops the line\. The incident is resolved; lift the halt/,
      'the halt outlives the incident, and the page says what to do next',
    )
    const halts = await admin.get('/v1/halts', { params: { query: { active: true } } })
    t.match(halts.halts, [{ id: incident.haltId, liftedAt: null }], 'the halt is still active')
    t.equal(
      await page.getByRole('button', { name: /^(Resolve|Mitigate)$/ }).count(),
      0,
      'nothing left to resolve',
    )

    await page.getByRole('link', { name: '← Incidents' }).click()
    await resolved.getByRole('link', { name: `#${incident.id} ${title}` }).waitFor()
    t.equal(await open.getByText(title).count(), 0, 'the list moved it to the resolved')
    t.same(problems, [], 'no CSP violation or console error')
  })

  t.test('an unknown incident says so', async (t) => {
    const unknown = 987_654
    const answer = await admin
      .get('/v1/incidents/{id}', { params: { path: { id: unknown } } })
      .catch((error: unknown) => error)
    t.match(answer, { status: 404 }, 'the API has no such incident')
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page, problems } = await openPage(context)
    await signIn(page, url, await running.token('sre'))
    for (const id of [String(unknown), 'not-a-number']) {
      await page.goto(`${url}/incidents/${id}`)
      const message = page.getByTestId('incident-not-found')
      await message.waitFor()
      t.match(await message.textContent(), `There is no incident ${id}.`, `/incidents/${id}`)
      t.ok(
        await page.getByRole('link', { name: 'See all incidents' }).isVisible(),
        'and a way back to the list',
      )
    }
    t.same(problems, [], 'no CSP violation or console error')
  })

  t.test('a viewer reads an incident but is offered no resolve', async (t) => {
    const title = `slow search ${uniqueName('v')}`
    const incident = await declare(title)
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page, problems } = await openPage(context)
    await signIn(page, url, await running.token('viewer'))
    await page.goto(`${url}/incidents/${incident.id}`)
    await page.getByRole('heading', { name: `#${incident.id} ${title}`, level: 1 }).waitFor()
    await page.getByTestId('incident-history').getByText('incident.created').waitFor()
    t.equal(
      await page.getByTestId(`incident-state-${incident.id}`).textContent(),
      'open',
      'it reads as open',
    )
    t.equal(
      await page.getByRole('button', { name: /^(Resolve|Mitigate)$/ }).count(),
      0,
      'no resolve or mitigate for a viewer',
    )
    const stored = await admin.get('/v1/incidents/{id}', { params: { path: { id: incident.id } } })
    t.equal(stored.resolvedAt, null, 'and it stays open')
    t.same(problems, [], 'no CSP violation or console error')
  })
}

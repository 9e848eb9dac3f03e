import t from 'tap'
import {
  openPage,
  screenshot,
  signIn,
  startConsole,
  uniqueName,
} from './helpers/console-harness.js'

const running = await startConsole(t)
if (running) {
  const { url, admin, browser } = running

  t.test(
    'Stop the line in one tab: the banner appears in the other, lift clears both',
    async (t) => {
      const context = await browser.newContext()
      t.teardown(() => context.close())
      const first = await openPage(context)
      await signIn(first.page, url, await running.token('sre', uniqueName('sam')))
      // The second tab shares the session cookie, as a person's second tab does.
      const second = await openPage(context)
      await second.page.goto(`${url}/topology`)
      await second.page.getByRole('heading', { name: 'Topology', level: 1 }).waitFor()
      t.equal(await second.page.getByTestId('halt-banner').count(), 0, 'no halt yet')

      const reason = `db alarms ${uniqueName('r')}`
      await first.page.getByRole('button', { name: 'Stop the line' }).first().click()
      const dialog = first.page.getByRole('dialog', { name: 'Stop the line' })
      await dialog.getByLabel('Everywhere').check()
      await dialog.getByLabel(/Reason/).fill(reason)
      await screenshot(first.page, 'stop-the-line')
      await dialog.getByRole('button', { name: 'Stop the line' }).click()
      await dialog.waitFor({ state: 'hidden' })

      const banner = second.page.getByTestId('halt-banner')
      await banner.filter({ hasText: reason }).waitFor()
      t.match(await banner.textContent(), /Halt everywhere/, 'the other tab shows it, live')
      const halts = await admin.get('/v1/halts', { params: { query: { active: true } } })
      t.match(halts.halts, [{ scope: 'global', reason, liftedAt: null }], 'the halt is real')
      await screenshot(second.page, 'halt-banner')

      await second.page.getByRole('button', { name: 'Lift halt everywhere' }).click()
      await first.page.getByTestId('halt-banner').waitFor({ state: 'detached' })
      const active = await admin.get('/v1/halts', { params: { query: { active: true } } })
      t.same(active.halts, [], 'lifted in one tab, gone from the other, and no halt is active')
      t.same([...first.problems, ...second.problems], [], 'no CSP violation or console error')
    },
  )

  t.test('a session cookie without its CSRF token cannot write', async (t) => {
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const { page } = await openPage(context)
    await signIn(page, url, await running.token('sre'))
    const attempt = (withCsrf: boolean) =>
      page.evaluate(async (withCsrf) => {
        const session = await (await fetch('/v1/session')).json()
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (withCsrf) headers['x-csrf-token'] = session.csrfToken
        const response = await fetch('/v1/halts', {
          method: 'POST',
          headers,
          body: JSON.stringify({ scope: 'global', reason: 'csrf check' }),
        })
        return { status: response.status, body: await response.json() }
      }, withCsrf)
    const refused = await attempt(false)
    t.equal(refused.status, 403, 'the cookie alone is refused')
    t.match(refused.body, { status: 403 }, 'as a problem')
    t.same(
      (await admin.get('/v1/halts', { params: { query: { active: true } } })).halts.filter(
        (halt) => halt.reason === 'csrf check',
      ),
      [],
      'and nothing was halted',
    )
    const accepted = await attempt(true)
    t.equal(accepted.status, 201, 'with the token, the same write passes')
    await admin.delete('/v1/halts/{id}', { params: { path: { id: accepted.body.id } } })
  })
}

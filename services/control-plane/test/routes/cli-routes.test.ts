import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { cliBundlePath } from '../../src/plugins/infra/config.js'
import { build } from '../helpers/build.js'

// The route reads RINGMASTER_CLI_BUNDLE when the app is built; each test sets it first.
function bundleAt(t: Test, path: string): void {
  const before = process.env.RINGMASTER_CLI_BUNDLE
  process.env.RINGMASTER_CLI_BUNDLE = path
  t.teardown(() => {
    if (before === undefined) delete process.env.RINGMASTER_CLI_BUNDLE
    else process.env.RINGMASTER_CLI_BUNDLE = before
  })
}

t.test('GET /cli/ringmaster.mjs serves the configured file without a token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ringmaster-cli-bundle-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'ringmaster.mjs')
  writeFileSync(file, '#!/usr/bin/env node\nconsole.log("first")\n')
  bundleAt(t, file)
  const { app } = await build(t)

  const first = await app.inject({ method: 'GET', url: '/cli/ringmaster.mjs' })
  t.equal(first.statusCode, 200)
  t.equal(first.headers['content-type'], 'text/javascript; charset=utf-8')
  t.equal(first.headers['cache-control'], 'public, no-cache')
  t.equal(first.body, '#!/usr/bin/env node\nconsole.log("first")\n')
  const etag = first.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]{43}"$/)

  const unchanged = await app.inject({
    method: 'GET',
    url: '/cli/ringmaster.mjs',
    headers: { 'if-none-match': etag },
  })
  t.equal(unchanged.statusCode, 304)
  t.equal(unchanged.body, '')

  // A rebuild while the server runs is served at once, under a new ETag.
  writeFileSync(file, '#!/usr/bin/env node\nconsole.log("second, longer")\n')
  const rebuilt = await app.inject({
    method: 'GET',
    url: '/cli/ringmaster.mjs',
    headers: { 'if-none-match': etag },
  })
  t.equal(rebuilt.statusCode, 200)
  t.match(rebuilt.body, /second, longer/)
  t.not(rebuilt.headers.etag, etag)
})

t.test('a missing bundle is a 404 problem that says how to build it', async (t) => {
  bundleAt(t, join(tmpdir(), 'no-such-dir', 'ringmaster.mjs'))
  const { request } = await build(t)
  const response = await request({ method: 'GET', url: '/cli/ringmaster.mjs', token: null })
  t.equal(response.status, 404)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.match(response.body, {
    type: '/problems/cli-bundle-missing',
    status: 404,
    instance: '/cli/ringmaster.mjs',
    detail: /pnpm turbo run build --filter=@ringmaster\/cli.*RINGMASTER_CLI_BUNDLE/,
  })
  t.notMatch(response.body.detail, /no-such-dir/, 'the server path is logged, not sent')
})

t.test('without RINGMASTER_CLI_BUNDLE the monorepo build is served', async (t) => {
  t.match(cliBundlePath({}), /\/packages\/cli\/dist\/ringmaster\.mjs$/)
  t.equal(
    cliBundlePath({ RINGMASTER_CLI_BUNDLE: '/opt/ringmaster/cli.mjs' }),
    '/opt/ringmaster/cli.mjs',
  )
})

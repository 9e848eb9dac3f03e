import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { jobWorkspace, runnerPath, startScript } from './helpers/pipeline-runner.js'
import { setUpRelease } from './helpers/release-setup.js'
import { startServer } from './helpers/server-process.js'

const bundle = readFileSync(new URL('../dist/ringmaster.mjs', import.meta.url))

t.test(
  'the control plane serves the CLI bundle without a token, and it runs anywhere',
  async (t) => {
    const setup = await setUpRelease(t)
    const url = `${setup.server.url}/cli/ringmaster.mjs`

    const response = await fetch(url)
    t.equal(response.status, 200)
    t.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8')
    t.equal(response.headers.get('cache-control'), 'public, no-cache')
    const etag = response.headers.get('etag')
    t.match(etag, /^"[A-Za-z0-9_-]{43}"$/, 'the ETag is a digest of the file')
    const served = Buffer.from(await response.arrayBuffer())
    t.ok(served.equals(bundle), 'the bytes of packages/cli/dist/ringmaster.mjs')
    t.match(served.toString('utf8'), /^#!\/usr\/bin\/env node\n/)

    const again = await fetch(url, { headers: { 'if-none-match': etag! } })
    t.equal(again.status, 304, 'not modified while the ETag matches')
    t.equal(await again.text(), '')
    t.equal(again.headers.get('etag'), etag)
    const head = await fetch(url, { method: 'HEAD' })
    t.equal(head.status, 200)
    t.equal(head.headers.get('etag'), etag)

    // Installed the way the README says, in a directory where no node_modules can be found.
    const dir = jobWorkspace(t, 'install')
    writeFileSync(join(dir, 'ringmaster'), served)
    chmodSync(join(dir, 'ringmaster'), 0o755)
    const run = (script: string, env: Record<string, string> = {}) =>
      startScript(t, script, { cwd: dir, flags: ['-e'], env: { PATH: runnerPath(), ...env } }).done

    const help = await run('./ringmaster --help')
    t.equal(help.code, 0, help.stderr)
    t.match(help.stdout, /^Usage: ringmaster COMMAND/)
    t.match(help.stdout, /release create/)
    const withNode = await run('node ringmaster release create --help')
    t.equal(withNode.code, 0, withNode.stderr)
    t.match(withNode.stdout, /--service/)

    const created = await run(
      './ringmaster release create --service checkout --version 2.0.0 --commit 4f2a9c1 -o json',
      setup.pipeline,
    )
    t.equal(created.code, 0, created.stderr)
    const release = JSON.parse(created.stdout)
    t.match(release, { service: 'checkout', version: '2.0.0', requester: 'checkout-ci' })
    t.match(await setup.server.call('GET', `/v1/releases/${release.id}`), {
      id: release.id,
      commit: '4f2a9c1',
      state: /queued|in_progress/,
    })

    const curl = await run(
      'curl -fsSL "$RINGMASTER_URL/cli/ringmaster.mjs" -o installed && chmod +x installed && ./installed --help',
      { RINGMASTER_URL: setup.server.url },
    )
    t.equal(curl.code, 0, curl.stderr)
    t.match(curl.stdout, /^Usage: ringmaster COMMAND/, 'the install line of the README works')
  },
)

t.test('a server whose RINGMASTER_CLI_BUNDLE is missing answers a problem', async (t) => {
  const server = await startServer(t, {
    env: { RINGMASTER_CLI_BUNDLE: join(tmpdir(), 'no-such-dir', 'ringmaster.mjs') },
  })
  const response = await fetch(`${server.url}/cli/ringmaster.mjs`)
  t.equal(response.status, 404)
  t.match(response.headers.get('content-type'), /^application\/problem\+json/)
  t.match(await response.json(), {
    type: '/problems/cli-bundle-missing',
    detail: /pnpm turbo run build --filter=@ringmaster\/cli/,
  })
})

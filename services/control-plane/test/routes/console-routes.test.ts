import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import t from 'tap'
import { build } from '../helpers/build.js'

// The web console's built files: the page, hashed assets, the fallback for the console's own
// paths, and the JSON 404 problems the API keeps.

const csp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
const indexHtml =
  '<!doctype html><title>Ringmaster</title><script src="/assets/app-3f9c1a7e.js"></script>'
const immutable = 'public, max-age=31536000, immutable'

async function consoleBuild(t: Test) {
  const parent = await mkdtemp(join(tmpdir(), 'ringmaster-console-'))
  t.teardown(() => rm(parent, { recursive: true, force: true }))
  const dir = join(parent, 'dist')
  await mkdir(join(dir, 'assets'), { recursive: true })
  await writeFile(join(dir, 'index.html'), indexHtml)
  await writeFile(join(dir, 'assets', 'app-3f9c1a7e.js'), 'console.log("console")')
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  await writeFile(join(dir, '.env'), 'NOT_FOR_BROWSERS=1')
  await writeFile(join(parent, 'outside.txt'), 'outside the console folder')
  return dir
}

const get = (api: Awaited<ReturnType<typeof build>>, url: string, accept?: string) =>
  api.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } })

function securityHeaders(t: Test, headers: Record<string, unknown>, label: string) {
  t.equal(headers['content-security-policy'], csp, `${label}: CSP`)
  t.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`)
  t.equal(headers['referrer-policy'], 'no-referrer', `${label}: no referrer`)
}

t.test('the console page, its assets and its own paths', async (t) => {
  const api = await build(t, { consoleDir: await consoleBuild(t) })

  for (const accept of ['text/html,application/xhtml+xml,*/*;q=0.8', undefined]) {
    const page = await get(api, '/', accept)
    t.equal(page.statusCode, 200, `/ with Accept ${accept}`)
    t.equal(page.body, indexHtml)
    t.match(page.headers['content-type'], /^text\/html/)
    t.equal(page.headers['cache-control'], 'no-cache')
    securityHeaders(t, page.headers, '/')
  }

  const asset = await get(api, '/assets/app-3f9c1a7e.js', '*/*')
  t.equal(asset.statusCode, 200)
  t.equal(asset.body, 'console.log("console")')
  t.match(asset.headers['content-type'], /javascript/)
  t.equal(asset.headers['cache-control'], immutable, 'hashed assets are kept for a year')
  securityHeaders(t, asset.headers, 'asset')

  const icon = await get(api, '/favicon.svg', 'image/*')
  t.equal(icon.statusCode, 200)
  t.equal(icon.headers['cache-control'], 'no-cache', 'unhashed files are checked every time')

  for (const path of ['/releases/42', '/flags/new-checkout/rings/ring-0', '/board?ring=ring-0']) {
    const page = await get(api, path, 'text/html')
    t.equal(page.statusCode, 200, `${path}: the console routes it in the browser`)
    t.equal(page.body, indexHtml)
    t.equal(page.headers['cache-control'], 'no-cache')
    securityHeaders(t, page.headers, path)
  }

  const head = await api.app.inject({ method: 'HEAD', url: '/', headers: { accept: 'text/html' } })
  t.equal(head.statusCode, 200)
})

t.test('no fallback where a page is not wanted or the path is the API’s', async (t) => {
  const api = await build(t, { consoleDir: await consoleBuild(t) })
  const notFound = (response: Awaited<ReturnType<typeof get>>, label: string) => {
    t.equal(response.statusCode, 404, label)
    t.match(response.headers['content-type'], /^application\/problem\+json/, label)
    t.equal(response.json().type, '/problems/route-not-found', label)
  }
  notFound(await get(api, '/releases/42', 'application/json'), 'a script asking for JSON')
  notFound(await get(api, '/assets/app-0000.js', '*/*'), 'a missing asset')
  for (const path of ['/v1/nothing', '/api/nothing', '/ofrep/nothing', '/healthz/x', '/readyz/x']) {
    const response = await get(api, path, 'text/html')
    notFound(response, `${path} is the API's`)
    t.equal(response.headers['content-security-policy'], undefined, `${path}: not a console page`)
  }
  const docs = await get(api, '/docs/nothing', 'text/html')
  t.equal(docs.statusCode, 404, "/docs/ is Swagger UI's")
  t.notMatch(docs.body, indexHtml)
  const post = await api.app.inject({
    method: 'POST',
    url: '/releases',
    headers: { accept: 'text/html' },
  })
  t.equal(post.statusCode, 404, 'only GET falls back')
  t.equal(post.json().type, '/problems/route-not-found')

  for (const path of ['/.env', '/%2e%2e/outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt']) {
    const response = await get(api, path, '*/*')
    t.equal(response.statusCode, 404, `${path} is not served`)
    t.notMatch(response.body, /NOT_FOR_BROWSERS|outside the console folder/)
  }
})

t.test('without a built console, / says how to build it', async (t) => {
  const api = await build(t, { consoleDir: join(tmpdir(), 'ringmaster-no-console-here') })
  const response = await get(api, '/', 'text/html')
  t.equal(response.statusCode, 404)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().type, '/problems/console-not-built')
  t.match(response.json().detail, 'RINGMASTER_CONSOLE_DIR')
  t.match(response.json().detail, 'pnpm turbo run build --filter=@ringmaster/console')
  securityHeaders(t, response.headers, 'the hint')
  const api404 = await get(api, '/v1/nothing', 'text/html')
  t.equal(api404.json().type, '/problems/route-not-found', 'the API keeps its 404')
})

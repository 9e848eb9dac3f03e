import type { CommandContext } from '@ringmaster/domain'
import type { Feature } from '@ringmaster/flag-evaluator'
import t from 'tap'
import { build, type TestApp, uniqueName } from '../helpers/build.js'

// More flags than the store writes per statement (250) and reads per statement (500), so that
// each import below spans several statements of each kind.
const flagCount = 600

async function withRing(t: Parameters<typeof build>[0], ring = 'ring-0') {
  const api = await build(t)
  const created = await api.request({
    method: 'POST',
    url: '/v1/rings',
    body: { name: ring, order: 0 },
  })
  t.equal(created.status, 201, `ring ${ring} created`)
  return api
}

/** `count` flags named `<prefix>-<n>`, listed in descending key order (not the store's order). */
function features(prefix: string, count = flagCount): Feature[] {
  return Array.from({ length: count }, (_, index) => {
    const n = count - 1 - index
    return {
      name: `${prefix}-${String(n).padStart(4, '0')}`,
      enabled: n % 2 === 0,
      strategies:
        n % 3 === 0
          ? [
              {
                name: 'flexibleRollout',
                parameters: { rollout: String(n % 101), stickiness: 'default', groupId: 'g' },
              },
            ]
          : [{ name: 'default' }],
    }
  })
}

async function flagKeys(api: TestApp): Promise<string[]> {
  const response = await api.request({ method: 'GET', url: '/v1/flags' })
  if (response.status !== 200) throw new Error(`GET /v1/flags: ${response.status}`)
  return response.body.flags.map((flag: { key: string }) => flag.key)
}

const allEvents = (api: TestApp) => api.app.store.read.auditLog.listAfter(0, 100_000)

t.test('a multi-chunk import with one bad flag imports nothing', async (t) => {
  const api = await withRing(t)
  const eventsBefore = (await allEvents(api)).length

  await t.test('refused by validation, the last flag of the body', async (t) => {
    const body = features('bad-last')
    body[body.length - 1] = {
      ...body[body.length - 1]!,
      strategies: [
        { name: 'default', constraints: [{ contextName: 'x', operator: 'REGEX', value: '[' }] },
      ],
    }
    const response = await api.request({
      method: 'POST',
      url: '/v1/flags/import',
      body: { ring: 'ring-0', features: body },
    })
    t.equal(response.status, 400, JSON.stringify(response.body).slice(0, 300))
    t.equal(response.body.type, '/problems/invalid-flag')
    t.equal(
      response.body.errors[0].path,
      `body/features/${flagCount - 1}/strategies/0/constraints/0/value`,
    )
  })

  await t.test('refused by the database, after earlier chunks were written', async (t) => {
    // Validation does not look at descriptions; the database refuses a NUL in text. The flag
    // sorts last, so the store has written every chunk before its own when it fails.
    const body = features('bad-in-db')
    body.push({
      name: 'bad-in-db-zz',
      enabled: true,
      description: 'nul \u0000 here',
      strategies: [],
    })
    const context: CommandContext = {
      actor: { tokenId: 'test', tokenName: 'test', subject: 'importer', role: 'admin', ring: null },
      requestId: uniqueName('import'),
    }
    const error = await api.app.flags.importFlags(context, { ring: 'ring-0', features: body }).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    t.match(error, { code: 'unstorable-value' }, 'the import fails as a client mistake')
  })

  t.same(await flagKeys(api), [], 'no flag of either import was written')
  t.equal(await api.app.store.read.flagRevisions.current('ring-0'), 0, 'no revision was bumped')
  t.equal((await allEvents(api)).length, eventsBefore, 'no audit event was written')
  const changes = await api.app.store.read.flagRevisions.listChanges('ring-0', 0, 10)
  t.same(changes, [], 'no change was logged')
})

t.test('an Idempotency-Key retry of an import gets the same answer and imports once', async (t) => {
  const api = await withRing(t)
  const headers = { 'idempotency-key': uniqueName('import') }
  const body = { ring: 'ring-0', features: features('retry') }
  const first = await api.request({ method: 'POST', url: '/v1/flags/import', body, headers })
  t.equal(first.status, 200, JSON.stringify(first.body).slice(0, 300))
  t.equal(first.body.flags.length, flagCount)
  t.equal(first.body.revision, 1)
  const eventsAfterFirst = (await allEvents(api)).length

  const retry = await api.request({ method: 'POST', url: '/v1/flags/import', body, headers })
  t.equal(retry.status, 200)
  t.same(retry.body, first.body, 'the first answer, flags and revision included')
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal((await allEvents(api)).length, eventsAfterFirst, 'no audit event for the retry')
  t.equal(await api.app.store.read.flagRevisions.current('ring-0'), 1, 'the revision moved once')
  t.equal((await flagKeys(api)).length, flagCount)

  const reused = await api.request({
    method: 'POST',
    url: '/v1/flags/import',
    body: { ring: 'ring-0', features: features('other', 3) },
    headers,
  })
  t.equal(reused.status, 409)
  t.equal(reused.body.type, '/problems/idempotency-key-reused')
  t.equal((await flagKeys(api)).length, flagCount, 'the refused request imported nothing')
})

t.test(
  'an import audits each change once, in the order of the body, in id and time order',
  async (t) => {
    const api = await withRing(t)
    const after = (await allEvents(api)).at(-1)?.id ?? 0
    // One flag exists already and is changed by the import; one is imported unchanged.
    const existing = features('order', 2)
    const seeded = await api.request({
      method: 'POST',
      url: '/v1/flags/import',
      body: { ring: 'ring-0', features: existing },
    })
    t.equal(seeded.status, 200)
    const seededEvents = (await allEvents(api)).filter((event) => event.id > after)
    const body = features('order')
    const unchanged = body.find((feature) => feature.name === existing[0]!.name)!
    Object.assign(unchanged, existing[0])
    const changed = body.find((feature) => feature.name === existing[1]!.name)!
    changed.enabled = !existing[1]!.enabled
    const segments = [{ id: 7, name: uniqueName('segment'), constraints: [] }]

    const response = await api.request({
      method: 'POST',
      url: '/v1/flags/import',
      body: { ring: 'ring-0', features: body, segments },
    })
    t.equal(response.status, 200)
    const events = (await allEvents(api)).filter(
      (event) => event.id > (seededEvents.at(-1)?.id ?? after),
    )
    const expected = [
      { action: 'segment.created', subject: `segment:${segments[0]!.name}` },
      ...body
        .filter((feature) => feature !== unchanged)
        .map((feature) => ({
          action: feature === changed ? 'flag.updated' : 'flag.created',
          subject: `flag:${feature.name}`,
        })),
    ]
    t.same(
      events.map(({ action, subject }) => ({ action, subject })),
      expected,
      'segments first, then each changed flag in the order of the body; the unchanged one not at all',
    )
    t.same(
      response.body.flags,
      body.filter((feature) => feature !== unchanged).map((feature) => feature.name),
    )
    const requestIds = new Set(events.map((event) => event.requestId))
    t.equal(requestIds.size, 1, 'one request')
    const outOfOrder = events.filter((event, index) => {
      const previous = events[index - 1]
      return (
        previous && (event.id !== previous.id + 1 || Date.parse(event.at) < Date.parse(previous.at))
      )
    })
    t.same(outOfOrder, [], 'consecutive ids and non-decreasing times')
    const changedEvent = events.find((event) => event.subject === `flag:${changed.name}`)!
    t.match(changedEvent.data, {
      before: { key: changed.name, rings: [{ ring: 'ring-0', enabled: existing[1]!.enabled }] },
      after: { key: changed.name, rings: [{ ring: 'ring-0', enabled: changed.enabled }] },
      importedInto: 'ring-0',
    })
  },
)

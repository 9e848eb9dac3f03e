import t from 'tap'
import { runCli } from './helpers/cli-process.js'
import { startServer } from './helpers/server-process.js'

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()

t.test('incident declare, mitigate, resolve, list and show', async (t) => {
  const server = await startServer(t)
  await server.call('POST', '/v1/rings', { name: 'ring-0', order: 0 })
  await server.call('POST', '/v1/rings', { name: 'ring-1', order: 1 })
  await server.call('POST', '/v1/scale-units', {
    name: 'team-wus2',
    region: 'westus2',
    ring: 'ring-0',
  })
  await server.call('POST', '/v1/scale-units', {
    name: 'prod-weu',
    region: 'westeurope',
    ring: 'ring-1',
    trafficWeight: 3,
  })
  await server.call('POST', '/v1/services', { name: 'checkout' })
  const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
  const detectedAt = minutesAgo(120)
  const declare = [
    'incident',
    'declare',
    '--service',
    'checkout',
    '--title',
    'checkout answers 500',
    '--severity',
    'sev2',
    '--ring',
    'ring-1',
    '--halt',
    '--detected-at',
    detectedAt,
  ]

  const declared = await runCli(t, [...declare, '-o', 'json'], admin)
  t.equal(declared.code, 0, declared.stderr)
  const incident = JSON.parse(declared.stdout)
  t.match(incident, {
    service: 'checkout',
    severity: 'sev2',
    title: 'checkout answers 500',
    ring: 'ring-1',
    detectedAt,
    startedAt: detectedAt,
    resolvedAt: null,
    createdBy: 'bootstrap-admin',
    trafficShare: 0.75,
  })
  t.type(incident.haltId, 'number', 'a halt was declared with it')
  t.same(await server.call('GET', `/v1/incidents/${incident.id}`), incident)
  const { halts } = await server.call('GET', '/v1/halts?active=true')
  t.match(halts, [{ id: incident.haltId, scope: 'service', target: 'checkout', liftedAt: null }])

  // A pipeline step retried with the same arguments: the same incident, no second halt.
  const retried = await runCli(t, declare, admin)
  t.equal(retried.code, 0, retried.stderr)
  t.match(
    retried.stdout,
    new RegExp(
      `^declared incident ${incident.id} sev2 checkout \\(ring-1\\) open — checkout answers 500\\n`,
    ),
  )
  t.match(retried.stdout, `declared with halt ${incident.haltId} for checkout`)
  t.equal((await server.call('GET', '/v1/incidents')).incidents.length, 1, 'declared once')
  t.equal((await server.call('GET', '/v1/halts?active=true')).halts.length, 1, 'halted once')

  const mitigated = await runCli(
    t,
    ['incident', 'mitigate', String(incident.id), '--at', minutesAgo(90)],
    admin,
  )
  t.equal(mitigated.code, 0, mitigated.stderr)
  t.match(
    mitigated.stdout,
    new RegExp(`^mitigated incident ${incident.id} sev2 checkout \\(ring-1\\) mitigated `),
  )
  const resolvedAt = minutesAgo(60)
  const resolved = await runCli(
    t,
    ['incident', 'resolve', String(incident.id), '--at', resolvedAt, '-o', 'json'],
    admin,
  )
  t.equal(resolved.code, 0, resolved.stderr)
  t.equal(JSON.parse(resolved.stdout).resolvedAt, resolvedAt)
  const stored = await server.call('GET', `/v1/incidents/${incident.id}`)
  t.equal(stored.resolvedAt, resolvedAt)
  t.not(stored.mitigatedAt, null)

  const open = await runCli(t, ['incident', 'list', '--open'], admin)
  t.equal(open.stdout, 'no incidents\n')
  const all = await runCli(t, ['incident', 'list', '--service', 'checkout', '-o', 'json'], admin)
  t.same(
    JSON.parse(all.stdout).incidents.map((found: { id: number }) => found.id),
    [incident.id],
  )
  const shown = await runCli(t, ['incident', 'show', String(incident.id)], admin)
  t.equal(shown.code, 0, shown.stderr)
  t.match(shown.stdout, `resolved ${resolvedAt} — checkout answers 500`)
  t.match(shown.stdout, 'traffic share 75%')
  t.match(shown.stdout, `lift it: ringmaster line resume ${incident.haltId}`)

  // Resolving again at another time is the server's 409, shown as the problem's detail.
  const again = await runCli(t, ['incident', 'resolve', String(incident.id)], admin)
  t.equal(again.code, 1)
  t.match(again.stderr, /^error: .*\(409 /)
})

t.test('incident commands check their arguments before any request', async (t) => {
  // No server: a request would fail with exit 1, so exit 2 shows none was made.
  const env = { RINGMASTER_URL: 'http://127.0.0.1:9', RINGMASTER_TOKEN: 'unused-token' }
  const base = ['incident', 'declare', '--service', 'checkout', '--title', 'down']
  for (const [args, message] of [
    [[...base, '--severity', 'sev9'], /--severity must be one of sev1, sev2, sev3, sev4/],
    [
      [...base, '--severity', 'sev1', '--detected-at', 'yesterday'],
      /--detected-at must be an ISO 8601 time/,
    ],
    [[...base, '--severity', 'sev1', '--release', 'v2'], /--release must be a positive integer/],
    [['incident', 'declare', '--title', 'down', '--severity', 'sev1'], /--service is required/],
    [['incident', 'resolve', 'x'], /ID must be a positive integer/],
    [['incident', 'list', '--open', '--resolved'], /exclude each other/],
  ] as const) {
    const result = await runCli(t, [...args], env)
    t.equal(result.code, 2, args.join(' '))
    t.match(result.stderr, message)
  }
})

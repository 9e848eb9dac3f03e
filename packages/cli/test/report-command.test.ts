import t from 'tap'
import { eventually, runCli } from './helpers/cli-process.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

const hour = 3_600_000

/** Two rings without gates: ring-0 has one scale unit, ring-1 two, so ring-1 is 2/3 of traffic. */
async function topology(server: RunningServer) {
  await server.call('POST', '/v1/rings', { name: 'ring-0', order: 0 })
  await server.call('POST', '/v1/rings', { name: 'ring-1', order: 1 })
  for (const [name, ring] of [
    ['team-wus2', 'ring-0'],
    ['prod-weu', 'ring-1'],
    ['prod-neu', 'ring-1'],
  ]) {
    await server.call('POST', '/v1/scale-units', { name, region: name, ring })
  }
  await server.call('POST', '/v1/services', { name: 'checkout' })
}

async function incident(server: RunningServer, ring: string | undefined, from: number, to: number) {
  const declared = await server.call('POST', '/v1/incidents', {
    service: 'checkout',
    severity: 'sev2',
    title: 'checkout answers 500',
    ...(ring && { ring }),
    detectedAt: new Date(from).toISOString(),
  })
  await server.call('POST', `/v1/incidents/${declared.id}/resolve`, {
    at: new Date(to).toISOString(),
  })
}

t.test(
  'report reliability shows the figures with units, and the API body with -o json',
  async (t) => {
    const server = await startServer(t)
    await topology(server)
    const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
    const day = new Date(Date.now() - 5 * 24 * hour)
    day.setUTCHours(0, 0, 0, 0)
    const start = day.getTime()
    // 06:00–08:00 on ring-1 (2/3 of traffic) and 12:00–12:30 on the whole fleet.
    await incident(server, 'ring-1', start + 6 * hour, start + 8 * hour)
    await incident(server, undefined, start + 12 * hour, start + 12.5 * hour)
    const date = day.toISOString().slice(0, 10)
    const window = [
      '--service',
      'checkout',
      '--from',
      date,
      '--to',
      new Date(start + 24 * hour).toISOString(),
    ]

    const text = await runCli(t, ['report', 'reliability', ...window], admin)
    t.equal(text.code, 0, text.stderr)
    const lines = text.stdout.split('\n')
    t.equal(
      lines[0],
      `reliability of checkout, ${day.toISOString()} to ${new Date(start + 24 * hour).toISOString()} (1d 0h)`,
    )
    const row = (label: string) => lines.find((line) => line.trimStart().startsWith(label))?.trim()
    t.equal(row('incidents'), 'incidents                         2 detected: 0 open, 2 resolved')
    t.match(row('MTTR'), /mean 1h 15m, median 1h 15m \(2 resolved incidents\)$/)
    t.match(row('MTBF'), /mean 4h 0m, median 4h 0m \(1 gap\)$/)
    // 2.5 h of 24 h down; weighted: 2 h × 2/3 + 0.5 h × 1 = 1 h 50 m.
    t.match(row('availability'), /89\.583%$/)
    t.match(row('traffic-weighted MTTR'), /mean 55m 0s, median 55m 0s \(2 resolved incidents\)$/)
    t.match(row('traffic-weighted availability'), /92\.361%$/)
    t.match(row('DORA'), 'a deployment is a release reaching ring-1')
    t.match(row('deployments'), /0 \(0\.00 per day\)$/)
    t.match(row('change failure rate'), /n\/a \(no deployments\)$/)
    t.match(row('lead time for changes'), /n\/a \(no deployments with a commit time\)$/)

    const json = await runCli(t, ['report', 'reliability', ...window, '-o', 'json'], admin)
    t.equal(json.code, 0, json.stderr)
    const query = new URLSearchParams({
      service: 'checkout',
      from: day.toISOString(),
      to: new Date(start + 24 * hour).toISOString(),
    })
    const expected = await server.call('GET', `/v1/reports/reliability?${query}`)
    t.same(JSON.parse(json.stdout), expected, 'the API body as it is')
    t.match(expected, { incidents: { total: 2 }, mttr: { count: 2, meanSeconds: 4500 } })
  },
)

t.test('report reliability counts a release that reached the outermost ring', async (t) => {
  const server = await startServer(t)
  await topology(server)
  const admin = { RINGMASTER_URL: server.url, RINGMASTER_TOKEN: server.adminToken }
  const release = await server.call('POST', '/v1/releases', {
    service: 'checkout',
    version: '1.0.0',
    commit: '4f2a9c1',
    commitTime: new Date(Date.now() - 3 * hour).toISOString(),
  })
  for (const scaleUnit of ['team-wus2', 'prod-neu', 'prod-weu']) {
    const { id } = await eventually(`a deployment on ${scaleUnit}`, async () => {
      const desired = await server.call('GET', `/v1/scale-units/${scaleUnit}/desired`)
      return desired.deployments[0] as { id: number } | undefined
    })
    await server.call('POST', `/v1/deployments/${id}/start`)
    await server.call('POST', `/v1/deployments/${id}/complete`, { result: 'succeeded' })
  }
  await eventually('the release to succeed', async () => {
    const found = await server.call('GET', `/v1/releases/${release.id}`)
    return found.state === 'succeeded'
  })

  const from = new Date(Date.now() - 24 * hour).toISOString()
  const result = await runCli(t, ['report', 'reliability', '--from', from], admin)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /^ {2}deployments {23}1 \(1\.00 per day\)$/m)
  t.match(
    result.stdout,
    /^ {2}lead time for changes {13}mean 3h 0m, median 3h 0m \(1 deployment\)$/m,
  )
  t.match(result.stdout, /^ {2}change failure rate {15}0\.0% \(0 of 1\)$/m)
  t.match(result.stdout, /^ {2}availability {22}100\.000%$/m)

  const usage = await runCli(
    t,
    ['report', 'reliability', '--from', '2026-02-01', '--to', '2026-01-01'],
    admin,
  )
  t.equal(usage.code, 2)
  t.match(usage.stderr, '--from must be before --to')
  const bad = await runCli(t, ['report', 'reliability', '--to', 'last week'], admin)
  t.equal(bad.code, 2)
  t.match(bad.stderr, '--to must be an ISO 8601 time')
})

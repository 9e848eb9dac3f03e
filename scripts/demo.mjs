#!/usr/bin/env node
// Seeds the model release's topology into a running control plane: 4 rings into 12 scale units
// across regions, the team's own scale unit alone in ring 0, lead engineers approving ring 0.
// Safe to run again: what exists is brought to the described state, nothing is duplicated.
// Then rolls a new version of `checkout` out through the rings: a pipeline creates the release, a
// built-in executor deploys it, a lead approves ring 0, and each bake is cut short so the demo
// ends in seconds rather than hours. Every run makes a new release.
//
//   RINGMASTER_TOKEN=<admin token> pnpm demo        (RINGMASTER_URL defaults to http://127.0.0.1:3000)
//   pnpm demo --seed-only                           only the topology, no rollout
//   RINGMASTER_DEMO_AUTO_APPROVE=1 pnpm demo        approve ring 0 without asking

const baseUrl = (process.env.RINGMASTER_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '')
const token = process.env.RINGMASTER_TOKEN ?? process.env.RINGMASTER_ADMIN_TOKEN

if (!token) {
  console.error(
    'Set RINGMASTER_TOKEN to an admin token: the server prints one on its first start\n' +
      '("generated the bootstrap admin token"), or use the RINGMASTER_ADMIN_TOKEN you started it with.',
  )
  process.exit(2)
}

const health = { maxErrorRate: 0.01, maxP99Ms: 800 }
const rings = [
  {
    name: 'ring-0',
    order: 0,
    description: "The team's own scale unit: if anything breaks, it breaks on us first",
    policy: {
      preApproval: { role: 'approver', minApprovals: 1, ttlHours: 24 },
      bakeMinutes: 60,
      maxParallel: 1,
      health,
    },
  },
  {
    name: 'ring-1',
    order: 1,
    description: 'Internal users and friendly early adopters',
    policy: { bakeMinutes: 120, maxParallel: 1, health },
  },
  {
    name: 'ring-2',
    order: 2,
    description: 'The first public scale units, one per geography',
    policy: { bakeMinutes: 240, maxParallel: 2, health },
  },
  {
    name: 'ring-3',
    order: 3,
    description: 'Everyone else',
    policy: { bakeMinutes: 0, maxParallel: 3, health },
  },
]

// [name, region, ring, paired with]
const scaleUnits = [
  ['team-wus2', 'westus2', 'ring-0', null],
  ['internal-cus', 'centralus', 'ring-1', null],
  ['public-eus', 'eastus', 'ring-2', null],
  ['public-weu', 'westeurope', 'ring-2', null],
  ['public-sea', 'southeastasia', 'ring-2', null],
  ['wide-wus', 'westus', 'ring-3', 'public-eus'],
  ['wide-neu', 'northeurope', 'ring-3', 'public-weu'],
  ['wide-ea', 'eastasia', 'ring-3', 'public-sea'],
  ['wide-eus2', 'eastus2', 'ring-3', null],
  ['wide-uks', 'uksouth', 'ring-3', 'wide-ukw'],
  ['wide-ukw', 'ukwest', 'ring-3', null],
  ['wide-aue', 'australiaeast', 'ring-3', null],
]

async function api(method, path, body, secret = token) {
  let response
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
  } catch (error) {
    console.error(
      `Cannot reach the control plane at ${baseUrl} (${error.cause?.code ?? error.message}). Is it running?`,
    )
    process.exit(1)
  }
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

function fail(what, response) {
  console.error(
    `${what} failed: ${response.status} ${response.body?.detail ?? JSON.stringify(response.body)}`,
  )
  process.exit(1)
}

/** Creates the thing, or brings an existing one to the described state. */
async function upsert(collection, name, createBody, updateBody) {
  const created = await api('POST', `/v1/${collection}`, createBody)
  if (created.status === 201) return 'created'
  if (created.status !== 409) fail(`creating ${collection}/${name}`, created)
  const existing = await api('GET', `/v1/${collection}/${name}`)
  if (existing.status !== 200) fail(`creating ${collection}/${name}`, created)
  const updated = await api('PATCH', `/v1/${collection}/${name}`, updateBody)
  if (updated.status !== 200) fail(`updating ${collection}/${name}`, updated)
  return 'updated'
}

// Rings first, moved out of the way when an earlier run or a person took their order.
const existingRings = (await api('GET', '/v1/rings')).body?.rings ?? []
for (const ring of rings) {
  const holder = existingRings.find(
    (other) => other.order === ring.order && other.name !== ring.name,
  )
  if (holder) {
    const moved = await api('PATCH', `/v1/rings/${holder.name}`, { order: 1000 - ring.order })
    if (moved.status !== 200) fail(`moving ring ${holder.name} out of order ${ring.order}`, moved)
  }
  const { name, ...change } = ring
  console.log(`ring ${name}: ${await upsert('rings', name, ring, change)}`)
}

for (const [name, region, ring] of scaleUnits) {
  const outcome = await upsert('scale-units', name, { name, region, ring }, { region, ring })
  console.log(`scale unit ${name} (${region}, ${ring}): ${outcome}`)
}
for (const [name, , , pairedWith] of scaleUnits) {
  if (!pairedWith) continue
  const paired = await api('PATCH', `/v1/scale-units/${name}`, { pairedWith })
  if (paired.status !== 200) fail(`pairing ${name} with ${pairedWith}`, paired)
}

const service = await api('POST', '/v1/services', {
  name: 'checkout',
  description: 'The demo service released through the rings',
  owner: 'payments',
})
if (service.status !== 201 && service.status !== 409) fail('creating service checkout', service)

const summary = (await api('GET', '/v1/rings')).body.rings
console.log('\nThe model release topology:')
for (const ring of summary) {
  console.log(`  ${ring.name} (order ${ring.order}): ${ring.scaleUnits.join(', ')}`)
}

if (process.argv.includes('--seed-only')) process.exit(0)

// The scripted rollout of checkout. Tokens for a pipeline and a lead engineer, each made for this
// run and revoked at its end: the pipeline requests the release and cannot approve it.
const startedAt = Date.now()
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s`
const say = (line) => console.log(`${elapsed()}  ${line}`)
const expiresAt = new Date(Date.now() + 2 * 60 * 60 * 1000).toISOString()

async function issueToken(name, role, subject) {
  const issued = await api('POST', '/v1/tokens', { name, role, subject, expiresAt })
  if (issued.status !== 201) fail(`creating the ${role} token for ${subject}`, issued)
  return issued.body
}
const pipeline = await issueToken('demo-pipeline', 'pipeline', 'demo-pipeline')
const lead = await issueToken('demo-lead', 'approver', 'demo-lead')
async function revokeDemoTokens() {
  for (const issued of [pipeline, lead]) await api('DELETE', `/v1/tokens/${issued.token.id}`)
}
function stop(message) {
  console.error(message)
  return revokeDemoTokens().then(() => process.exit(1))
}

// An earlier demo run that was interrupted leaves its release holding a ring; cancel it.
for (const state of ['queued', 'in_progress', 'halted']) {
  const leftovers = await api('GET', `/v1/releases?service=checkout&state=${state}&limit=200`)
  if (leftovers.status !== 200) fail('listing checkout releases', leftovers)
  for (const old of leftovers.body.releases) {
    if (old.requester !== 'demo-pipeline') continue
    const cancelled = await api('POST', `/v1/releases/${old.id}/cancel`, {
      reason: 'demo: an earlier demo run did not finish',
    })
    if (cancelled.status !== 200) fail(`cancelling release ${old.id}`, cancelled)
    console.log(`cancelled release ${old.id} (${old.version}) left ${state} by an earlier demo run`)
  }
}

// Follow the audit trail from here on.
let cursor = 0
for (;;) {
  const page = await api('GET', `/v1/events?after=${cursor}&limit=500`)
  if (page.status !== 200) fail('reading the audit trail', page)
  cursor = page.body.nextAfter
  if (page.body.events.length < 500) break
}

const version = `1.0.${Math.floor(Date.now() / 1000)}`
console.log(`\nRolling out checkout ${version} through the rings, as demo-pipeline:`)
const created = await api(
  'POST',
  '/v1/releases',
  { service: 'checkout', version, notes: 'Released by pnpm demo' },
  pipeline.secret,
)
if (created.status !== 201) fail(`creating release ${version} of checkout`, created)
const release = created.body
const releaseSubject = `release:${release.id}`
say(
  `release ${release.id}: ${release.stages.map((stage) => `${stage.ring} (${stage.waves.length} wave${stage.waves.length === 1 ? '' : 's'})`).join(' → ')}`,
)

let finished = false
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// The built-in executor: what each scale unit should run, deployed the moment it is asked for.
const executing = new Set()
async function execute(deployment) {
  executing.add(deployment.id)
  try {
    if (deployment.state === 'pending') {
      const started = await api(
        'POST',
        `/v1/deployments/${deployment.id}/start`,
        {},
        pipeline.secret,
      )
      if (started.status !== 200)
        return say(`executor: start ${deployment.id} refused: ${started.body?.detail}`)
      await sleep(300)
    }
    const completed = await api(
      'POST',
      `/v1/deployments/${deployment.id}/complete`,
      {
        result: 'succeeded',
        message: `demo executor: checkout ${deployment.version} is running on ${deployment.scaleUnit}`,
      },
      pipeline.secret,
    )
    if (completed.status !== 200)
      say(`executor: complete ${deployment.id} refused: ${completed.body?.detail}`)
  } finally {
    executing.delete(deployment.id)
  }
}
async function executor() {
  while (!finished) {
    const desired = await Promise.all(
      scaleUnits.map(([name]) =>
        api('GET', `/v1/scale-units/${name}/desired`, undefined, pipeline.secret),
      ),
    )
    for (const { status, body } of desired) {
      if (status !== 200) continue
      for (const deployment of body.deployments) {
        if (deployment.releaseId !== release.id || executing.has(deployment.id)) continue
        void execute(deployment)
      }
    }
    await sleep(500)
  }
}

async function approve(ring) {
  const view = await api('GET', `/v1/releases/${release.id}`)
  for (const blocker of view.body?.blockedBy ?? []) say(`waiting: ${blocker.message}`)
  if (process.stdin.isTTY && process.env.RINGMASTER_DEMO_AUTO_APPROVE !== '1') {
    const { createInterface } = await import('node:readline/promises')
    const prompt = createInterface({ input: process.stdin, output: process.stdout })
    await prompt.question(`Approve ${ring} as demo-lead? [Enter] `)
    prompt.close()
  } else {
    say(`approving ${ring} as demo-lead in 2 s`)
    await sleep(2000)
  }
  const approved = await api(
    'POST',
    `/v1/releases/${release.id}/stages/${ring}/approvals`,
    { decision: 'approve', comment: 'demo: looks good to the lead' },
    lead.secret,
  )
  if (approved.status !== 201) await stop(`approving ${ring} failed: ${approved.body?.detail}`)
}

async function cutBakeShort(ring, from, until) {
  const minutes = Math.round((Date.parse(until) - Date.parse(from)) / 60_000)
  say(
    `${ring} would bake for ${minutes} minutes, until ${until.slice(11, 16)} UTC; demo-lead cuts the bake short (this is a demo)`,
  )
  const promoted = await api(
    'POST',
    `/v1/releases/${release.id}/promote`,
    { reason: 'demo: cutting the bake short' },
    lead.secret,
  )
  if (promoted.status !== 200)
    await stop(`promoting out of ${ring} failed: ${promoted.body?.detail}`)
}

function describe(event) {
  const { data } = event
  const where = event.subject.slice(releaseSubject.length + 1)
  switch (event.action) {
    case 'wave.started':
      return `${data.ring} wave ${data.wave}/${data.of}: ${data.scaleUnits.join(', ')}`
    case 'deployment.started':
    case 'deployment.succeeded':
    case 'deployment.failed':
      return `${where.replace(':', ' / ')}${data.message ? ` — ${data.message}` : ''}`
    case 'approval.granted':
    case 'approval.rejected':
      return `${data.ring} by ${event.actor}${data.comment ? `: ${data.comment}` : ''}`
    case 'release.promoted':
      return `out of ${data.ring} by ${event.actor}: ${data.reason}`
    case 'release.succeeded':
      return `checkout ${data.version} reached ${data.rings}`
    default:
      if (event.action.startsWith('stage.'))
        return `${data.ring}${data.note ? ` — ${data.note}` : ''}`
      return where || `by ${event.actor}`
  }
}

async function follow() {
  while (!finished) {
    const page = await api('GET', `/v1/events?after=${cursor}&limit=500`)
    if (page.status !== 200) await stop(`reading the audit trail failed: ${page.body?.detail}`)
    cursor = page.body.nextAfter
    const ours = page.body.events.filter(
      (event) => event.subject === releaseSubject || event.subject.startsWith(`${releaseSubject}:`),
    )
    // The whole page is told first: events written together are printed together.
    for (const event of ours) say(`${event.action.padEnd(24)} ${describe(event)}`)
    for (const { action, data, at } of ours) {
      if (action === 'stage.awaiting_approval') await approve(data.ring)
      // Bakes are whole minutes; a ring with none (ring-3) moves on by itself.
      else if (action === 'stage.baking' && Date.parse(data.bakeUntil) - Date.parse(at) >= 30_000) {
        await cutBakeShort(data.ring, at, data.bakeUntil)
      } else if (action === 'release.succeeded') finished = true
      else if (
        ['release.failed', 'release.halted', 'release.rolled_back', 'release.cancelled'].includes(
          action,
        )
      ) {
        finished = true
        await stop(`the rollout stopped: ${action}`)
      }
    }
    if (!finished) await sleep(250)
  }
}

const timeout = setTimeout(
  async () => {
    const view = await api('GET', `/v1/releases/${release.id}`)
    await stop(
      `release ${release.id} did not finish in 5 minutes; it is ${view.body?.state}, waiting for: ${(view.body?.blockedBy ?? []).map((b) => b.message).join('; ')}`,
    )
  },
  5 * 60 * 1000,
)
await Promise.all([follow(), executor()])
clearTimeout(timeout)
await revokeDemoTokens()

const final = (await api('GET', `/v1/releases/${release.id}`)).body
const deployed = final.stages
  .flatMap((stage) => stage.deployments)
  .filter((d) => d.state === 'succeeded')
console.log(
  `\nDone: checkout ${version} (release ${release.id}) went through ${final.stages.length} rings (${final.stages.map((stage) => stage.ring).join(', ')}) to ${deployed.length} scale units in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
)
console.log(`The whole story: GET ${baseUrl}/v1/releases/${release.id} and ${baseUrl}/v1/events`)

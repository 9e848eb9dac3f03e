#!/usr/bin/env node
// Seeds the model release's topology into a running control plane: 4 rings into 12 scale units
// across regions, the team's own scale unit alone in ring 0, lead engineers approving ring 0.
// Safe to run again: what exists is brought to the described state, nothing is duplicated.
//
//   RINGMASTER_TOKEN=<admin token> pnpm demo        (RINGMASTER_URL defaults to http://127.0.0.1:3000)

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

async function api(method, path, body) {
  let response
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
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

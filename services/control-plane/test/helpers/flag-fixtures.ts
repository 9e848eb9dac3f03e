/** Sends one admin request; the helpers below work over inject and over a real port alike. */
export type AdminCall = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>

export const internalSegment = {
  description: 'People at the company',
  constraints: [
    {
      contextName: 'email',
      operator: 'STR_ENDS_WITH',
      values: ['@example.com'],
      caseInsensitive: true,
    },
  ],
}

/**
 * A spread of flags over one ring: every deterministic strategy, constraint operators of each
 * family, a segment, feature and strategy variants with payloads and overrides, a dependency,
 * a flag off in the ring, one with no state in it, and one in another project.
 */
export function sampleFlags(ring: string): Record<string, Record<string, unknown>> {
  const on = (strategies: unknown[]) => ({ [ring]: { enabled: true, strategies } })
  return {
    everyone: { rings: on([{ name: 'default' }]), impressionData: true },
    'no-strategies': { rings: on([]) },
    'off-in-ring': { rings: { [ring]: { enabled: false, strategies: [{ name: 'default' }] } } },
    unconfigured: {},
    'beta-plan': {
      rings: on([
        {
          name: 'default',
          constraints: [{ contextName: 'plan', operator: 'IN', values: ['beta', 'pilot'] }],
        },
      ]),
    },
    'rollout-30': {
      rings: on([
        {
          name: 'flexibleRollout',
          parameters: { rollout: '30', stickiness: 'userId', groupId: 'rollout-30' },
        },
      ]),
    },
    'session-rollout': {
      rings: on([
        { name: 'gradualRolloutSessionId', parameters: { percentage: '50', groupId: 'sessions' } },
      ]),
    },
    'listed-users': {
      rings: on([{ name: 'userWithId', parameters: { userIds: 'u1, u3,u5' } }]),
    },
    'office-network': {
      rings: on([{ name: 'remoteAddress', parameters: { IPs: '10.0.0.0/8, 192.168.1.7' } }]),
    },
    'staff-only': { rings: on([{ name: 'default', segments: ['internal'] }]) },
    'new-app-versions': {
      rings: on([
        {
          name: 'default',
          constraints: [{ contextName: 'appVersion', operator: 'SEMVER_GT', value: '2.1.0' }],
        },
      ]),
    },
    adults: {
      rings: on([
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'default', groupId: 'adults' },
          constraints: [
            { contextName: 'age', operator: 'NUM_GTE', value: '18' },
            { contextName: 'country', operator: 'IN', values: ['NO', 'SE'], inverted: true },
          ],
        },
      ]),
    },
    'email-pattern': {
      rings: on([
        {
          name: 'default',
          constraints: [
            { contextName: 'email', operator: 'REGEX', value: '^u[0-4]@', caseInsensitive: true },
          ],
        },
      ]),
    },
    colours: {
      rings: on([{ name: 'default' }]),
      variants: [
        {
          name: 'red',
          weight: 500,
          weightType: 'variable',
          stickiness: 'default',
          payload: { type: 'json', value: '{"hex":"#f00"}' },
        },
        {
          name: 'blue',
          weight: 500,
          weightType: 'variable',
          stickiness: 'default',
          payload: { type: 'string', value: 'blue' },
          overrides: [{ contextName: 'userId', values: ['u2'] }],
        },
      ],
    },
    'checkout-experiment': {
      type: 'experiment',
      rings: on([
        {
          name: 'flexibleRollout',
          parameters: { rollout: '80', stickiness: 'userId', groupId: 'checkout' },
          variants: [
            {
              name: 'one-page',
              weight: 700,
              weightType: 'variable',
              stickiness: 'userId',
              payload: { type: 'number', value: '1' },
            },
            { name: 'wizard', weight: 300, weightType: 'variable', stickiness: 'userId' },
          ],
        },
      ]),
    },
    'beta-child': {
      dependencies: [{ feature: 'beta-plan' }],
      rings: on([{ name: 'default' }]),
    },
    'payments-only': {
      project: 'payments',
      tags: ['team:payments'],
      rings: on([{ name: 'default' }]),
    },
  }
}

/** Creates the segment and every sample flag in `ring` (which must exist). */
export async function seedFlags(call: AdminCall, ring: string): Promise<string[]> {
  const segment = await call('PUT', '/v1/segments/internal', internalSegment)
  if (segment.status >= 300) throw new Error(`segment: ${JSON.stringify(segment.body)}`)
  const flags = sampleFlags(ring)
  for (const [key, body] of Object.entries(flags)) {
    const response = await call('PUT', `/v1/flags/${key}`, body)
    if (response.status >= 300) throw new Error(`flag ${key}: ${JSON.stringify(response.body)}`)
  }
  return Object.keys(flags).sort()
}

/** A context every SDK accepts as is: text fields and text properties. */
export type SampleContext = {
  userId: string
  sessionId: string
  remoteAddress: string
  properties: Record<string, string>
  // An index signature, so the SDKs' own context types accept it.
  [field: string]: string | Record<string, string>
}

/** Deterministic contexts that reach every branch of the sample flags. */
export function sampleContexts(count = 40): SampleContext[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: `u${i}`,
    sessionId: `s${(i * 7) % 23}`,
    remoteAddress: i % 3 === 0 ? `10.1.2.${i}` : i % 3 === 1 ? '192.168.1.7' : `172.16.0.${i}`,
    properties: {
      plan: ['beta', 'free', 'pilot', 'enterprise'][i % 4]!,
      email: i % 2 === 0 ? `u${i}@Example.com` : `u${i}@elsewhere.org`,
      appVersion: `${1 + (i % 3)}.${i % 5}.0`,
      age: String(10 + i),
      country: ['NO', 'DE', 'SE', 'US'][i % 4]!,
    },
  }))
}

/**
 * Waits until the app's snapshot of `ring` has the database's revision. On PostgreSQL the
 * notification of a commit arrives a few milliseconds after the admin request answered.
 */
export async function snapshotCaughtUp(
  app: {
    flagSnapshots: { current(ring: string): { revision: number } | undefined }
    store: { read: { flagRevisions: { current(ring: string): Promise<number> } } }
  },
  ring: string,
  timeoutMs = 5000,
): Promise<void> {
  const revision = await app.store.read.flagRevisions.current(ring)
  const deadline = Date.now() + timeoutMs
  while ((app.flagSnapshots.current(ring)?.revision ?? revision) < revision) {
    if (Date.now() > deadline) throw new Error(`the snapshot of ${ring} did not reach ${revision}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

import { compileFlags, isEnabled } from '@ringmaster/flag-evaluator'
import t from 'tap'
import type { Flag, FlagChange, RingFlagState, Segment } from '../../src/flag/flag.js'
import {
  acceptsSeparateSegments,
  RingClientFeatures,
  revisionOfEtag,
} from '../../src/flag/ring-client-features.js'

const at = '2030-01-01T00:00:00.000Z'

function flag(key: string, overrides: Partial<Flag> = {}): Flag {
  return {
    key,
    project: 'default',
    description: '',
    type: 'release',
    owner: null,
    tags: [],
    impressionData: false,
    stale: false,
    variants: [],
    dependencies: [],
    archived: false,
    rings: [],
    createdAt: at,
    updatedAt: at,
    ...overrides,
  }
}

const internal: Segment = {
  id: 7,
  name: 'internal',
  description: '',
  constraints: [{ contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] }],
  createdAt: at,
  updatedAt: at,
}

function ringState(overrides: Partial<RingFlagState> = {}): RingFlagState {
  return {
    ring: 'ring-0',
    revision: 12,
    segments: [internal],
    changes: [],
    flags: [
      flag('zeta', {
        project: 'payments',
        tags: ['checkout'],
        rings: [
          {
            ring: 'ring-0',
            enabled: true,
            strategies: [
              {
                name: 'default',
                parameters: {},
                constraints: [{ contextName: 'userId', operator: 'IN', values: ['u1', 'u2'] }],
                segments: ['internal'],
                variants: [],
              },
            ],
          },
        ],
      }),
      flag('alpha', { rings: [{ ring: 'ring-1', enabled: true, strategies: [] }] }),
      flag('gone', { archived: true }),
    ],
    ...overrides,
  }
}

t.test('Unleash-Client-Spec 4.2.0 and later get segments as a list', async (t) => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ['', false],
    ['garbage', false],
    ['3.0.0', false],
    ['4.1.9', false],
    ['4.2', true],
    ['4.2.0', true],
    ['4.10.0', true],
    ['5.2.0', true],
    ['v5.0.0', true],
  ]
  for (const [header, expected] of cases) {
    t.equal(acceptsSeparateSegments(header), expected, `spec ${JSON.stringify(header)}`)
  }
})

t.test('features are sorted, ring-specific, and off where the ring has no state', async (t) => {
  const view = new RingClientFeatures(ringState())
  t.same(
    view.features.map((feature) => [feature.name, feature.enabled]),
    [
      ['alpha', false],
      ['zeta', true],
    ],
    'archived flags are left out; alpha is only configured in ring-1',
  )
  t.same(view.feature('alpha')?.strategies, [])
  t.same(view.feature('zeta')?.strategies?.[0]?.segments, [7])
})

t.test('separate segments for new clients, inlined constraints for old ones', async (t) => {
  const view = new RingClientFeatures(ringState())
  const separate = view.body({ inlineSegments: false })
  t.same(separate.segments, [{ id: 7, name: 'internal', constraints: internal.constraints }])
  t.equal(separate.query.inlineSegmentConstraints, false)
  t.equal(separate.meta.revisionId, 12)
  t.match(separate.meta.etag, /^"[0-9a-z]+:12"$/)

  const inlined = view.body({ inlineSegments: true })
  t.notOk('segments' in inlined, 'no segment list for old clients')
  const strategy = inlined.features.find((feature) => feature.name === 'zeta')!.strategies![0]!
  t.notOk('segments' in strategy)
  t.same(strategy.constraints, [
    { contextName: 'userId', operator: 'IN', values: ['u1', 'u2'] },
    ...internal.constraints,
  ])
  t.not(inlined.meta.etag, separate.meta.etag, 'each shape has its own ETag')

  // Both shapes decide the same way.
  const contexts = [
    { userId: 'u1', properties: { email: 'a@example.com' } },
    { userId: 'u1', properties: { email: 'a@elsewhere.com' } },
    { userId: 'u3', properties: { email: 'a@example.com' } },
  ]
  const fromSeparate = compileFlags(separate)
  const fromInlined = compileFlags(inlined)
  for (const context of contexts) {
    t.equal(isEnabled(fromSeparate, 'zeta', context), isEnabled(fromInlined, 'zeta', context))
  }
  t.same(
    contexts.map((context) => isEnabled(fromSeparate, 'zeta', context)),
    [true, false, false],
  )
})

t.test('a strategy naming a missing segment never matches, in either shape', async (t) => {
  const state = ringState({ segments: [] })
  const view = new RingClientFeatures(state)
  const context = { userId: 'u1', properties: { email: 'a@example.com' } }
  for (const inlineSegments of [false, true]) {
    const compiled = compileFlags(view.body({ inlineSegments }))
    t.equal(isEnabled(compiled, 'zeta', context), false, `inlineSegments ${inlineSegments}`)
  }
})

t.test('project, namePrefix and tag filters', async (t) => {
  const view = new RingClientFeatures(ringState())
  const names = (filter: Parameters<RingClientFeatures['body']>[0]['filter']) =>
    view.body({ inlineSegments: false, filter }).features.map((feature) => feature.name)
  t.same(names({ projects: ['payments'] }), ['zeta'])
  t.same(names({ projects: ['default', 'payments'] }), ['alpha', 'zeta'])
  t.same(names({ namePrefix: 'al' }), ['alpha'])
  t.same(names({ tags: ['simple:checkout'] }), ['zeta'])
  t.same(names({ tags: ['checkout'] }), ['zeta'])
  t.same(names({ tags: ['simple:nope'] }), [])
  const body = view.body({ inlineSegments: false, filter: { projects: ['payments'] } })
  t.same(body.query.project, ['payments'])
  t.not(body.meta.queryHash, view.queryHash('separate-segments'), 'a filter changes the hash')
  t.equal(
    view.queryHash('separate-segments', { projects: ['b', 'a'] }),
    view.queryHash('separate-segments', { projects: ['a', 'b', 'a'] }),
    'the hash does not depend on order or repeats',
  )
})

t.test('ETags name their query and revision', async (t) => {
  const view = new RingClientFeatures(ringState())
  const hash = view.queryHash('delta')
  t.equal(revisionOfEtag(view.etag('delta'), hash), 12)
  t.equal(revisionOfEtag(`W/${view.etag('delta')}`, hash), 12)
  t.equal(revisionOfEtag(view.etag('separate-segments'), hash), undefined, 'other query')
  t.equal(revisionOfEtag('"12"', hash), undefined)
  t.equal(revisionOfEtag(undefined, hash), undefined)
})

t.test('delta events: one per flag or segment, as it is now, oldest first', async (t) => {
  const view = new RingClientFeatures(ringState())
  const changes: FlagChange[] = [
    { ring: 'ring-0', revision: 9, kind: 'flag', name: 'zeta' },
    { ring: 'ring-0', revision: 10, kind: 'flag', name: 'dropped' },
    { ring: 'ring-0', revision: 10, kind: 'segment', name: 'old', segmentId: 3 },
    { ring: 'ring-0', revision: 11, kind: 'segment', name: 'internal', segmentId: 7 },
    { ring: 'ring-0', revision: 12, kind: 'flag', name: 'alpha' },
    { ring: 'ring-0', revision: 12, kind: 'flag', name: 'zeta' },
    { ring: 'ring-0', revision: 13, kind: 'flag', name: 'future' },
  ]
  const events = view.delta(changes)
  t.same(
    events.map((event) => [event.type, event.eventId]),
    [
      ['feature-removed', 10],
      ['segment-removed', 10],
      ['segment-updated', 11],
      ['feature-updated', 12],
      ['feature-updated', 12],
    ],
    'changes past the view revision are not served',
  )
  t.match(events[0], { featureName: 'dropped' })
  t.match(events[2], { segment: { id: 7 } })
  t.match(events[3], { feature: { name: 'alpha' } })

  const filtered = view.delta(changes, { projects: ['payments'] })
  t.match(
    filtered.find((event) => event.type === 'feature-removed' && event.featureName === 'alpha'),
    { project: 'default' },
    'a flag outside the filter is removed from the client',
  )

  const hydration = view.hydration({ namePrefix: 'z' })
  t.match(hydration, { type: 'hydration', eventId: 12 })
  t.same(hydration.type === 'hydration' && hydration.features.map((feature) => feature.name), [
    'zeta',
  ])
})

import t from 'tap'
import type { Deployment, Halt, Release, Stage } from '../../src/release/release.js'
import { defaultRingPolicy } from '../../src/ring-policy.js'
import type { StoreTransaction } from '../../src/store.js'
import { derivedSpanId, type NewRolloutSpan } from '../../src/trace/rollout-span.js'
import {
  deploymentSpan,
  healthGateSpan,
  lineHaltSpan,
  recordSpans,
  rollbackSpan,
  spanOk,
  stageSpan,
  waveSpan,
} from '../../src/trace/rollout-trace.js'

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'

const release: Release = {
  id: 12,
  service: 'checkout',
  version: '2.4.0',
  commit: 'bad0c0de',
  commitTime: null,
  buildUrl: null,
  notes: '',
  kind: 'standard',
  reason: null,
  requester: 'ci-bot',
  ringFrom: 'ring-0',
  ringTo: 'ring-1',
  state: 'in_progress',
  halt: null,
  outcome: null,
  traceId,
  incidentId: null,
  createdAt: '2026-11-23T09:00:00.000Z',
  updatedAt: '2026-11-23T09:00:00.000Z',
  finishedAt: null,
}

const stage: Stage = {
  id: 40,
  releaseId: 12,
  position: 1,
  ring: 'ring-1',
  ringOrder: 1,
  policy: defaultRingPolicy,
  waves: [['eu-1'], ['eu-2', 'us-1']],
  state: 'deploying',
  currentWave: 0,
  gate: null,
  stateSince: '2026-11-23T10:00:00.000Z',
  waveStartedAt: '2026-11-23T10:00:00.000Z',
  startedAt: '2026-11-23T10:00:00.000Z',
  deployedAt: null,
  bakeUntil: null,
  approvalExpiresAt: null,
  finishedAt: null,
  freezeOverride: null,
}

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 90,
    releaseId: 12,
    stageId: 40,
    ring: 'ring-1',
    service: 'checkout',
    scaleUnit: 'eu-1',
    wave: 0,
    kind: 'deploy',
    version: '2.4.0',
    previousVersion: '2.3.0',
    state: 'succeeded',
    attempt: 1,
    message: null,
    logsUrl: null,
    createdAt: '2026-11-23T10:00:00.000Z',
    requestedAt: '2026-11-23T10:00:00.000Z',
    startedAt: '2026-11-23T10:01:00.000Z',
    finishedAt: '2026-11-23T10:05:00.000Z',
    ...overrides,
  }
}

function halt(overrides: Partial<Halt> = {}): Halt {
  return {
    id: 7,
    scope: 'global',
    target: null,
    reason: 'incident in progress',
    createdBy: 'sam',
    createdAt: '2026-11-23T10:20:00.000Z',
    liftedBy: null,
    liftedAt: null,
    incidentId: null,
    ...overrides,
  }
}

t.test('span names carry no version or scale unit; those are facts', async (t) => {
  const spans = [
    stageSpan(release, stage, '2026-11-23T11:00:00.000Z', 'succeeded', spanOk),
    waveSpan(release, stage, 1, '2026-11-23T11:00:00.000Z', spanOk),
    deploymentSpan(release, deployment(), 'westeurope'),
    deploymentSpan(release, deployment({ kind: 'rollback', version: '2.3.0' }), null, 'good'),
    rollbackSpan(
      { ...release, finishedAt: '2026-11-23T11:00:00.000Z' },
      '2026-11-23T11:10:00.000Z',
      [],
    ),
    healthGateSpan(
      release,
      stage,
      {
        id: 3,
        scaleUnit: 'eu-1',
        service: 'checkout',
        status: 'healthy',
        signals: {},
        reportedBy: 'probe',
        at: '2026-11-23T10:06:00.000Z',
      },
      'westeurope',
      { passed: true, signal: 'errorRate', value: 0, threshold: 0.01, reasons: [] },
    ),
  ]
  t.strictSame(
    spans.map((span) => span.name),
    [
      'ring ring-1',
      'wave 2/2 ring-1',
      'deploy ring-1',
      'rollback ring-1',
      'rollback checkout',
      'health gate ring-1',
    ],
  )
  for (const span of spans) {
    t.notMatch(span.name, /2\.4\.0|2\.3\.0|eu-1|eu-2|us-1/, `${span.name}: low-cardinality`)
  }
  t.match(spans[2]!.facts, { scaleUnit: 'eu-1', version: '2.4.0', taskRunId: 'deployment/90/1' })
  t.match(spans[5]!.facts, { scaleUnit: 'eu-1', taskRunId: 'health-gate/40/3' })
})

t.test('a deployment span pairs the version it installs with that version’s commit', async (t) => {
  const deploy = deploymentSpan(release, deployment(), null)
  t.match(deploy.facts, { version: '2.4.0', commit: 'bad0c0de', previousVersion: '2.3.0' })
  const undo = deploymentSpan(
    release,
    deployment({ id: 91, kind: 'rollback', version: '2.3.0', previousVersion: '2.4.0' }),
    null,
    'f00d',
  )
  t.match(undo.facts, { version: '2.3.0', commit: 'f00d', previousVersion: '2.4.0' })
  const unknown = deploymentSpan(
    release,
    deployment({ id: 92, kind: 'rollback', version: null, previousVersion: '2.4.0' }),
    null,
    null,
  )
  t.equal(unknown.facts.version, undefined)
  t.equal(unknown.facts.commit, null, 'no commit rather than the one being undone')
})

t.test('a line halt hangs from the stage it held, from when it applied', async (t) => {
  const held = stageSpan(release, stage, '2026-11-23T10:50:00.000Z', 'in_progress', spanOk)
  const lifted = lineHaltSpan(held, halt(), '2026-11-23T10:50:00.000Z', 'lifted')
  t.match(lifted, {
    traceId,
    spanId: derivedSpanId(traceId, 'line-halt', 7, held.spanId),
    parentSpanId: held.spanId,
    step: 'halt',
    name: 'halt ring-1',
    startedAt: '2026-11-23T10:20:00.000Z',
    endedAt: '2026-11-23T10:50:00.000Z',
    status: 'unset',
    errorType: null,
    facts: {
      releaseId: 12,
      ring: 'ring-1',
      haltId: 7,
      haltScope: 'global',
      haltTarget: null,
      haltedBy: 'sam',
      reason: 'incident in progress',
      outcome: 'lifted',
    },
  })
  const older = lineHaltSpan(
    held,
    halt({ createdAt: '2026-11-23T08:00:00.000Z' }),
    held.endedAt,
    'lifted',
  )
  t.equal(older.startedAt, stage.startedAt, 'a halt older than the stage holds it from its start')
  t.not(
    lineHaltSpan(held, halt({ id: 8 }), held.endedAt, 'lifted').spanId,
    lifted.spanId,
    'two halts on one stage are two spans',
  )
})

t.test('recording a stage end records the halts still holding it', async (t) => {
  const inserted: NewRolloutSpan[] = []
  const active = [
    halt({ id: 1, scope: 'service', target: 'checkout' }),
    halt({ id: 2, scope: 'ring', target: 'ring-0' }),
    halt({ id: 3, scope: 'service', target: 'payments' }),
    halt({ id: 4, scope: 'ring', target: 'ring-1' }),
  ]
  // Only what recordSpans reads and writes.
  const tx = {
    halts: { listActive: async () => active },
    rolloutSpans: {
      insertMany: async (spans: readonly NewRolloutSpan[]) => {
        inserted.push(...spans)
      },
    },
  } as unknown as StoreTransaction
  const ended = stageSpan(release, stage, '2026-11-23T11:00:00.000Z', 'rolled_back', {
    status: 'error',
    errorType: 'rolled_back',
    statusMessage: 'bad',
  })
  await recordSpans(tx, [ended])
  t.strictSame(
    inserted.map((span) => [
      span.step,
      span.facts.haltId ?? null,
      span.endedAt,
      span.facts.outcome,
    ]),
    [
      ['halt', 1, '2026-11-23T11:00:00.000Z', 'rolled_back'],
      ['halt', 4, '2026-11-23T11:00:00.000Z', 'rolled_back'],
      ['stage', null, '2026-11-23T11:00:00.000Z', 'rolled_back'],
    ],
    'the service and ring halts covering ring-1 of checkout, and the stage itself',
  )
  inserted.length = 0
  await recordSpans(tx, [waveSpan(release, stage, 0, '2026-11-23T10:05:00.000Z', spanOk)])
  t.strictSame(
    inserted.map((span) => span.step),
    ['wave'],
    'only a stage end closes halt spans',
  )
})

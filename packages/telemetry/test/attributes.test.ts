import { type RolloutSpanFacts, type RolloutSpanStep, rolloutSpanSteps } from '@ringmaster/domain'
import t from 'tap'
import { attributeNames, rolloutSpanAttributes } from '../src/attributes.js'

t.test('facts map to semantic conventions and ringmaster.* attributes', async (t) => {
  const cases: Array<{
    name: string
    step: RolloutSpanStep
    /** The span's name; pipeline tasks are named by it. */
    spanName?: string
    facts: RolloutSpanFacts
    expected: Record<string, unknown>
  }> = [
    {
      name: 'a succeeded release is a successful pipeline run',
      step: 'release',
      facts: {
        releaseId: 12,
        service: 'checkout',
        version: '1.4.0',
        commit: '9f1c2ab',
        releaseKind: 'standard',
        requester: 'ci-bot',
        outcome: 'succeeded',
      },
      expected: {
        'ringmaster.step': 'release',
        'ringmaster.release.id': 12,
        'cicd.pipeline.run.id': '12',
        'cicd.pipeline.name': 'checkout',
        'ringmaster.service': 'checkout',
        'ringmaster.release.version': '1.4.0',
        'vcs.ref.head.revision': '9f1c2ab',
        'ringmaster.release.kind': 'standard',
        'ringmaster.release.requester': 'ci-bot',
        'ringmaster.outcome': 'succeeded',
        'cicd.pipeline.result': 'success',
      },
    },
    {
      name: 'a cancelled release is a cancellation',
      step: 'release',
      facts: { releaseId: 3, outcome: 'cancelled' },
      expected: {
        'ringmaster.step': 'release',
        'ringmaster.release.id': 3,
        'cicd.pipeline.run.id': '3',
        'ringmaster.outcome': 'cancelled',
        'cicd.pipeline.result': 'cancellation',
      },
    },
    {
      name: 'a superseded release was skipped',
      step: 'release',
      facts: { outcome: 'superseded' },
      expected: {
        'ringmaster.step': 'release',
        'ringmaster.outcome': 'superseded',
        'cicd.pipeline.result': 'skip',
      },
    },
    {
      name: 'a rolled back release failed',
      step: 'release',
      facts: { outcome: 'rolled_back', reason: 'errors in ring 1' },
      expected: {
        'ringmaster.step': 'release',
        'ringmaster.outcome': 'rolled_back',
        'ringmaster.reason': 'errors in ring 1',
        'cicd.pipeline.result': 'failure',
      },
    },
    {
      name: 'a halt has no CI/CD result: it is not an ending',
      step: 'halt',
      facts: { outcome: 'halted', haltCause: 'manual', haltedBy: 'alice', reason: 'pager' },
      expected: {
        'ringmaster.step': 'halt',
        'ringmaster.outcome': 'halted',
        'ringmaster.halt.cause': 'manual',
        'ringmaster.halt.by': 'alice',
        'ringmaster.reason': 'pager',
      },
    },
    {
      name: 'a stop of the line names the halt, its scope and target; it is not a task',
      step: 'halt',
      spanName: 'halt ring-1',
      facts: {
        ring: 'ring-1',
        haltId: 9,
        haltScope: 'service',
        haltTarget: 'checkout',
        haltedBy: 'sam',
        reason: 'bad config',
        outcome: 'lifted',
      },
      expected: {
        'ringmaster.step': 'halt',
        'ringmaster.ring.name': 'ring-1',
        'ringmaster.halt.id': 9,
        'ringmaster.halt.scope': 'service',
        'ringmaster.halt.target': 'checkout',
        'ringmaster.halt.by': 'sam',
        'ringmaster.reason': 'bad config',
        'ringmaster.outcome': 'lifted',
      },
    },
    {
      name: 'a rollback is a deploy task, one per release',
      step: 'rollback',
      spanName: 'rollback checkout',
      facts: { taskRunId: 'rollback', service: 'checkout', outcome: 'succeeded' },
      expected: {
        'ringmaster.step': 'rollback',
        'cicd.pipeline.task.run.id': 'rollback',
        'cicd.pipeline.name': 'checkout',
        'ringmaster.service': 'checkout',
        'cicd.pipeline.task.name': 'rollback checkout',
        'cicd.pipeline.task.type': 'deploy',
        'ringmaster.outcome': 'succeeded',
        'cicd.pipeline.task.run.result': 'success',
      },
    },
    {
      name: 'a stage is a task of the run; its ring is ringmaster.ring.*, not an environment',
      step: 'stage',
      spanName: 'ring ring-1',
      facts: { taskRunId: 'stage/12', ring: 'ring-1', ringOrder: 1, waves: 3, outcome: 'failed' },
      expected: {
        'ringmaster.step': 'stage',
        'cicd.pipeline.task.name': 'ring ring-1',
        'cicd.pipeline.task.run.id': 'stage/12',
        'ringmaster.ring.name': 'ring-1',
        'ringmaster.ring.order': 1,
        'ringmaster.wave_count': 3,
        'ringmaster.outcome': 'failed',
        'cicd.pipeline.task.run.result': 'failure',
      },
    },
    {
      name: 'a wave is a deploy task and lists its scale units',
      step: 'wave',
      spanName: 'wave 2/3 ring-1',
      facts: { wave: 2, waves: 3, scaleUnits: ['eu-1', 'eu-2'], outcome: 'succeeded' },
      expected: {
        'ringmaster.step': 'wave',
        'cicd.pipeline.task.name': 'wave 2/3 ring-1',
        'cicd.pipeline.task.type': 'deploy',
        'ringmaster.wave': 2,
        'ringmaster.wave_count': 3,
        'ringmaster.scale_units': ['eu-1', 'eu-2'],
        'ringmaster.outcome': 'succeeded',
        'cicd.pipeline.task.run.result': 'success',
      },
    },
    {
      name: 'a succeeded deployment has a deployment status and id, and is one task run',
      step: 'deployment',
      spanName: 'deploy ring-1',
      facts: {
        taskRunId: 'deployment/40/2',
        deploymentId: 40,
        deploymentKind: 'deploy',
        attempt: 2,
        previousVersion: '1.3.9',
        scaleUnit: 'eu-1',
        region: 'westeurope',
        outcome: 'succeeded',
      },
      expected: {
        'ringmaster.step': 'deployment',
        'cicd.pipeline.task.name': 'deploy ring-1',
        'cicd.pipeline.task.run.id': 'deployment/40/2',
        'deployment.id': '40',
        'ringmaster.deployment.kind': 'deploy',
        'ringmaster.deployment.attempt': 2,
        'ringmaster.deployment.previous_version': '1.3.9',
        'ringmaster.scale_unit': 'eu-1',
        'ringmaster.region': 'westeurope',
        'ringmaster.outcome': 'succeeded',
        'deployment.status': 'succeeded',
        'cicd.pipeline.task.type': 'deploy',
        'cicd.pipeline.task.run.result': 'success',
      },
    },
    {
      name: 'a failed deployment',
      step: 'deployment',
      spanName: 'deploy ring-0',
      facts: { deploymentId: 41, outcome: 'failed' },
      expected: {
        'ringmaster.step': 'deployment',
        'cicd.pipeline.task.name': 'deploy ring-0',
        'deployment.id': '41',
        'ringmaster.outcome': 'failed',
        'deployment.status': 'failed',
        'cicd.pipeline.task.type': 'deploy',
        'cicd.pipeline.task.run.result': 'failure',
      },
    },
    {
      name: 'a rolled back deployment has no deployment status (the conventions know only two)',
      step: 'deployment',
      spanName: 'deploy ring-0',
      facts: { deploymentId: 42, outcome: 'rolled_back' },
      expected: {
        'ringmaster.step': 'deployment',
        'cicd.pipeline.task.name': 'deploy ring-0',
        'deployment.id': '42',
        'ringmaster.outcome': 'rolled_back',
        'cicd.pipeline.task.type': 'deploy',
        'cicd.pipeline.task.run.result': 'failure',
      },
    },
    {
      name: 'a rejected approval',
      step: 'approval',
      spanName: 'pre-approval ring-0',
      facts: {
        gate: 'pre',
        approvers: ['bob'],
        decision: 'rejected',
        requiredApprovals: 2,
        approverRole: 'approver',
        outcome: 'rejected',
      },
      expected: {
        'ringmaster.step': 'approval',
        'cicd.pipeline.task.name': 'pre-approval ring-0',
        'ringmaster.approval.gate': 'pre',
        'ringmaster.approval.approvers': ['bob'],
        'ringmaster.approval.decision': 'rejected',
        'ringmaster.approval.required_count': 2,
        'ringmaster.approval.approver_role': 'approver',
        'ringmaster.outcome': 'rejected',
        'cicd.pipeline.task.run.result': 'failure',
      },
    },
    {
      name: 'a withdrawn approval was cancelled',
      step: 'approval',
      spanName: 'post-approval ring-2',
      facts: { decision: 'withdrawn', outcome: 'withdrawn' },
      expected: {
        'ringmaster.step': 'approval',
        'cicd.pipeline.task.name': 'post-approval ring-2',
        'ringmaster.approval.decision': 'withdrawn',
        'ringmaster.outcome': 'withdrawn',
        'cicd.pipeline.task.run.result': 'cancellation',
      },
    },
    {
      name: 'a failed health gate is a test task with its signal',
      step: 'health-gate',
      spanName: 'health gate ring-1',
      facts: {
        verdict: 'fail',
        signal: 'errorRate',
        signalValue: 0.05,
        signalThreshold: 0.02,
        healthReportId: 7,
        outcome: 'failed',
      },
      expected: {
        'ringmaster.step': 'health-gate',
        'cicd.pipeline.task.name': 'health gate ring-1',
        'ringmaster.health_gate.verdict': 'fail',
        'ringmaster.health_gate.signal': 'errorRate',
        'ringmaster.health_gate.signal_value': 0.05,
        'ringmaster.health_gate.signal_threshold': 0.02,
        'ringmaster.health_gate.report_id': 7,
        'ringmaster.outcome': 'failed',
        'cicd.pipeline.task.type': 'test',
        'cicd.pipeline.task.run.result': 'failure',
      },
    },
    {
      name: 'a bake cut short',
      step: 'bake',
      spanName: 'bake ring-1',
      facts: { bakeMinutes: 30, bakeCutShort: true, outcome: 'succeeded' },
      expected: {
        'ringmaster.step': 'bake',
        'cicd.pipeline.task.name': 'bake ring-1',
        'ringmaster.bake.minutes': 30,
        'ringmaster.bake.cut_short': true,
        'ringmaster.outcome': 'succeeded',
        'cicd.pipeline.task.run.result': 'success',
      },
    },
    {
      name: 'false is a fact, not an absence',
      step: 'bake',
      spanName: 'bake ring-0',
      facts: { bakeCutShort: false },
      expected: {
        'ringmaster.step': 'bake',
        'cicd.pipeline.task.name': 'bake ring-0',
        'ringmaster.bake.cut_short': false,
      },
    },
    {
      name: 'incidents and their phases are not pipeline tasks',
      step: 'incident-phase',
      facts: {
        incidentId: 5,
        severity: 'sev2',
        title: 'checkout errors',
        phase: 'mitigate',
        outcome: 'succeeded',
      },
      expected: {
        'ringmaster.step': 'incident-phase',
        'ringmaster.incident.id': 5,
        'ringmaster.incident.severity': 'sev2',
        'ringmaster.incident.title': 'checkout errors',
        'ringmaster.incident.phase': 'mitigate',
        'ringmaster.outcome': 'succeeded',
      },
    },
    {
      name: 'null and undefined facts give no attribute',
      step: 'deployment',
      spanName: 'rollback ring-0',
      facts: { commit: null, region: null, previousVersion: null, service: undefined },
      expected: {
        'ringmaster.step': 'deployment',
        'cicd.pipeline.task.name': 'rollback ring-0',
        'cicd.pipeline.task.type': 'deploy',
      },
    },
    {
      name: 'an outcome no convention knows keeps only ringmaster.outcome',
      step: 'stage',
      spanName: 'ring ring-0',
      facts: { outcome: 'awaiting_promotion' },
      expected: {
        'ringmaster.step': 'stage',
        'cicd.pipeline.task.name': 'ring ring-0',
        'ringmaster.outcome': 'awaiting_promotion',
      },
    },
  ]
  for (const { name, step, spanName, facts, expected } of cases) {
    t.strictSame(rolloutSpanAttributes({ step, name: spanName ?? step, facts }), expected, name)
  }
})

t.test('with a public URL, the run and each task run link to the release', async (t) => {
  const publicUrl = 'https://ringmaster.example.com/base'
  const stage = rolloutSpanAttributes(
    { step: 'stage', name: 'ring ring-0', facts: { releaseId: 42, taskRunId: 'stage/12' } },
    { publicUrl },
  )
  t.equal(stage['cicd.pipeline.run.url.full'], 'https://ringmaster.example.com/base/v1/releases/42')
  t.equal(
    stage['cicd.pipeline.task.run.url.full'],
    'https://ringmaster.example.com/base/v1/releases/42#stage/12',
  )
  const release = rolloutSpanAttributes(
    { step: 'release', name: 'release checkout', facts: { releaseId: 42 } },
    { publicUrl: `${publicUrl}/` },
  )
  t.equal(
    release['cicd.pipeline.run.url.full'],
    'https://ringmaster.example.com/base/v1/releases/42',
  )
  t.equal(
    release['cicd.pipeline.task.run.url.full'],
    undefined,
    'the release is the run, not a task',
  )
  const incident = rolloutSpanAttributes(
    { step: 'incident', name: 'incident checkout', facts: { incidentId: 5 } },
    { publicUrl },
  )
  t.equal(incident['cicd.pipeline.run.url.full'], undefined, 'an incident is no pipeline run')
  const unknown = rolloutSpanAttributes({
    step: 'stage',
    name: 'ring ring-0',
    facts: { releaseId: 42, taskRunId: 'stage/12' },
  })
  t.equal(unknown['cicd.pipeline.task.run.url.full'], undefined, 'no address is guessed')
})

t.test('the ring is never deployment.environment.name, which the resource owns', async (t) => {
  for (const step of rolloutSpanSteps) {
    const attributes = rolloutSpanAttributes({ step, name: step, facts: { ring: 'ring-2' } })
    t.equal(attributes['deployment.environment.name'], undefined, `${step}: no environment`)
    t.equal(attributes['ringmaster.ring.name'], 'ring-2', `${step}: the ring by name`)
  }
})

t.test('every fact becomes at least one attribute', async (t) => {
  // Required<> makes this list fail to compile when a fact is added without a value here.
  const oneOfEach: Required<RolloutSpanFacts> = {
    taskRunId: 'stage/1',
    releaseId: 1,
    service: 's',
    version: 'v',
    commit: 'c',
    releaseKind: 'hotfix',
    requester: 'r',
    outcome: 'o',
    ring: 'ring',
    ringOrder: 0,
    scaleUnit: 'su',
    region: 'reg',
    wave: 1,
    waves: 2,
    scaleUnits: ['su'],
    deploymentId: 2,
    deploymentKind: 'rollback',
    attempt: 1,
    previousVersion: 'p',
    gate: 'post',
    approvers: ['a'],
    decision: 'approved',
    requiredApprovals: 1,
    approverRole: 'approver',
    verdict: 'pass',
    signal: 'p99Ms',
    signalValue: 1,
    signalThreshold: 2,
    healthReportId: 3,
    bakeMinutes: 4,
    bakeCutShort: false,
    haltCause: 'health_failed',
    haltedBy: 'h',
    haltId: 6,
    haltScope: 'ring',
    haltTarget: 'ring-0',
    reason: 'why',
    incidentId: 5,
    severity: 'sev1',
    title: 't',
    phase: 'detect',
  }
  for (const [fact, value] of Object.entries(oneOfEach)) {
    const attributes = rolloutSpanAttributes({
      step: 'incident',
      name: 'incident s',
      facts: { [fact]: value },
    })
    const names = Object.keys(attributes).filter((name) => name !== 'ringmaster.step')
    t.ok(names.length > 0, `${fact} gives ${names.join(', ') || 'nothing'}`)
  }
})

t.test('attribute names are unique, and none is also a namespace', async (t) => {
  const names = Object.values(attributeNames)
  t.equal(new Set(names).size, names.length, 'no name is listed twice')
  for (const name of names) {
    const clash = names.find((other) => other.startsWith(`${name}.`))
    t.equal(clash, undefined, `${name} is not a prefix of another name`)
  }
  t.ok(
    names
      .filter((name) => name.startsWith('ringmaster.'))
      .every((name) => /^[a-z0-9_.]+$/.test(name)),
    'ringmaster.* names are lowercase snake_case segments',
  )
})

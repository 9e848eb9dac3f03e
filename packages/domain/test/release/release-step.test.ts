import t from 'tap'
import type {
  Approval,
  ApprovalDecision,
  ApprovalGateName,
  BlockedBy,
  Deployment,
  FreezeWindow,
  Halt,
  HaltScope,
  Release,
  Stage,
} from '../../src/release/release.js'
import type { DeploymentState, ReleaseState, StageState } from '../../src/release/release-states.js'
import {
  approvalWaitExpired,
  approvalWaitExpiresAt,
  currentStage,
  decideNextStep,
  describeHalt,
  describeReleaseHalt,
  haltsHolding,
  openGate,
  type ReleaseSituation,
  type ReleaseStep,
} from '../../src/release/release-step.js'
import { type ApprovalGate, defaultRingPolicy, type RingPolicy } from '../../src/ring-policy.js'

const now = new Date('2025-03-10T12:00:00.000Z')
const minuteMs = 60 * 1000

function minutesFromNow(minutes: number): string {
  return new Date(now.getTime() + minutes * minuteMs).toISOString()
}

const approverGate: ApprovalGate = { role: 'approver', minApprovals: 1, ttlHours: 24 }
const sreGate: ApprovalGate = { role: 'sre', minApprovals: 1, ttlHours: 4 }

function policy(overrides: Partial<RingPolicy> = {}): RingPolicy {
  return { ...defaultRingPolicy, health: {}, ...overrides }
}

function release(overrides: Partial<Release> = {}): Release {
  return {
    id: 42,
    service: 'payments',
    version: '1.4.0',
    commit: 'abc123',
    commitTime: null,
    buildUrl: null,
    notes: '',
    kind: 'standard',
    reason: null,
    requester: 'rita',
    ringFrom: 'ring-0',
    ringTo: 'ring-1',
    state: 'in_progress',
    halt: null,
    outcome: null,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    incidentId: null,
    createdAt: minutesFromNow(-120),
    updatedAt: minutesFromNow(-120),
    finishedAt: null,
    ...overrides,
  }
}

function stage(overrides: Partial<Stage> = {}): Stage {
  const position = overrides.position ?? 0
  return {
    id: 100 + position,
    releaseId: 42,
    position,
    ring: `ring-${position}`,
    ringOrder: position,
    policy: policy(),
    waves: [['su-a', 'su-b'], ['su-c']],
    state: 'pending',
    currentWave: -1,
    gate: null,
    stateSince: null,
    waveStartedAt: null,
    startedAt: null,
    deployedAt: null,
    bakeUntil: null,
    approvalExpiresAt: null,
    finishedAt: null,
    freezeOverride: null,
    ...overrides,
  }
}

let nextId = 1
const stableIds = new Map<string, number>()
/** The same key always gets the same id, so expected steps can be built independently. */
function idFor(key: string): number {
  if (!stableIds.has(key)) stableIds.set(key, 1000 + stableIds.size)
  return stableIds.get(key)!
}

function deployment(scaleUnit: string, state: DeploymentState, wave = 0): Deployment {
  return {
    id: idFor(`deployment ${scaleUnit} ${wave}`),
    releaseId: 42,
    stageId: 100,
    ring: 'ring-0',
    service: 'payments',
    scaleUnit,
    wave,
    kind: 'deploy',
    version: '1.4.0',
    previousVersion: '1.3.0',
    state,
    attempt: 1,
    message: null,
    logsUrl: null,
    createdAt: minutesFromNow(-10),
    requestedAt: minutesFromNow(-10),
    startedAt: null,
    finishedAt: null,
  }
}

function approval(
  subject: string,
  decision: ApprovalDecision = 'approve',
  gate: ApprovalGateName = 'pre',
  at: string = minutesFromNow(-30),
): Approval {
  return {
    id: idFor(`approval ${subject} ${decision} ${gate} ${at}`),
    releaseId: 42,
    stageId: 100,
    ring: 'ring-0',
    gate,
    subject,
    role: 'approver',
    decision,
    comment: '',
    at,
  }
}

function halt(
  scope: HaltScope,
  target: string | null,
  lifted = false,
  incidentId: number | null = null,
): Halt {
  return {
    id: idFor(`halt ${scope} ${target} ${lifted}`),
    scope,
    target,
    reason: incidentId === null ? 'db alarms' : `incident ${incidentId}: checkout 500s`,
    createdBy: 'jane',
    createdAt: minutesFromNow(-5),
    liftedBy: lifted ? 'joe' : null,
    liftedAt: lifted ? minutesFromNow(-1) : null,
    incidentId,
  }
}

/** What blockedBy says for `halt(scope, target, false, incidentId)`. */
function haltBlocker(
  scope: HaltScope,
  target: string | null,
  incidentId: number | null = null,
): BlockedBy {
  const where = scope === 'global' ? 'everywhere' : `${scope} ${target}`
  const reason = incidentId === null ? 'db alarms' : `incident ${incidentId}: checkout 500s`
  return {
    kind: 'halt',
    message: `halted by jane (${where}): ${reason}`,
    halt: {
      id: idFor(`halt ${scope} ${target} false`),
      scope,
      target,
      reason,
      by: 'jane',
      since: minutesFromNow(-5),
      incidentId,
    },
  }
}

function freeze(overrides: Partial<FreezeWindow> = {}): FreezeWindow {
  return {
    id: nextId++,
    name: 'quarter end',
    scope: 'global',
    target: null,
    startsAt: minutesFromNow(-60),
    endsAt: minutesFromNow(120),
    schedule: null,
    reason: 'finance close',
    createdBy: 'jane',
    createdAt: minutesFromNow(-600),
    ...overrides,
  }
}

function situation(overrides: Partial<ReleaseSituation> = {}): ReleaseSituation {
  return {
    release: release(),
    stages: [stage()],
    currentWaveDeployments: [],
    approvals: [],
    halts: [],
    freezeWindows: [],
    ringHolder: null,
    ...overrides,
  }
}

function decide(overrides: Partial<ReleaseSituation> = {}, at: Date = now): ReleaseStep {
  return decideNextStep(situation(overrides), at)
}

const pendingWithPreApproval = stage({ policy: policy({ preApproval: approverGate }) })
const awaitingPre = stage({
  state: 'awaiting_approval',
  gate: 'pre',
  policy: policy({ preApproval: approverGate, postApproval: sreGate }),
})
const awaitingPost = stage({
  state: 'awaiting_approval',
  gate: 'post',
  currentWave: 1,
  policy: policy({ preApproval: approverGate, postApproval: sreGate }),
})
const deployingFirst = stage({ state: 'deploying', policy: policy({ bakeMinutes: 30 }) })
const deployingWave0 = stage({ ...deployingFirst, currentWave: 0 })
const deployingLastWave = stage({ ...deployingFirst, currentWave: 1 })
const bakeUntil = minutesFromNow(30)
const baking = (overrides: Partial<RingPolicy> = {}, until: string | null = bakeUntil) =>
  stage({ state: 'baking', currentWave: 1, bakeUntil: until, policy: policy(overrides) })

const ringHolderMessage = 'waiting for release 41 to leave ring-0'
const freezeBlocker: BlockedBy = {
  kind: 'freeze',
  message: `freeze window 'quarter end' until ${minutesFromNow(120)}: finance close`,
  until: minutesFromNow(120),
}
const globalHaltBlocker = haltBlocker('global', null)

t.test('decideNextStep: the one next thing to do', async (t) => {
  const cases: {
    name: string
    situation: Partial<ReleaseSituation>
    at?: Date
    step: ReleaseStep
  }[] = [
    // pending: entering a ring
    {
      name: 'a queued release without pre-approval starts deploying',
      situation: { release: release({ state: 'queued' }) },
      step: {
        kind: 'move-stage',
        stage: stage(),
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      },
    },
    {
      name: 'a pre-approval gate is waited for first',
      situation: { release: release({ state: 'queued' }), stages: [pendingWithPreApproval] },
      step: {
        kind: 'move-stage',
        stage: pendingWithPreApproval,
        to: 'awaiting_approval',
        gate: 'pre',
        approvalExpiresAt: null,
        note: 'waiting for pre-approval',
      },
    },
    {
      name: 'the next ring is entered once the first succeeded',
      situation: {
        stages: [
          stage({ position: 1 }),
          stage({ position: 0, state: 'succeeded', currentWave: 1 }),
        ],
      },
      step: {
        kind: 'move-stage',
        stage: stage({ position: 1 }),
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      },
    },
    {
      name: 'a ring held by another release',
      situation: { ringHolder: { releaseId: 41 } },
      step: {
        kind: 'wait',
        blockedBy: [{ kind: 'ring-occupied', message: ringHolderMessage }],
        nextCheckAt: null,
      },
    },
    {
      name: 'a ring held by another release, even with a pre-approval to ask for',
      situation: { stages: [pendingWithPreApproval], ringHolder: { releaseId: 41 } },
      step: {
        kind: 'wait',
        blockedBy: [{ kind: 'ring-occupied', message: ringHolderMessage }],
        nextCheckAt: null,
      },
    },
    {
      name: 'an active freeze window waits until it ends',
      situation: { freezeWindows: [freeze()] },
      step: { kind: 'wait', blockedBy: [freezeBlocker], nextCheckAt: minutesFromNow(120) },
    },
    {
      name: 'a freeze window on the ring, held ring too: every blocker is listed',
      situation: {
        ringHolder: { releaseId: 41 },
        freezeWindows: [freeze({ scope: 'ring', target: 'ring-0' })],
      },
      step: {
        kind: 'wait',
        blockedBy: [{ kind: 'ring-occupied', message: ringHolderMessage }, freezeBlocker],
        nextCheckAt: minutesFromNow(120),
      },
    },
    {
      name: 'two freeze windows: checked again when the first one ends',
      situation: {
        freezeWindows: [
          freeze(),
          freeze({ name: 'deploy dinner', endsAt: minutesFromNow(45), reason: 'team offsite' }),
        ],
      },
      step: {
        kind: 'wait',
        blockedBy: [
          freezeBlocker,
          {
            kind: 'freeze',
            message: `freeze window 'deploy dinner' until ${minutesFromNow(45)}: team offsite`,
            until: minutesFromNow(45),
          },
        ],
        nextCheckAt: minutesFromNow(45),
      },
    },
    {
      name: 'a weekly freeze window in force now',
      situation: {
        freezeWindows: [
          freeze({
            startsAt: null,
            endsAt: null,
            schedule: { daysOfWeek: [1], start: '11:00', durationMinutes: 90 },
          }),
        ],
      },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'freeze',
            message: "freeze window 'quarter end' until 2025-03-10T12:30:00.000Z: finance close",
            until: '2025-03-10T12:30:00.000Z',
          },
        ],
        nextCheckAt: '2025-03-10T12:30:00.000Z',
      },
    },
    {
      name: 'a freeze override lets the stage in',
      situation: {
        stages: [
          stage({ freezeOverride: { by: 'ada', reason: 'outage fix', at: minutesFromNow(-1) } }),
        ],
        freezeWindows: [freeze()],
      },
      step: {
        kind: 'move-stage',
        stage: stage({
          freezeOverride: { by: 'ada', reason: 'outage fix', at: minutesFromNow(-1) },
        }),
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      },
    },
    {
      name: 'a freeze override does not override a held ring',
      situation: {
        stages: [
          stage({ freezeOverride: { by: 'ada', reason: 'outage fix', at: minutesFromNow(-1) } }),
        ],
        freezeWindows: [freeze()],
        ringHolder: { releaseId: 41 },
      },
      step: {
        kind: 'wait',
        blockedBy: [{ kind: 'ring-occupied', message: ringHolderMessage }],
        nextCheckAt: null,
      },
    },
    {
      name: 'a freeze window on another service or ring does not block',
      situation: {
        freezeWindows: [
          freeze({ scope: 'service', target: 'search' }),
          freeze({ scope: 'ring', target: 'ring-1' }),
        ],
      },
      step: {
        kind: 'move-stage',
        stage: stage(),
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      },
    },
    {
      name: 'a freeze window that has ended or not begun does not block',
      situation: {
        freezeWindows: [
          freeze({ startsAt: minutesFromNow(-120), endsAt: minutesFromNow(0) }),
          freeze({ startsAt: minutesFromNow(1), endsAt: minutesFromNow(60) }),
        ],
      },
      step: {
        kind: 'move-stage',
        stage: stage(),
        to: 'deploying',
        gate: null,
        note: 'no pre-approval required',
      },
    },
    {
      name: 'a halt keeps a stage from entering its ring',
      situation: { release: release({ state: 'queued' }), halts: [halt('global', null)] },
      step: { kind: 'wait', blockedBy: [globalHaltBlocker], nextCheckAt: null },
    },

    // awaiting_approval
    {
      name: 'enough pre-approvals: deploy',
      situation: { stages: [awaitingPre], approvals: [approval('bob')] },
      step: {
        kind: 'move-stage',
        stage: awaitingPre,
        to: 'deploying',
        gate: null,
        note: 'pre-approval granted',
      },
    },
    {
      name: 'not enough pre-approvals: wait',
      situation: { stages: [awaitingPre] },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'approval',
            message: 'needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'post-approvals do not count for the pre-approval gate',
      situation: { stages: [awaitingPre], approvals: [approval('bob', 'approve', 'post')] },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'approval',
            message: 'needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'an expired pre-approval does not count',
      situation: {
        stages: [awaitingPre],
        approvals: [approval('bob', 'approve', 'pre', minutesFromNow(-25 * 60))],
      },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'approval',
            message: 'needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'a rejection fails the stage even with enough approvals',
      situation: {
        stages: [awaitingPre],
        approvals: [approval('bob'), approval('carl', 'reject')],
      },
      step: {
        kind: 'fail-on-rejection',
        stage: awaitingPre,
        rejection: approval('carl', 'reject'),
      },
    },
    {
      name: 'enough post-approvals: the stage succeeds',
      situation: { stages: [awaitingPost], approvals: [approval('sam', 'approve', 'post')] },
      step: {
        kind: 'move-stage',
        stage: awaitingPost,
        to: 'succeeded',
        gate: null,
        note: 'gates passed',
      },
    },
    {
      name: 'enough post-approvals with manual promotion: wait for the promotion',
      situation: {
        stages: [
          stage({
            ...awaitingPost,
            policy: policy({ postApproval: sreGate, manualPromotion: true }),
          }),
        ],
        approvals: [approval('sam', 'approve', 'post')],
      },
      step: {
        kind: 'move-stage',
        stage: stage({
          ...awaitingPost,
          policy: policy({ postApproval: sreGate, manualPromotion: true }),
        }),
        to: 'awaiting_promotion',
        gate: null,
        note: 'waiting for manual promotion',
      },
    },
    {
      name: 'not enough post-approvals: pre-approvals do not count',
      situation: { stages: [awaitingPost], approvals: [approval('bob', 'approve', 'pre')] },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'approval',
            message: 'needs 1 more approval from role sre (post-approval of ring-0: 0 of 1)',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'a post-approval rejection fails the stage',
      situation: { stages: [awaitingPost], approvals: [approval('sam', 'reject', 'post')] },
      step: {
        kind: 'fail-on-rejection',
        stage: awaitingPost,
        rejection: approval('sam', 'reject', 'post'),
      },
    },

    // deploying
    {
      name: 'no wave started yet: start the first',
      situation: { stages: [deployingFirst] },
      step: { kind: 'start-wave', stage: deployingFirst, wave: 0 },
    },
    {
      name: 'a global halt blocks the next wave',
      situation: { stages: [deployingFirst], halts: [halt('global', null)] },
      step: { kind: 'wait', blockedBy: [globalHaltBlocker], nextCheckAt: null },
    },
    {
      name: 'every covering halt is listed',
      situation: {
        stages: [deployingFirst],
        halts: [halt('service', 'payments'), halt('ring', 'ring-0'), halt('service', 'search')],
      },
      step: {
        kind: 'wait',
        blockedBy: [haltBlocker('service', 'payments'), haltBlocker('ring', 'ring-0')],
        nextCheckAt: null,
      },
    },
    {
      name: 'a halt on another service, another ring or a lifted one does not block',
      situation: {
        stages: [deployingFirst],
        halts: [halt('service', 'search'), halt('ring', 'ring-1'), halt('global', null, true)],
      },
      step: { kind: 'start-wave', stage: deployingFirst, wave: 0 },
    },
    {
      name: 'a wave partly done: wait for the rest',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [
          deployment('su-a', 'succeeded'),
          deployment('su-b', 'in_progress'),
        ],
      },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'deployments',
            message: 'waiting for 1 of 2 deployments in wave 1 of 2 on ring-0: su-b',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'a wave not begun: every unit listed',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'pending'), deployment('su-b', 'in_progress')],
      },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'deployments',
            message: 'waiting for 2 of 2 deployments in wave 1 of 2 on ring-0: su-a, su-b',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'a large wave: the first five are named',
      situation: {
        stages: [
          stage({
            state: 'deploying',
            currentWave: 0,
            waves: [['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']],
          }),
        ],
        currentWaveDeployments: ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'].map((name) =>
          deployment(name, 'pending'),
        ),
      },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'deployments',
            message:
              'waiting for 7 of 7 deployments in wave 1 of 1 on ring-0: u1, u2, u3, u4, u5 and 2 more',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'a failed deployment halts the release, even with others still running',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'failed'), deployment('su-b', 'in_progress')],
      },
      step: {
        kind: 'halt-on-failed-deployments',
        stage: deployingWave0,
        failed: [deployment('su-a', 'failed')],
      },
    },
    {
      name: 'every failed deployment is reported',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'failed'), deployment('su-b', 'failed')],
        halts: [halt('global', null)],
      },
      step: {
        kind: 'halt-on-failed-deployments',
        stage: deployingWave0,
        failed: [deployment('su-a', 'failed'), deployment('su-b', 'failed')],
      },
    },
    {
      name: 'a wave done: start the next',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'succeeded'), deployment('su-b', 'succeeded')],
      },
      step: { kind: 'start-wave', stage: deployingWave0, wave: 1 },
    },
    {
      name: 'a wave done under a halt: the next one waits',
      situation: {
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'succeeded'), deployment('su-b', 'succeeded')],
        halts: [halt('global', null)],
      },
      step: { kind: 'wait', blockedBy: [globalHaltBlocker], nextCheckAt: null },
    },
    {
      name: 'the last wave done: bake for the ring’s bake time',
      situation: {
        stages: [deployingLastWave],
        currentWaveDeployments: [deployment('su-c', 'succeeded', 1)],
      },
      step: {
        kind: 'move-stage',
        stage: deployingLastWave,
        to: 'baking',
        bakeUntil: minutesFromNow(30),
        note: 'all 2 waves deployed',
      },
    },
    {
      name: 'the last wave done without a bake time: bake until now',
      situation: {
        stages: [stage({ state: 'deploying', currentWave: 1 })],
        currentWaveDeployments: [deployment('su-c', 'succeeded', 1)],
      },
      step: {
        kind: 'move-stage',
        stage: stage({ state: 'deploying', currentWave: 1 }),
        to: 'baking',
        bakeUntil: now.toISOString(),
        note: 'all 2 waves deployed',
      },
    },
    {
      name: 'a ring without scale units goes straight to baking',
      situation: {
        stages: [stage({ state: 'deploying', waves: [], policy: policy({ bakeMinutes: 5 }) })],
      },
      step: {
        kind: 'move-stage',
        stage: stage({ state: 'deploying', waves: [], policy: policy({ bakeMinutes: 5 }) }),
        to: 'baking',
        bakeUntil: minutesFromNow(5),
        note: 'all 0 waves deployed',
      },
    },

    // baking
    {
      name: 'baking before bakeUntil: wait until then',
      situation: { stages: [baking()] },
      step: {
        kind: 'wait',
        blockedBy: [
          { kind: 'bake', message: `baking on ring-0 until ${bakeUntil}`, until: bakeUntil },
        ],
        nextCheckAt: bakeUntil,
      },
    },
    {
      name: 'baking a moment before bakeUntil still waits',
      situation: { stages: [baking()] },
      at: new Date(Date.parse(bakeUntil) - 1),
      step: {
        kind: 'wait',
        blockedBy: [
          { kind: 'bake', message: `baking on ring-0 until ${bakeUntil}`, until: bakeUntil },
        ],
        nextCheckAt: bakeUntil,
      },
    },
    {
      name: 'bake done with nothing else asked: the stage succeeds',
      situation: { stages: [baking()] },
      at: new Date(bakeUntil),
      step: {
        kind: 'move-stage',
        stage: baking(),
        to: 'succeeded',
        gate: null,
        note: 'gates passed',
      },
    },
    {
      name: 'bake done with a post-approval gate: ask for it',
      situation: { stages: [baking({ postApproval: sreGate, manualPromotion: true })] },
      at: new Date(Date.parse(bakeUntil) + 1),
      step: {
        kind: 'move-stage',
        stage: baking({ postApproval: sreGate, manualPromotion: true }),
        to: 'awaiting_approval',
        gate: 'post',
        approvalExpiresAt: null,
        note: 'bake complete; waiting for post-approval',
      },
    },
    {
      name: 'bake done with manual promotion: wait for it',
      situation: { stages: [baking({ manualPromotion: true })] },
      at: new Date(bakeUntil),
      step: {
        kind: 'move-stage',
        stage: baking({ manualPromotion: true }),
        to: 'awaiting_promotion',
        gate: null,
        note: 'waiting for manual promotion',
      },
    },
    {
      name: 'baking without bakeUntil moves on',
      situation: { stages: [baking({}, null)] },
      step: {
        kind: 'move-stage',
        stage: baking({}, null),
        to: 'succeeded',
        gate: null,
        note: 'gates passed',
      },
    },

    // awaiting_promotion and the end
    {
      name: 'awaiting promotion: wait for a person',
      situation: { stages: [stage({ state: 'awaiting_promotion', currentWave: 1 })] },
      step: {
        kind: 'wait',
        blockedBy: [
          {
            kind: 'promotion',
            message: 'ring-0 asks for manual promotion by an approver or admin',
          },
        ],
        nextCheckAt: null,
      },
    },
    {
      name: 'every stage succeeded: the release succeeds',
      situation: {
        stages: [
          stage({ position: 0, state: 'succeeded' }),
          stage({ position: 1, state: 'succeeded' }),
        ],
      },
      step: { kind: 'succeed' },
    },
    {
      name: 'a release without stages succeeds',
      situation: { stages: [] },
      step: { kind: 'succeed' },
    },
    {
      name: 'a failed stage: nothing moves',
      situation: { stages: [stage({ state: 'failed' })] },
      step: { kind: 'wait', blockedBy: [], nextCheckAt: null },
    },
    {
      name: 'a rolled back stage: nothing moves',
      situation: { stages: [stage({ state: 'rolled_back' })] },
      step: { kind: 'wait', blockedBy: [], nextCheckAt: null },
    },
  ]
  for (const c of cases) {
    t.strictSame(decide(c.situation, c.at), c.step, c.name)
  }
})

t.test('pre-approval in two steps: awaiting_approval, then deploying', async (t) => {
  const first = decide({ release: release({ state: 'queued' }), stages: [pendingWithPreApproval] })
  t.match(first, { kind: 'move-stage', to: 'awaiting_approval', gate: 'pre' })
  const waiting = stage({ ...pendingWithPreApproval, state: 'awaiting_approval', gate: 'pre' })
  const blocked = decide({ stages: [waiting] })
  t.equal(blocked.kind, 'wait')
  t.match(blocked, {
    blockedBy: [{ kind: 'approval', message: /^needs 1 more approval from role approver/ }],
  })
  const approved = decide({ stages: [waiting], approvals: [approval('bob')] })
  t.match(approved, { kind: 'move-stage', to: 'deploying', gate: null })
})

t.test(
  'an approval timeout: fixed on entry, a rejection by the system when it runs out',
  async (t) => {
    const fourHours = policy({
      preApproval: approverGate,
      postApproval: sreGate,
      approvalTimeoutMinutes: 240,
    })
    const expiresAt = minutesFromNow(240)
    const waitingPre = stage({
      state: 'awaiting_approval',
      gate: 'pre',
      stateSince: now.toISOString(),
      approvalExpiresAt: expiresAt,
      policy: fourHours,
    })
    const waitingPost = stage({
      ...waitingPre,
      gate: 'post',
      currentWave: 1,
    })
    const justBefore = new Date(Date.parse(expiresAt) - 1)
    const atExpiry = new Date(expiresAt)
    const missingPre = 'needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)'
    const cases: {
      name: string
      situation: Partial<ReleaseSituation>
      at?: Date
      step: ReleaseStep
    }[] = [
      {
        name: 'entering the pre-approval wait fixes its expiry: now + the timeout',
        situation: { stages: [stage({ policy: fourHours })] },
        step: {
          kind: 'move-stage',
          stage: stage({ policy: fourHours }),
          to: 'awaiting_approval',
          gate: 'pre',
          approvalExpiresAt: expiresAt,
          note: 'waiting for pre-approval',
        },
      },
      {
        name: 'entering the post-approval wait fixes its own expiry',
        situation: { stages: [baking({ postApproval: sreGate, approvalTimeoutMinutes: 30 })] },
        at: new Date(bakeUntil),
        step: {
          kind: 'move-stage',
          stage: baking({ postApproval: sreGate, approvalTimeoutMinutes: 30 }),
          to: 'awaiting_approval',
          gate: 'post',
          approvalExpiresAt: new Date(Date.parse(bakeUntil) + 30 * minuteMs).toISOString(),
          note: 'bake complete; waiting for post-approval',
        },
      },
      {
        name: 'before expiry it waits, says when it expires, and asks to be looked at then',
        situation: { stages: [waitingPre] },
        at: justBefore,
        step: {
          kind: 'wait',
          blockedBy: [{ kind: 'approval', message: `${missingPre}; expires at ${expiresAt}` }],
          nextCheckAt: expiresAt,
        },
      },
      {
        name: 'at expiry without enough approvals: the system rejects the pre-approval',
        situation: { stages: [waitingPre] },
        at: atExpiry,
        step: {
          kind: 'reject-on-expired-approval',
          stage: waitingPre,
          gate: 'pre',
          approvedBy: [],
          required: 1,
        },
      },
      {
        name: 'a post-approval expires the same way',
        situation: { stages: [waitingPost] },
        at: atExpiry,
        step: {
          kind: 'reject-on-expired-approval',
          stage: waitingPost,
          gate: 'post',
          approvedBy: [],
          required: 1,
        },
      },
      {
        name: 'approvals that count are reported when a quorum is short at expiry',
        situation: {
          stages: [
            stage({
              ...waitingPre,
              policy: { ...fourHours, preApproval: { ...approverGate, minApprovals: 2 } },
            }),
          ],
          approvals: [approval('bob')],
        },
        at: atExpiry,
        step: {
          kind: 'reject-on-expired-approval',
          stage: stage({
            ...waitingPre,
            policy: { ...fourHours, preApproval: { ...approverGate, minApprovals: 2 } },
          }),
          gate: 'pre',
          approvedBy: ['bob'],
          required: 2,
        },
      },
      {
        name: 'enough approvals before expiry: it moves on even when the engine looks later',
        situation: { stages: [waitingPre], approvals: [approval('bob')] },
        at: atExpiry,
        step: {
          kind: 'move-stage',
          stage: waitingPre,
          to: 'deploying',
          gate: null,
          note: 'pre-approval granted',
        },
      },
      {
        name: "a person's rejection comes first",
        situation: { stages: [waitingPre], approvals: [approval('carl', 'reject')] },
        at: atExpiry,
        step: {
          kind: 'fail-on-rejection',
          stage: waitingPre,
          rejection: approval('carl', 'reject'),
        },
      },
      {
        name: 'a halt does not hold an expiry back, as it holds no rejection back',
        situation: { stages: [waitingPre], halts: [halt('global', null)] },
        at: atExpiry,
        step: {
          kind: 'reject-on-expired-approval',
          stage: waitingPre,
          gate: 'pre',
          approvedBy: [],
          required: 1,
        },
      },
    ]
    for (const c of cases) t.strictSame(decide(c.situation, c.at), c.step, c.name)

    t.equal(approvalWaitExpiresAt(policy(), now), null, 'no timeout: it never expires')
    t.equal(approvalWaitExpiresAt(fourHours, now), expiresAt)

    const expiredCases: { name: string; stage: Stage; at: Date; expired: boolean }[] = [
      {
        name: 'no timeout',
        stage: stage({ ...waitingPre, approvalExpiresAt: null }),
        at: atExpiry,
        expired: false,
      },
      { name: 'waiting, before expiry', stage: waitingPre, at: justBefore, expired: false },
      { name: 'waiting, at expiry', stage: waitingPre, at: atExpiry, expired: true },
      {
        name: 'failed at expiry (the system rejected it)',
        stage: stage({ ...waitingPre, state: 'failed', finishedAt: expiresAt }),
        at: new Date(Date.parse(expiresAt) + 60 * minuteMs),
        expired: true,
      },
      {
        name: 'failed before expiry (a person rejected it)',
        stage: stage({ ...waitingPre, state: 'failed', finishedAt: justBefore.toISOString() }),
        at: new Date(Date.parse(expiresAt) + 60 * minuteMs),
        expired: false,
      },
      {
        name: 'rolled back while waiting',
        stage: stage({ ...waitingPre, state: 'rolled_back', finishedAt: justBefore.toISOString() }),
        at: new Date(Date.parse(expiresAt) + 60 * minuteMs),
        expired: false,
      },
    ]
    for (const c of expiredCases) t.equal(approvalWaitExpired(c.stage, c.at), c.expired, c.name)
  },
)

const ownHalt = {
  by: 'jane',
  reason: 'customer report',
  cause: 'manual' as const,
  at: minutesFromNow(-1),
  resumeTo: 'in_progress' as const,
}
const ownHaltBlocker: BlockedBy = {
  kind: 'halt',
  message: 'halted by jane: customer report',
  halt: {
    id: null,
    scope: 'release',
    target: '42',
    reason: 'customer report',
    by: 'jane',
    since: minutesFromNow(-1),
    incidentId: null,
  },
}

t.test('a release that is not moving never gets a step', async (t) => {
  const states: ReleaseState[] = ['succeeded', 'failed', 'rolled_back', 'cancelled', 'superseded']
  for (const state of states) {
    const step = decide({
      release: release({ state, halt: null }),
      stages: [deployingFirst],
      halts: [halt('global', null)],
    })
    t.strictSame(step, { kind: 'wait', blockedBy: [], nextCheckAt: null }, state)
  }
  t.strictSame(
    decide({ release: release({ state: 'halted', halt: ownHalt }), stages: [deployingFirst] }),
    { kind: 'wait', blockedBy: [ownHaltBlocker], nextCheckAt: null },
    'halted: its own halt',
  )
  t.strictSame(
    decide({
      release: release({ state: 'halted', halt: ownHalt }),
      stages: [deployingFirst],
      halts: [halt('service', 'payments', false, 7), halt('ring', 'ring-1')],
    }),
    {
      kind: 'wait',
      blockedBy: [ownHaltBlocker, haltBlocker('service', 'payments', 7)],
      nextCheckAt: null,
    },
    'halted under a stopped line: its own halt first, then the line halts on its ring',
  )
  for (const state of ['queued', 'in_progress'] as const) {
    t.equal(
      decide({ release: release({ state }), stages: [deployingFirst] }).kind,
      'start-wave',
      state,
    )
  }
})

t.test(
  'a halt holds the release in every state and is named beside every other wait',
  async (t) => {
    const incidentHalt = halt('service', 'payments', false, 9)
    const lineHalts = [halt('global', null), incidentHalt, halt('ring', 'ring-0')]
    const named = [
      haltBlocker('global', null),
      haltBlocker('service', 'payments', 9),
      haltBlocker('ring', 'ring-0'),
    ]
    const expired = minutesFromNow(-1)
    const cases: {
      name: string
      situation: Partial<ReleaseSituation>
      blockedBy: BlockedBy[]
      nextCheckAt?: string
    }[] = [
      {
        name: 'queued, entering its first ring',
        situation: { release: release({ state: 'queued' }) },
        blockedBy: named,
      },
      {
        name: 'pending behind a freeze and another release',
        situation: { freezeWindows: [freeze()], ringHolder: { releaseId: 41 } },
        blockedBy: [{ kind: 'ring-occupied', message: ringHolderMessage }, freezeBlocker, ...named],
        nextCheckAt: minutesFromNow(120),
      },
      {
        name: 'awaiting pre-approval',
        situation: { stages: [awaitingPre] },
        blockedBy: [
          {
            kind: 'approval',
            message: 'needs 1 more approval from role approver (pre-approval of ring-0: 0 of 1)',
          },
          ...named,
        ],
      },
      {
        name: 'pre-approval granted: it does not start deploying',
        situation: { stages: [awaitingPre], approvals: [approval('bob')] },
        blockedBy: named,
      },
      {
        name: 'post-approval granted: the stage does not end',
        situation: {
          stages: [awaitingPost],
          approvals: [approval('sam', 'approve', 'post', minutesFromNow(-1))],
        },
        blockedBy: named,
      },
      {
        name: 'deploying, no wave started',
        situation: { stages: [deployingFirst] },
        blockedBy: named,
      },
      {
        name: 'deploying, a wave running',
        situation: {
          stages: [deployingWave0],
          currentWaveDeployments: [deployment('su-a', 'succeeded'), deployment('su-b', 'pending')],
        },
        blockedBy: [
          {
            kind: 'deployments',
            message: 'waiting for 1 of 2 deployments in wave 1 of 2 on ring-0: su-b',
          },
          ...named,
        ],
      },
      {
        name: 'baking (the bake runs its time)',
        situation: { stages: [baking()] },
        blockedBy: [
          { kind: 'bake', message: `baking on ring-0 until ${bakeUntil}`, until: bakeUntil },
          ...named,
        ],
        nextCheckAt: bakeUntil,
      },
      {
        name: 'baked, no gate after it: the stage does not end',
        situation: { stages: [baking({}, expired)] },
        blockedBy: named,
      },
      {
        name: 'baked, a post-approval next: it does not ask for it yet',
        situation: { stages: [baking({ postApproval: sreGate }, expired)] },
        blockedBy: named,
      },
      {
        name: 'baked, manual promotion next: it does not ask for it yet',
        situation: { stages: [baking({ manualPromotion: true }, expired)] },
        blockedBy: named,
      },
      {
        name: 'awaiting promotion',
        situation: { stages: [stage({ state: 'awaiting_promotion', currentWave: 1 })] },
        blockedBy: [
          {
            kind: 'promotion',
            message: 'ring-0 asks for manual promotion by an approver or admin',
          },
          ...named,
        ],
      },
    ]
    for (const c of cases) {
      const step = decide({ ...c.situation, halts: lineHalts })
      t.strictSame(
        step,
        { kind: 'wait', blockedBy: c.blockedBy, nextCheckAt: c.nextCheckAt ?? null },
        c.name,
      )
      // The same situation without the halts moves on, or waits for the rest only.
      const free = decide(c.situation)
      const others = c.blockedBy.filter((blocker) => blocker.kind !== 'halt')
      if (others.length === 0) t.not(free.kind, 'wait', `${c.name}: moves once lifted`)
      else {
        t.strictSame(
          free,
          { kind: 'wait', blockedBy: others, nextCheckAt: c.nextCheckAt ?? null },
          `${c.name}: waits for the rest once lifted`,
        )
      }
    }

    // Under a halt the release still fails or halts by itself: that is not moving on.
    t.match(
      decide({ stages: [awaitingPre], approvals: [approval('bob', 'reject')], halts: lineHalts }),
      { kind: 'fail-on-rejection' },
    )
    t.match(
      decide({
        stages: [deployingWave0],
        currentWaveDeployments: [deployment('su-a', 'failed')],
        halts: lineHalts,
      }),
      { kind: 'halt-on-failed-deployments' },
    )
    // The bake's clock starts under a halt: it watches what is already out.
    t.match(
      decide({
        stages: [deployingLastWave],
        currentWaveDeployments: [deployment('su-c', 'succeeded', 1)],
        halts: lineHalts,
      }),
      { kind: 'move-stage', to: 'baking' },
    )
    // A release whose every stage succeeded has nothing left a halt could hold.
    t.strictSame(decide({ stages: [stage({ state: 'succeeded' })], halts: lineHalts }), {
      kind: 'succeed',
    })
  },
)

t.test('haltsHolding: the halts that refuse a promotion', async (t) => {
  const bakingRing1 = stage({ position: 1, state: 'baking', currentWave: 1, bakeUntil })
  const ring0Done = stage({ position: 0, state: 'succeeded' })
  const cases: { name: string; situation: Partial<ReleaseSituation>; expected: unknown[] }[] = [
    { name: 'no halts', situation: { stages: [baking()] }, expected: [] },
    {
      name: 'the halts covering the current ring, not the ring it left',
      situation: {
        stages: [ring0Done, bakingRing1],
        halts: [halt('ring', 'ring-0'), halt('ring', 'ring-1'), halt('service', 'search')],
      },
      expected: [haltBlocker('ring', 'ring-1').halt],
    },
    {
      name: 'its own halt first, then an incident halt',
      situation: {
        release: release({ state: 'halted', halt: ownHalt }),
        stages: [baking()],
        halts: [halt('service', 'payments', false, 3)],
      },
      expected: [ownHaltBlocker.halt, haltBlocker('service', 'payments', 3).halt],
    },
    {
      name: 'a lifted halt holds nothing',
      situation: { stages: [baking()], halts: [halt('global', null, true)] },
      expected: [],
    },
    {
      name: 'a release that ended is held by nothing',
      situation: {
        release: release({ state: 'succeeded' }),
        stages: [stage({ state: 'succeeded' })],
        halts: [halt('global', null)],
      },
      expected: [],
    },
  ]
  for (const c of cases) t.strictSame(haltsHolding(situation(c.situation)), c.expected, c.name)
})

t.test('currentStage is the first stage by position that has not succeeded', async (t) => {
  const s0 = (state: StageState) => stage({ position: 0, state })
  const s1 = (state: StageState) => stage({ position: 1, state })
  const s2 = (state: StageState) => stage({ position: 2, state })
  const cases: { name: string; stages: Stage[]; expected: Stage | null }[] = [
    { name: 'no stages', stages: [], expected: null },
    { name: 'all succeeded', stages: [s0('succeeded'), s1('succeeded')], expected: null },
    { name: 'the first pending', stages: [s0('pending'), s1('pending')], expected: s0('pending') },
    {
      name: 'out of order input',
      stages: [s2('pending'), s0('succeeded'), s1('baking')],
      expected: s1('baking'),
    },
    {
      name: 'a failed stage is current',
      stages: [s1('pending'), s0('failed')],
      expected: s0('failed'),
    },
    {
      name: 'the last one left',
      stages: [s2('awaiting_promotion'), s1('succeeded'), s0('succeeded')],
      expected: s2('awaiting_promotion'),
    },
  ]
  for (const { name, stages, expected } of cases) {
    const before = stages.map((s) => s.position)
    t.strictSame(currentStage(stages), expected, name)
    t.strictSame(
      stages.map((s) => s.position),
      before,
      `${name}: the input is not reordered`,
    )
  }
})

t.test('openGate is the gate a decision would go to now', async (t) => {
  const both = policy({ preApproval: approverGate, postApproval: sreGate })
  const preOnly = policy({ preApproval: approverGate })
  const postOnly = policy({ postApproval: sreGate })
  const pre = { name: 'pre', gate: approverGate }
  const post = { name: 'post', gate: sreGate }
  const cases: {
    state: StageState
    gate: ApprovalGateName | null
    policy: RingPolicy
    expected: typeof pre | typeof post | null
  }[] = [
    { state: 'pending', gate: null, policy: both, expected: pre },
    { state: 'pending', gate: null, policy: postOnly, expected: null },
    { state: 'awaiting_approval', gate: 'pre', policy: both, expected: pre },
    { state: 'awaiting_approval', gate: 'post', policy: both, expected: post },
    { state: 'awaiting_approval', gate: 'post', policy: preOnly, expected: null },
    { state: 'deploying', gate: null, policy: both, expected: post },
    { state: 'deploying', gate: null, policy: preOnly, expected: null },
    { state: 'baking', gate: null, policy: both, expected: post },
    { state: 'baking', gate: null, policy: postOnly, expected: post },
    { state: 'awaiting_promotion', gate: null, policy: both, expected: null },
    { state: 'succeeded', gate: null, policy: both, expected: null },
    { state: 'failed', gate: null, policy: both, expected: null },
    { state: 'rolled_back', gate: null, policy: both, expected: null },
    { state: 'pending', gate: null, policy: policy(), expected: null },
  ]
  for (const { state, gate, policy: stagePolicy, expected } of cases) {
    t.strictSame(
      openGate(stage({ state, gate, policy: stagePolicy })),
      expected,
      `${state}${gate ? ` (${gate})` : ''}, pre ${stagePolicy.preApproval ? 'yes' : 'no'}, post ${stagePolicy.postApproval ? 'yes' : 'no'}`,
    )
  }
})

t.test('describeHalt and describeReleaseHalt', async (t) => {
  t.strictSame(describeHalt(halt('global', null)), globalHaltBlocker)
  t.strictSame(describeHalt(halt('service', 'payments')), haltBlocker('service', 'payments'))
  t.strictSame(describeHalt(halt('ring', 'ring-2')), haltBlocker('ring', 'ring-2'))
  t.strictSame(
    describeHalt(halt('service', 'payments', false, 12)).halt,
    {
      id: idFor('halt service payments false'),
      scope: 'service',
      target: 'payments',
      reason: 'incident 12: checkout 500s',
      by: 'jane',
      since: minutesFromNow(-5),
      incidentId: 12,
    },
    'an incident halt names its incident',
  )
  t.strictSame(describeReleaseHalt(release({ state: 'halted', halt: ownHalt })), ownHaltBlocker)
  t.equal(describeReleaseHalt(release({ state: 'in_progress' })), null, 'not halted')
  t.equal(
    describeReleaseHalt(release({ state: 'halted', halt: null })),
    null,
    'halted without a record',
  )
  t.equal(
    describeReleaseHalt(release({ state: 'failed', halt: ownHalt })),
    null,
    'a halt record on a release that is no longer halted',
  )
})

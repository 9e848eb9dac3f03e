import { distinctSubjects } from '../release/approval-gate.js'
import { scopeCovers } from '../release/freeze-window.js'
import type {
  ApprovalGateName,
  Deployment,
  Halt,
  HealthReport,
  Release,
  ReleaseHalt,
  Stage,
} from '../release/release.js'
import type { ReleaseState } from '../release/release-states.js'
import { currentStage } from '../release/release-step.js'
import type { StoreTransaction } from '../store.js'
import {
  derivedSpanId,
  derivedTraceId,
  type NewRolloutSpan,
  type RolloutSpanFacts,
  type RolloutSpanLink,
  releaseRootSpanId,
} from './rollout-span.js'

// One trace per release, recorded as each step ends (never a span held open across a wait). The
// release row keeps the trace id; every other id is derived from it, so any replica, before or
// after a restart, names the same parent. See docs/decisions/0005-rollout-traces.md.

export type SpanStatus = Pick<NewRolloutSpan, 'status' | 'errorType' | 'statusMessage'>

export const spanOk: SpanStatus = { status: 'ok', errorType: null, statusMessage: null }
const ok = spanOk
const unset: SpanStatus = { status: 'unset', errorType: null, statusMessage: null }

function failed(errorType: string, message: string): SpanStatus {
  return { status: 'error', errorType, statusMessage: message }
}

/** How a release (or the step it was on) ended, as the spans it closes report it. */
export interface ReleaseEnding {
  outcome: Release['state']
  status: SpanStatus
}

export function releaseEnding(
  outcome: Release['state'],
  errorType?: string,
  message?: string,
): ReleaseEnding {
  if (errorType !== undefined) return { outcome, status: failed(errorType, message ?? outcome) }
  return { outcome, status: outcome === 'succeeded' ? ok : unset }
}

export function stageSpanId(release: Release, stage: Pick<Stage, 'id'>): string {
  return derivedSpanId(release.traceId, 'stage', stage.id)
}

export function waveSpanId(release: Release, stageId: number, wave: number): string {
  return derivedSpanId(release.traceId, 'wave', stageId, wave)
}

export function bakeSpanId(release: Release, stage: Pick<Stage, 'id'>): string {
  return derivedSpanId(release.traceId, 'bake', stage.id)
}

/** A rollback's own trace: derived from the release's, so every replica agrees on it. */
export function rollbackTraceId(release: Release): string {
  return derivedTraceId(release.traceId, 'rollback')
}

export function rollbackRootSpanId(release: Release): string {
  return derivedSpanId(rollbackTraceId(release), 'rollback')
}

function releaseFacts(release: Release): RolloutSpanFacts {
  return {
    releaseId: release.id,
    service: release.service,
    version: release.version,
    commit: release.commit,
    releaseKind: release.kind,
  }
}

function stageFacts(release: Release, stage: Stage): RolloutSpanFacts {
  return { ...releaseFacts(release), ring: stage.ring, ringOrder: stage.ringOrder }
}

function span(
  release: Release,
  fields: Omit<NewRolloutSpan, 'traceId' | 'links' | keyof SpanStatus> & {
    status: SpanStatus
    links?: RolloutSpanLink[]
  },
): NewRolloutSpan {
  const { status, links, ...rest } = fields
  return { traceId: release.traceId, links: links ?? [], ...status, ...rest }
}

/** Never a span that ends before it starts: clocks of two replicas may disagree a little. */
function startOf(candidate: string | null | undefined, endedAt: string): string {
  if (!candidate || candidate > endedAt) return endedAt
  return candidate
}

export function stageSpan(
  release: Release,
  stage: Stage,
  endedAt: string,
  outcome: string,
  status: SpanStatus,
): NewRolloutSpan {
  return span(release, {
    spanId: stageSpanId(release, stage),
    parentSpanId: releaseRootSpanId(release.traceId),
    step: 'stage',
    name: `ring ${stage.ring}`,
    startedAt: startOf(stage.startedAt, endedAt),
    endedAt,
    status,
    facts: {
      ...stageFacts(release, stage),
      taskRunId: `stage/${stage.id}`,
      waves: stage.waves.length,
      outcome,
    },
  })
}

export async function approvalSpan(
  tx: StoreTransaction,
  release: Release,
  stage: Stage,
  gate: ApprovalGateName,
  endedAt: string,
  decision: NonNullable<RolloutSpanFacts['decision']>,
  /** Why it was rejected when no person's rejection says (the system's, on expiry). */
  rejectedBecause?: string | null,
): Promise<NewRolloutSpan> {
  const policy = gate === 'pre' ? stage.policy.preApproval : stage.policy.postApproval
  const decisions = (await tx.approvals.listByStage(stage.id)).filter((a) => a.gate === gate)
  const rejection = decisions.find((a) => a.decision === 'reject')
  return span(release, {
    spanId: derivedSpanId(release.traceId, 'approval', stage.id, gate),
    parentSpanId: stageSpanId(release, stage),
    step: 'approval',
    name: `${gate}-approval ${stage.ring}`,
    // A pre-approval gate opens as the stage starts; a post-approval one when its state begins.
    startedAt: startOf(stage.stateSince ?? stage.startedAt, endedAt),
    endedAt,
    status:
      decision === 'rejected'
        ? failed(
            'rejected',
            rejection === undefined && rejectedBecause
              ? rejectedBecause
              : `rejected by ${rejection?.subject ?? 'an approver'}${rejection?.comment ? `: ${rejection.comment}` : ''}`,
          )
        : decision === 'approved'
          ? ok
          : unset,
    facts: {
      ...stageFacts(release, stage),
      taskRunId: `approval/${stage.id}/${gate}`,
      gate,
      decision,
      outcome: decision,
      approvers: distinctSubjects(
        decisions.filter((a) => a.decision === 'approve').map((a) => a.subject),
      ),
      ...(policy && { requiredApprovals: policy.minApprovals, approverRole: policy.role }),
      ...(rejection && { reason: rejection.comment || undefined }),
    },
  })
}

export function waveSpan(
  release: Release,
  stage: Stage,
  wave: number,
  endedAt: string,
  status: SpanStatus,
): NewRolloutSpan {
  const scaleUnits = stage.waves[wave] ?? []
  return span(release, {
    spanId: waveSpanId(release, stage.id, wave),
    parentSpanId: stageSpanId(release, stage),
    step: 'wave',
    name: `wave ${wave + 1}/${stage.waves.length} ${stage.ring}`,
    startedAt: startOf(stage.waveStartedAt ?? stage.startedAt, endedAt),
    endedAt,
    status,
    facts: {
      ...stageFacts(release, stage),
      taskRunId: `wave/${stage.id}/${wave}`,
      wave: wave + 1,
      waves: stage.waves.length,
      scaleUnits,
    },
  })
}

export function bakeSpan(
  release: Release,
  stage: Stage,
  endedAt: string,
  status: SpanStatus,
  cutShort: boolean,
): NewRolloutSpan {
  return span(release, {
    spanId: bakeSpanId(release, stage),
    parentSpanId: stageSpanId(release, stage),
    step: 'bake',
    name: `bake ${stage.ring}`,
    startedAt: startOf(stage.deployedAt, endedAt),
    endedAt,
    status,
    facts: {
      ...stageFacts(release, stage),
      taskRunId: `bake/${stage.id}`,
      bakeMinutes: stage.policy.bakeMinutes,
      bakeCutShort: cutShort,
    },
  })
}

export interface HealthGateEvaluation {
  passed: boolean
  /** The signal that decided the verdict, its value, and the threshold it was held to. */
  signal: string
  value: number | null
  threshold: number | null
  reasons: string[]
}

export function healthGateSpan(
  release: Release,
  stage: Stage,
  report: HealthReport,
  region: string | null,
  evaluation: HealthGateEvaluation,
): NewRolloutSpan {
  return span(release, {
    spanId: derivedSpanId(release.traceId, 'health-gate', stage.id, report.id),
    parentSpanId:
      stage.state === 'baking'
        ? bakeSpanId(release, stage)
        : waveSpanId(release, stage.id, Math.max(stage.currentWave, 0)),
    step: 'health-gate',
    name: `health gate ${stage.ring}`,
    startedAt: report.at,
    endedAt: report.at,
    status: evaluation.passed ? ok : failed('health_failed', evaluation.reasons.join('; ')),
    facts: {
      ...stageFacts(release, stage),
      taskRunId: `health-gate/${stage.id}/${report.id}`,
      scaleUnit: report.scaleUnit,
      region,
      healthReportId: report.id,
      verdict: evaluation.passed ? 'pass' : 'fail',
      signal: evaluation.signal,
      ...(evaluation.value !== null && { signalValue: evaluation.value }),
      ...(evaluation.threshold !== null && { signalThreshold: evaluation.threshold }),
    },
  })
}

export function haltSpan(
  release: Release,
  halt: ReleaseHalt,
  stage: Stage | null,
  endedAt: string,
  outcome: string,
): NewRolloutSpan {
  return span(release, {
    spanId: derivedSpanId(release.traceId, 'halt', halt.at),
    parentSpanId: stage ? stageSpanId(release, stage) : releaseRootSpanId(release.traceId),
    step: 'halt',
    name: stage ? `halt ${stage.ring}` : 'halt',
    startedAt: startOf(halt.at, endedAt),
    endedAt,
    status: halt.cause === 'manual' ? unset : failed(halt.cause, halt.reason),
    facts: {
      ...(stage ? stageFacts(release, stage) : releaseFacts(release)),
      haltCause: halt.cause,
      haltedBy: halt.by,
      reason: halt.reason,
      outcome,
    },
  })
}

/**
 * One attempt of one deployment. A rollback deployment belongs to the rollback's trace; a deploy
 * hangs from its wave. `commit` is the commit of the version the deployment installs: the
 * release's for a deploy, the restored version's for a rollback (null when nobody knows it).
 */
export function deploymentSpan(
  release: Release,
  deployment: Deployment,
  region: string | null,
  commit: string | null = release.commit,
): NewRolloutSpan {
  const endedAt = deployment.finishedAt ?? deployment.requestedAt
  const isRollback = deployment.kind === 'rollback'
  const traceId = isRollback ? rollbackTraceId(release) : release.traceId
  return {
    traceId,
    spanId: derivedSpanId(traceId, 'deployment', deployment.id, deployment.attempt),
    parentSpanId: isRollback
      ? rollbackRootSpanId(release)
      : waveSpanId(release, deployment.stageId, deployment.wave),
    step: 'deployment',
    name: `${deployment.kind} ${deployment.ring}`,
    startedAt: startOf(deployment.requestedAt, endedAt),
    endedAt,
    ...(deployment.state === 'failed'
      ? failed('deployment_failed', deployment.message ?? `failed on ${deployment.scaleUnit}`)
      : ok),
    facts: {
      ...releaseFacts(release),
      taskRunId: `deployment/${deployment.id}/${deployment.attempt}`,
      ring: deployment.ring,
      scaleUnit: deployment.scaleUnit,
      region,
      wave: deployment.wave + 1,
      deploymentId: deployment.id,
      deploymentKind: deployment.kind,
      attempt: deployment.attempt,
      version: deployment.version ?? undefined,
      commit,
      previousVersion: deployment.previousVersion,
      outcome: deployment.state,
    },
    links: [],
  }
}

/**
 * The commit of the version a rollback deployment restores: that of the newest earlier release
 * of the version. Null when the version came from outside Ringmaster, or the rollback removes the
 * service: a rollback span never pairs the restored version with the commit being undone.
 */
export async function restoredCommit(
  tx: StoreTransaction,
  release: Release,
  rollback: Deployment,
): Promise<string | null> {
  if (rollback.version === null) return null
  const [earlier] = await tx.releases.list({
    service: release.service,
    version: rollback.version,
    beforeId: release.id,
    limit: 1,
  })
  return earlier?.commit ?? null
}

/** The rollback's root: from the moment the release was rolled back to when its undo finished. */
export function rollbackSpan(
  release: Release,
  endedAt: string,
  rollbacks: readonly Deployment[],
): NewRolloutSpan {
  const traceId = rollbackTraceId(release)
  const failedUnits = rollbacks.filter((d) => d.state === 'failed').map((d) => d.scaleUnit)
  return {
    traceId,
    spanId: rollbackRootSpanId(release),
    parentSpanId: null,
    step: 'rollback',
    name: `rollback ${release.service}`,
    startedAt: startOf(release.finishedAt, endedAt),
    endedAt,
    ...(failedUnits.length > 0
      ? failed('rollback_failed', `rollback failed on ${failedUnits.join(', ')}`)
      : ok),
    facts: {
      ...releaseFacts(release),
      taskRunId: 'rollback',
      scaleUnits: rollbacks.map((d) => d.scaleUnit),
      reason: release.outcome ?? undefined,
      outcome: failedUnits.length > 0 ? 'failed' : 'succeeded',
    },
    links: [
      {
        traceId: release.traceId,
        spanId: releaseRootSpanId(release.traceId),
        relation: 'repairs',
      },
    ],
  }
}

/** The release's root span, with links to the incident it answers and the release it repairs. */
export async function releaseSpan(
  tx: StoreTransaction,
  release: Release,
  endedAt: string,
  ending: ReleaseEnding,
): Promise<NewRolloutSpan> {
  const links: RolloutSpanLink[] = []
  if (release.incidentId !== null) {
    const incident = await tx.incidents.findById(release.incidentId)
    if (incident) {
      links.push({
        traceId: incident.traceId,
        spanId: derivedSpanId(incident.traceId, 'incident'),
        relation: 'responds-to',
      })
      const blamed =
        incident.releaseId === null ? null : await tx.releases.findById(incident.releaseId)
      if (blamed) {
        links.push({
          traceId: blamed.traceId,
          spanId: releaseRootSpanId(blamed.traceId),
          relation: 'repairs',
        })
      }
    }
  }
  return span(release, {
    spanId: releaseRootSpanId(release.traceId),
    parentSpanId: null,
    step: 'release',
    name: `release ${release.service}`,
    startedAt: startOf(release.createdAt, endedAt),
    endedAt,
    status: ending.status,
    links,
    facts: {
      ...releaseFacts(release),
      requester: release.requester,
      ring: release.ringTo,
      outcome: ending.outcome,
      ...(release.incidentId !== null && { incidentId: release.incidentId }),
    },
  })
}

/**
 * The spans a release leaves open when it ends early (rejected, rolled back, cancelled): the halt
 * it is under, the step its current stage is on, that stage, and the release itself.
 */
export async function endingSpans(
  tx: StoreTransaction,
  release: Release,
  stages: readonly Stage[],
  endedAt: string,
  ending: ReleaseEnding,
): Promise<NewRolloutSpan[]> {
  const spans: NewRolloutSpan[] = []
  const stage =
    [...stages]
      .sort((a, b) => a.position - b.position)
      .find((s) => s.state !== 'succeeded' && s.state !== 'pending' && s.startedAt !== null) ?? null
  if (release.state === 'halted' && release.halt) {
    spans.push(haltSpan(release, release.halt, stage, endedAt, ending.outcome))
  }
  if (stage) {
    if (stage.state === 'awaiting_approval' && stage.gate) {
      spans.push(
        await approvalSpan(
          tx,
          release,
          stage,
          stage.gate,
          endedAt,
          ending.status.errorType === 'rejected' ? 'rejected' : 'withdrawn',
          ending.status.statusMessage,
        ),
      )
    }
    if (stage.state === 'deploying' && stage.currentWave >= 0) {
      spans.push(waveSpan(release, stage, stage.currentWave, endedAt, ending.status))
    }
    if (stage.state === 'baking') {
      spans.push(bakeSpan(release, stage, endedAt, ending.status, true))
    }
    spans.push(stageSpan(release, stage, endedAt, ending.outcome, ending.status))
  }
  spans.push(await releaseSpan(tx, release, endedAt, ending))
  return spans
}

/**
 * Writes finished spans to the outbox. A stage span that ends while the line is stopped over its
 * ring also ends the span of each halt holding it, so every path that ends a stage (promotion,
 * the engine, a rollback, a cancel) records the halts that held it.
 */
export async function recordSpans(
  tx: StoreTransaction,
  spans: readonly NewRolloutSpan[],
): Promise<void> {
  if (spans.length === 0) return
  const stageEnds = spans.filter((span) => span.step === 'stage')
  const held = stageEnds.length === 0 ? [] : await haltsHoldingStageEnds(tx, stageEnds)
  await tx.rolloutSpans.insertMany([...held, ...spans])
}

async function haltsHoldingStageEnds(
  tx: StoreTransaction,
  stageEnds: readonly NewRolloutSpan[],
): Promise<NewRolloutSpan[]> {
  const halts = await tx.halts.listActive()
  return stageEnds.flatMap((stage) =>
    halts
      .filter((halt) => coversStage(halt, stage))
      .map((halt) => lineHaltSpan(stage, halt, stage.endedAt, stage.facts.outcome ?? 'ended')),
  )
}

function coversStage(halt: Halt, stage: NewRolloutSpan): boolean {
  const { service, ring } = stage.facts
  return service !== undefined && ring !== undefined && scopeCovers(halt, { service, ring })
}

/**
 * A stop of the line (`POST /v1/halts`, or an incident's halt) as it held one stage of one
 * release: under the stage's span, from when it applied (the later of the halt and the stage's
 * start) to when it was lifted or the stage or release ended. Its id is derived from the halt and
 * the stage, so replicas agree and a second recording of it records nothing.
 */
export function lineHaltSpan(
  stage: NewRolloutSpan,
  halt: Halt,
  endedAt: string,
  outcome: string,
): NewRolloutSpan {
  const { releaseId, service, version, commit, releaseKind, ring, ringOrder } = stage.facts
  const applied = new Date(
    Math.max(Date.parse(halt.createdAt), Date.parse(stage.startedAt)),
  ).toISOString()
  return {
    traceId: stage.traceId,
    spanId: derivedSpanId(stage.traceId, 'line-halt', halt.id, stage.spanId),
    parentSpanId: stage.spanId,
    step: 'halt',
    name: `halt ${ring}`,
    startedAt: startOf(applied, endedAt),
    endedAt,
    // Stopping the line is a decision, not a failure of this release.
    ...unset,
    facts: {
      releaseId,
      service,
      version,
      commit,
      releaseKind,
      ring,
      ringOrder,
      haltId: halt.id,
      haltScope: halt.scope,
      haltTarget: halt.target,
      haltedBy: halt.createdBy,
      reason: halt.reason,
      outcome,
    },
    links: [],
  }
}

/** Releases a stop of the line can hold: not ended yet. */
const unfinishedReleaseStates: readonly ReleaseState[] = ['queued', 'in_progress', 'halted']

/**
 * The spans a lifted halt ends: one on every unfinished release whose current stage it covered
 * (in progress, or waiting to start), ending at the lift. Stages that ended under the halt recorded theirs then.
 */
export async function liftedHaltSpans(tx: StoreTransaction, halt: Halt): Promise<NewRolloutSpan[]> {
  const liftedAt = halt.liftedAt
  if (liftedAt === null) return []
  const releases = await tx.releases.list({
    states: unfinishedReleaseStates,
    ...(halt.scope === 'service' && halt.target !== null && { service: halt.target }),
    limit: 10_000,
  })
  const spans: NewRolloutSpan[] = []
  for (const release of releases) {
    const stage = currentStage(await tx.stages.listByRelease(release.id))
    if (!stage || stage.finishedAt !== null) continue
    const stageSoFar = stageSpan(release, stage, liftedAt, stage.state, unset)
    // A halt keeps a release from entering its next ring: before the stage starts, the halt
    // held the release itself, so its span hangs from the release's root.
    const held =
      stage.startedAt !== null
        ? stageSoFar
        : {
            ...stageSoFar,
            spanId: releaseRootSpanId(release.traceId),
            startedAt: release.createdAt,
          }
    if (coversStage(halt, held)) spans.push(lineHaltSpan(held, halt, liftedAt, 'lifted'))
  }
  return spans
}

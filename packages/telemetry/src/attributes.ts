import type { Attributes } from '@opentelemetry/api'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
  ERROR_TYPE_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions'
// The incubating entry is safe to use here because the package version is pinned exactly.
import {
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_CICD_PIPELINE_RUN_URL_FULL,
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_RUN_URL_FULL,
  ATTR_CICD_PIPELINE_TASK_TYPE,
  ATTR_DEPLOYMENT_ID,
  ATTR_DEPLOYMENT_STATUS,
  ATTR_VCS_REF_HEAD_REVISION,
  CICD_PIPELINE_RESULT_VALUE_CANCELLATION,
  CICD_PIPELINE_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_RESULT_VALUE_SKIP,
  CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_TASK_TYPE_VALUE_DEPLOY,
  CICD_PIPELINE_TASK_TYPE_VALUE_TEST,
  DEPLOYMENT_STATUS_VALUE_FAILED,
  DEPLOYMENT_STATUS_VALUE_SUCCEEDED,
} from '@opentelemetry/semantic-conventions/incubating'
import type { NewRolloutSpan, RolloutSpanFacts, RolloutSpanStep } from '@ringmaster/domain'

/**
 * Every attribute name Ringmaster writes: semantic conventions where they exist, `ringmaster.*`
 * for what has none. No name is in the same place as a namespace. The ring is not
 * `deployment.environment.name`: that names the environment of the process sending the spans (a
 * resource attribute operators set), and a ring is a stage of the rollout, not where it runs.
 */
export const attributeNames = {
  serviceName: ATTR_SERVICE_NAME,
  serviceVersion: ATTR_SERVICE_VERSION,
  serviceInstanceId: ATTR_SERVICE_INSTANCE_ID,
  httpRoute: ATTR_HTTP_ROUTE,
  urlPath: ATTR_URL_PATH,
  errorType: ATTR_ERROR_TYPE,

  cicdPipelineName: ATTR_CICD_PIPELINE_NAME,
  cicdPipelineRunId: ATTR_CICD_PIPELINE_RUN_ID,
  cicdPipelineRunUrlFull: ATTR_CICD_PIPELINE_RUN_URL_FULL,
  cicdPipelineResult: ATTR_CICD_PIPELINE_RESULT,
  cicdPipelineTaskName: ATTR_CICD_PIPELINE_TASK_NAME,
  cicdPipelineTaskRunId: ATTR_CICD_PIPELINE_TASK_RUN_ID,
  cicdPipelineTaskType: ATTR_CICD_PIPELINE_TASK_TYPE,
  cicdPipelineTaskRunResult: ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  cicdPipelineTaskRunUrlFull: ATTR_CICD_PIPELINE_TASK_RUN_URL_FULL,
  deploymentId: ATTR_DEPLOYMENT_ID,
  deploymentStatus: ATTR_DEPLOYMENT_STATUS,
  vcsRefHeadRevision: ATTR_VCS_REF_HEAD_REVISION,

  step: 'ringmaster.step',
  outcome: 'ringmaster.outcome',
  reason: 'ringmaster.reason',
  service: 'ringmaster.service',
  releaseId: 'ringmaster.release.id',
  releaseVersion: 'ringmaster.release.version',
  releaseKind: 'ringmaster.release.kind',
  releaseRequester: 'ringmaster.release.requester',
  ringName: 'ringmaster.ring.name',
  ringOrder: 'ringmaster.ring.order',
  scaleUnit: 'ringmaster.scale_unit',
  scaleUnits: 'ringmaster.scale_units',
  region: 'ringmaster.region',
  wave: 'ringmaster.wave',
  waveCount: 'ringmaster.wave_count',
  deploymentKind: 'ringmaster.deployment.kind',
  deploymentAttempt: 'ringmaster.deployment.attempt',
  deploymentPreviousVersion: 'ringmaster.deployment.previous_version',
  approvalGate: 'ringmaster.approval.gate',
  approvalApprovers: 'ringmaster.approval.approvers',
  approvalDecision: 'ringmaster.approval.decision',
  approvalRequiredCount: 'ringmaster.approval.required_count',
  approvalApproverRole: 'ringmaster.approval.approver_role',
  healthGateVerdict: 'ringmaster.health_gate.verdict',
  healthGateSignal: 'ringmaster.health_gate.signal',
  healthGateSignalValue: 'ringmaster.health_gate.signal_value',
  healthGateSignalThreshold: 'ringmaster.health_gate.signal_threshold',
  healthGateReportId: 'ringmaster.health_gate.report_id',
  bakeMinutes: 'ringmaster.bake.minutes',
  bakeCutShort: 'ringmaster.bake.cut_short',
  haltCause: 'ringmaster.halt.cause',
  haltedBy: 'ringmaster.halt.by',
  haltId: 'ringmaster.halt.id',
  haltScope: 'ringmaster.halt.scope',
  haltTarget: 'ringmaster.halt.target',
  incidentId: 'ringmaster.incident.id',
  incidentSeverity: 'ringmaster.incident.severity',
  incidentTitle: 'ringmaster.incident.title',
  incidentPhase: 'ringmaster.incident.phase',
  linkRelation: 'ringmaster.link.relation',
} as const

export { ERROR_TYPE_VALUE_OTHER }

type FactKey = keyof RolloutSpanFacts

/**
 * Facts that map to one attribute each, unchanged. Ids that the conventions type as strings
 * (`cicd.pipeline.run.id`, `deployment.id`) are converted in `rolloutSpanAttributes`.
 */
const plainFacts: ReadonlyArray<readonly [FactKey, string]> = [
  ['taskRunId', attributeNames.cicdPipelineTaskRunId],
  ['releaseId', attributeNames.releaseId],
  ['service', attributeNames.cicdPipelineName],
  ['service', attributeNames.service],
  ['version', attributeNames.releaseVersion],
  ['commit', attributeNames.vcsRefHeadRevision],
  ['releaseKind', attributeNames.releaseKind],
  ['requester', attributeNames.releaseRequester],
  ['outcome', attributeNames.outcome],
  ['ring', attributeNames.ringName],
  ['ringOrder', attributeNames.ringOrder],
  ['scaleUnit', attributeNames.scaleUnit],
  ['region', attributeNames.region],
  ['wave', attributeNames.wave],
  ['waves', attributeNames.waveCount],
  ['scaleUnits', attributeNames.scaleUnits],
  ['deploymentKind', attributeNames.deploymentKind],
  ['attempt', attributeNames.deploymentAttempt],
  ['previousVersion', attributeNames.deploymentPreviousVersion],
  ['gate', attributeNames.approvalGate],
  ['approvers', attributeNames.approvalApprovers],
  ['decision', attributeNames.approvalDecision],
  ['requiredApprovals', attributeNames.approvalRequiredCount],
  ['approverRole', attributeNames.approvalApproverRole],
  ['verdict', attributeNames.healthGateVerdict],
  ['signal', attributeNames.healthGateSignal],
  ['signalValue', attributeNames.healthGateSignalValue],
  ['signalThreshold', attributeNames.healthGateSignalThreshold],
  ['healthReportId', attributeNames.healthGateReportId],
  ['bakeMinutes', attributeNames.bakeMinutes],
  ['bakeCutShort', attributeNames.bakeCutShort],
  ['haltCause', attributeNames.haltCause],
  ['haltedBy', attributeNames.haltedBy],
  ['haltId', attributeNames.haltId],
  ['haltScope', attributeNames.haltScope],
  ['haltTarget', attributeNames.haltTarget],
  ['reason', attributeNames.reason],
  ['incidentId', attributeNames.incidentId],
  ['severity', attributeNames.incidentSeverity],
  ['title', attributeNames.incidentTitle],
  ['phase', attributeNames.incidentPhase],
]

/** Steps that are tasks of a release's pipeline run (the release itself is the run). */
const pipelineTasks: ReadonlySet<RolloutSpanStep> = new Set([
  'stage',
  'approval',
  'wave',
  'deployment',
  'bake',
  'health-gate',
  'rollback',
])

const taskTypes: Partial<Record<RolloutSpanStep, string>> = {
  wave: CICD_PIPELINE_TASK_TYPE_VALUE_DEPLOY,
  deployment: CICD_PIPELINE_TASK_TYPE_VALUE_DEPLOY,
  rollback: CICD_PIPELINE_TASK_TYPE_VALUE_DEPLOY,
  'health-gate': CICD_PIPELINE_TASK_TYPE_VALUE_TEST,
}

/**
 * A release, stage or deployment state, or an approval decision, as a CI/CD result. The
 * pipeline and task results share their values. `halted` has no result: it is not an ending.
 */
const pipelineResults: Readonly<Record<string, string>> = {
  succeeded: CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  approved: CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  approve: CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  failed: CICD_PIPELINE_RESULT_VALUE_FAILURE,
  rejected: CICD_PIPELINE_RESULT_VALUE_FAILURE,
  reject: CICD_PIPELINE_RESULT_VALUE_FAILURE,
  // What was deployed did not stay: the run did not reach its goal.
  rolled_back: CICD_PIPELINE_RESULT_VALUE_FAILURE,
  cancelled: CICD_PIPELINE_RESULT_VALUE_CANCELLATION,
  withdrawn: CICD_PIPELINE_RESULT_VALUE_CANCELLATION,
  // A newer release took its place before it ran.
  superseded: CICD_PIPELINE_RESULT_VALUE_SKIP,
}

const deploymentStatuses: Readonly<Record<string, string>> = {
  succeeded: DEPLOYMENT_STATUS_VALUE_SUCCEEDED,
  failed: DEPLOYMENT_STATUS_VALUE_FAILED,
}

export interface RolloutSpanAttributeOptions {
  /**
   * The control plane's address as people and pipelines reach it (RINGMASTER_PUBLIC_URL), for
   * the run and task URLs; without it those attributes are left out rather than guessed.
   */
  publicUrl?: string | undefined
}

/**
 * Where a release (the pipeline run) can be looked up: its API resource. A task run is the same
 * address with the task run's id as the fragment (`#stage/12`), which locates it in the release.
 */
export function releaseRunUrl(publicUrl: string, releaseId: number, taskRunId?: string): string {
  const url = new URL(
    `v1/releases/${releaseId}`,
    publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`,
  )
  if (taskRunId !== undefined) url.hash = taskRunId
  return url.href
}

/**
 * The attributes of a rollout span: what the step was, and each fact under its name. A fact
 * that is undefined or null gives no attribute. A pipeline task is named as its span is: span
 * names carry no version or scale unit, so the task name stays low-cardinality too.
 */
export function rolloutSpanAttributes(
  span: Pick<NewRolloutSpan, 'step' | 'name' | 'facts'>,
  options: RolloutSpanAttributeOptions = {},
): Attributes {
  const { step, facts } = span
  const attributes: Attributes = { [attributeNames.step]: step }
  for (const [fact, name] of plainFacts) {
    const value = facts[fact]
    if (value !== undefined && value !== null) attributes[name] = value
  }
  if (facts.releaseId !== undefined) {
    attributes[attributeNames.cicdPipelineRunId] = String(facts.releaseId)
    if (options.publicUrl !== undefined) {
      attributes[attributeNames.cicdPipelineRunUrlFull] = releaseRunUrl(
        options.publicUrl,
        facts.releaseId,
      )
      if (pipelineTasks.has(step) && facts.taskRunId !== undefined) {
        attributes[attributeNames.cicdPipelineTaskRunUrlFull] = releaseRunUrl(
          options.publicUrl,
          facts.releaseId,
          facts.taskRunId,
        )
      }
    }
  }
  if (facts.deploymentId !== undefined) {
    attributes[attributeNames.deploymentId] = String(facts.deploymentId)
  }
  if (pipelineTasks.has(step)) attributes[attributeNames.cicdPipelineTaskName] = span.name
  const taskType = taskTypes[step]
  if (taskType !== undefined) attributes[attributeNames.cicdPipelineTaskType] = taskType
  const result = facts.outcome === undefined ? undefined : pipelineResults[facts.outcome]
  if (result !== undefined) {
    if (step === 'release') attributes[attributeNames.cicdPipelineResult] = result
    else if (pipelineTasks.has(step)) attributes[attributeNames.cicdPipelineTaskRunResult] = result
  }
  const deploymentStatus =
    facts.outcome === undefined ? undefined : deploymentStatuses[facts.outcome]
  if (step === 'deployment' && deploymentStatus !== undefined) {
    attributes[attributeNames.deploymentStatus] = deploymentStatus
  }
  return attributes
}

import { deploymentStates, healthStatuses } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

export const Deployment = Type.Object(
  {
    id: Type.Integer({ description: 'The deployment id' }),
    releaseId: Type.Integer({ description: 'The release it belongs to' }),
    stageId: Type.Integer({ description: 'The stage it belongs to' }),
    ring: Type.String({ description: 'The ring of the scale unit' }),
    service: Type.String({ description: 'The service to deploy' }),
    scaleUnit: Type.String({ description: 'Where to deploy it' }),
    wave: Type.Integer({ description: 'The wave it belongs to (0 first)' }),
    kind: StringEnum(
      ['deploy', 'rollback'],
      'deploy the release, or roll it back to the previous version',
    ),
    version: Nullable(
      Type.String({
        description: 'What should run when done; null on a rollback means remove the service',
      }),
    ),
    previousVersion: Nullable(Type.String({ description: 'What ran before' })),
    state: StringEnum(deploymentStates, 'pending, in_progress, succeeded, failed or rolled_back'),
    attempt: Type.Integer({ description: '1, then one more for every retry' }),
    message: Nullable(Type.String({ description: 'What the executor said' })),
    logsUrl: Nullable(Type.String({ description: 'Where the executor keeps its logs' })),
    createdAt: Timestamp('When the work was created'),
    requestedAt: Timestamp('When this attempt was asked for: creation, or the latest retry'),
    startedAt: Nullable(Timestamp('When an executor started it')),
    finishedAt: Nullable(Timestamp('When it finished')),
  },
  {
    $id: 'Deployment',
    description: 'Work for an executor: deploy (or roll back) one service on one scale unit',
    additionalProperties: false,
  },
)

export const DeploymentParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The deployment id' }) },
  { additionalProperties: false },
)

export const CompleteDeploymentBody = Type.Object(
  {
    result: StringEnum(['succeeded', 'failed'], 'How it went'),
    message: Type.Optional(
      Type.String({ maxLength: 4000, description: 'A line for people, e.g. the error' }),
    ),
    logsUrl: Type.Optional(
      Type.String({ format: 'uri', maxLength: 2000, description: 'Where the logs are' }),
    ),
  },
  { additionalProperties: false },
)

export const DesiredState = Type.Object(
  {
    scaleUnit: Type.String({ description: 'The scale unit' }),
    services: Type.Record(Type.String(), Type.String(), {
      description: 'Service name to the version that should run there, counting open work',
    }),
    deployments: Type.Array(Deployment, {
      description: 'Open work for this scale unit, oldest first',
    }),
  },
  {
    $id: 'DesiredState',
    description: 'What should run on a scale unit, and the open work to get there',
    additionalProperties: false,
  },
)

export const ScaleUnitNameParams = Type.Object(
  { name: Name('The scale unit name') },
  { additionalProperties: false },
)

export const HealthReportBody = Type.Object(
  {
    service: Name('The service the report is about'),
    status: StringEnum(healthStatuses, 'healthy, degraded or unhealthy (fails a health gate)'),
    signals: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.]{0,63}$' }), Type.Number(), {
        maxProperties: 64,
        description:
          'Measurements, e.g. { "errorRate": 0.01, "p99Ms": 420 }; errorRate and p99Ms are checked against the ring thresholds',
      }),
    ),
  },
  { additionalProperties: false },
)

export const HealthReportResult = Type.Object(
  {
    report: Type.Object(
      {
        id: Type.Integer({ description: 'The report id' }),
        scaleUnit: Type.String({ description: 'Where it was measured' }),
        service: Type.String({ description: 'The service' }),
        status: StringEnum(healthStatuses, 'The reported status'),
        signals: Type.Record(Type.String(), Type.Number(), {
          description: 'The reported measurements',
        }),
        reportedBy: Type.String({ description: 'Subject of the reporting token' }),
        at: Timestamp('When it was received'),
      },
      { additionalProperties: false, description: 'The stored report' },
    ),
    verdicts: Type.Array(
      Type.Object(
        {
          releaseId: Type.Integer({
            description: 'A release whose health gate this report was checked against',
          }),
          ring: Type.String({ description: 'The ring of its gated stage' }),
          passed: Type.Boolean({ description: 'Whether the gate held' }),
          reasons: Type.Array(Type.String({ description: 'A broken rule' }), {
            description: 'Why it failed',
          }),
          action: StringEnum(
            ['none', 'halted', 'rolled_back'],
            'What the failed gate did to the release',
          ),
        },
        { additionalProperties: false },
      ),
      { description: 'One per release deploying or baking this service on this scale unit' },
    ),
  },
  {
    $id: 'HealthReportResult',
    description:
      'The stored health report and what it did to the health gates it was checked against',
    additionalProperties: false,
  },
)

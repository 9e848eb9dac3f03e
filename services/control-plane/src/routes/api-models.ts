import { Labels } from '../schemas/common.js'
import { Problem } from '../schemas/problem.js'
import {
  ClientFeatures,
  ClientFeaturesDelta,
  DeltaEvent,
  MetricsBody,
  RegisterBody,
  SdkDependency,
  SdkFeature,
  SdkSegment,
  SdkStrategy,
} from './client-api/client-api-schemas.js'
import { Deployment, DesiredState, HealthReportResult } from './deployments/deployment-schemas.js'
import {
  EvaluatedVariant,
  EvaluateResponse,
  Evaluation,
  Explanation,
  StrategyOutcome,
  UnleashContext,
} from './evaluation/evaluation-schemas.js'
import { AuditEvent, EventPage } from './events/event-routes.js'
import {
  Constraint,
  Dependency,
  Flag,
  FlagList,
  ImportedConstraint,
  ImportedFlag,
  ImportedSegment,
  ImportedStrategy,
  ImportedVariant,
  ImportOutcome,
  RingState,
  Segment,
  SegmentList,
  Strategy,
  StrategyInput,
  Variant,
  VariantPayload,
} from './flags/flag-schemas.js'
import { FreezeWindow, WeeklySchedule } from './freeze-windows/freeze-window-routes.js'
import { FrontendToggles } from './frontend-api/frontend-api-schemas.js'
import { Halt } from './halts/halt-routes.js'
import { Inbox, InboxApproval, InboxBlockedRelease } from './inbox/inbox-schemas.js'
import { Incident, IncidentList } from './incidents/incident-schemas.js'
import {
  OfrepBulkFailure,
  OfrepBulkSuccess,
  OfrepFailure,
  OfrepGeneralError,
  OfrepRequest,
  OfrepSuccess,
} from './ofrep/ofrep-schemas.js'
import {
  Approval,
  ApprovalResult,
  BlockedBy,
  CurrentStage,
  HoldingHalt,
  ReasonBody,
  Release,
  ReleaseDetail,
  ReleaseHalt,
  ReleaseList,
  Stage,
} from './releases/release-schemas.js'
import { DurationStats, ReliabilityReport } from './reports/report-schemas.js'
import {
  ApprovalGate,
  HealthThresholds,
  Ring,
  RingList,
  RingPolicy,
  RingPolicyInput,
} from './rings/ring-schemas.js'
import { ScaleUnit, ScaleUnitList } from './scale-units/scale-unit-schemas.js'
import { Service, ServiceList } from './services/service-schemas.js'
import { ConsoleSession, ConsoleSettings } from './sessions/session-schemas.js'
import { ApiToken, IssuedToken, TokenList } from './tokens/token-schemas.js'
import {
  CreatedWebhook,
  DeliveryList,
  Webhook,
  WebhookDelivery,
  WebhookList,
} from './webhooks/webhook-schemas.js'

/**
 * Every named shape of the API: each is one components/schemas entry of the OpenAPI document and
 * one named type of the SDK. A route or model that embeds one of these refers to it
 * (plugins/infra/api-models.ts); a schema with an `$id` missing here fails the start.
 */
export const apiModels = [
  Problem,
  Service,
  ServiceList,
  ApiToken,
  IssuedToken,
  TokenList,
  ConsoleSettings,
  ConsoleSession,
  HealthThresholds,
  ApprovalGate,
  RingPolicy,
  RingPolicyInput,
  Ring,
  RingList,
  Labels,
  ScaleUnit,
  ScaleUnitList,
  AuditEvent,
  EventPage,
  Deployment,
  DesiredState,
  HealthReportResult,
  ReleaseHalt,
  Release,
  Approval,
  Stage,
  HoldingHalt,
  BlockedBy,
  ReleaseDetail,
  CurrentStage,
  ReleaseList,
  ReasonBody,
  ApprovalResult,
  InboxApproval,
  InboxBlockedRelease,
  Inbox,
  Halt,
  WeeklySchedule,
  FreezeWindow,
  Incident,
  IncidentList,
  DurationStats,
  ReliabilityReport,
  Webhook,
  CreatedWebhook,
  WebhookList,
  WebhookDelivery,
  DeliveryList,
  Constraint,
  VariantPayload,
  Variant,
  Dependency,
  StrategyInput,
  Strategy,
  RingState,
  Flag,
  FlagList,
  Segment,
  SegmentList,
  ImportedConstraint,
  ImportedVariant,
  ImportedStrategy,
  ImportedFlag,
  ImportedSegment,
  ImportOutcome,
  UnleashContext,
  Explanation,
  StrategyOutcome,
  EvaluatedVariant,
  Evaluation,
  EvaluateResponse,
  SdkStrategy,
  SdkDependency,
  SdkFeature,
  SdkSegment,
  ClientFeatures,
  DeltaEvent,
  ClientFeaturesDelta,
  RegisterBody,
  MetricsBody,
  FrontendToggles,
  OfrepRequest,
  OfrepSuccess,
  OfrepFailure,
  OfrepBulkSuccess,
  OfrepBulkFailure,
  OfrepGeneralError,
] as const

export {
  type AuditEvent,
  type CallOptions,
  createRingmasterClient,
  type EventStreamOptions,
  type InitFor,
  newIdempotencyKey,
  type paths,
  type RawClient,
  type RetryNotice,
  type RetryPolicy,
  type RingmasterClient,
  type RingmasterClientOptions,
  type SuccessBody,
} from './client.js'
export type { components, operations } from './generated/control-plane.js'
export {
  type FieldProblem,
  isTransientFailure,
  type Problem,
  RingmasterProblem,
  RingmasterRequestError,
} from './ringmaster-errors.js'

export {
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
// The API's named shapes (Release, Stage, Ring, RingPolicy, Flag, AuditEvent, …), one type
// each, as the OpenAPI document's components name them, and the defaults it publishes.
export type * from './generated/control-plane.js'
export { defaultRingPolicy } from './generated/control-plane.js'
export {
  type FieldProblem,
  isTransientFailure,
  RingmasterProblem,
  RingmasterRequestError,
} from './ringmaster-errors.js'

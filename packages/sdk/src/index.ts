export {
  type AuditEvent,
  type CallOptions,
  createRingmasterClient,
  type EventStreamOptions,
  type InitFor,
  newIdempotencyKey,
  type paths,
  type RawClient,
  type RingmasterClient,
  type RingmasterClientOptions,
  type SuccessBody,
} from './client.js'
export type { components, operations } from './generated/control-plane.js'
export {
  type FieldProblem,
  type Problem,
  RingmasterProblem,
  RingmasterRequestError,
} from './ringmaster-errors.js'

/**
 * Domain errors carry a stable `code` (it becomes the problem `type`) and a message a person can act on.
 * They know nothing about HTTP: the control plane maps each class to a status code.
 */
export class DomainError extends Error {
  readonly code: string
  readonly details: Record<string, unknown> | undefined

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.details = details
  }
}

/** The input is well-formed but breaks a rule (an unknown ring, a scale unit paired with itself). */
export class InvalidInputError extends DomainError {}

/** The thing addressed does not exist. */
export class NotFoundError extends DomainError {}

/** The change collides with the current state (a taken name, a ring that still has scale units). */
export class ConflictError extends DomainError {}

/** The caller is known but this rule forbids what they asked for. */
export class ForbiddenError extends DomainError {}

/** No credentials, or credentials that match no live token. */
export class UnauthenticatedError extends DomainError {}

/** Something the answer depends on cannot be reached right now; asking again later may work. */
export class UnavailableError extends DomainError {}

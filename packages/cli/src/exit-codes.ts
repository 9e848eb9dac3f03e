/** The documented exit codes of `ringmaster`; pipelines branch on them. */
export const ExitCode = {
  success: 0,
  failed: 1,
  usage: 2,
  haltedOrBlocked: 3,
  timedOut: 4,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A mistake in how the command was called: printed with the command's help, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A command that ran but must end the process with a given code and message. */
export class CommandExit extends Error {
  override readonly name = 'CommandExit'

  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message)
  }
}

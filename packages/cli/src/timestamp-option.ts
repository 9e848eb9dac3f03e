import { type CommandContext, optionalString } from './command.js'
import { UsageError } from './exit-codes.js'

/**
 * An ISO 8601 time option, e.g. `--at 2026-11-23T14:05:00Z`, as the API's UTC form. A bare date
 * means the start of that day in UTC. A mistake is a usage error, so no request is sent.
 */
export function timestampOption(context: CommandContext, name: string): string | undefined {
  const text = optionalString(context, name)
  if (text === undefined) return undefined
  const normalized = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(normalized) || Number.isNaN(Date.parse(normalized)))
    throw new UsageError(
      `--${name} must be an ISO 8601 time like 2026-11-23T14:05:00Z (or a date), not '${text}'`,
    )
  return new Date(normalized).toISOString()
}

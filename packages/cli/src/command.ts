import { type ParseArgsConfig, parseArgs } from 'node:util'
import { createRingmasterClient, type RingmasterClient } from '@ringmaster/sdk'
import { type ExitCode, UsageError } from './exit-codes.js'
import { describeError, Output, type OutputFormat } from './output.js'

type OptionsConfig = NonNullable<ParseArgsConfig['options']>

/**
 * How often a call that got no usable answer (no connection, 502, 503, 504, 429) is tried again:
 * six more times over roughly 12 to 24 seconds, enough for a control plane to restart behind its
 * load balancer. Writes keep their Idempotency-Key across attempts, so none is done twice.
 */
export const requestRetries = 6

/** Options every command takes. */
export const globalOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig

export const globalHelp = `Global options:
  --url URL              the control plane (default $RINGMASTER_URL)
  --token TOKEN          an API token (default $RINGMASTER_TOKEN)
  -o, --output FORMAT    text (default) or json: one JSON document on stdout
  --json                 the same as -o json
  -h, --help             this help`

export interface CommandContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>
  positionals: string[]
  output: Output
  /** The typed client for the configured control plane; a usage error when URL or token is missing. */
  client(): RingmasterClient
}

export interface Command {
  /** The words that select it, e.g. `release create`. */
  name: string
  summary: string
  /** Usage lines and options, shown by `--help` and on a usage error. */
  help: string
  options: OptionsConfig
  /** How many positional arguments it takes, e.g. `[1, 1]` for exactly one. */
  positionals: [min: number, max: number]
  run(context: CommandContext): Promise<ExitCode | undefined>
}

export interface ParsedCommand {
  context: CommandContext
  help: boolean
}

export function parseCommand(
  command: Command,
  args: string[],
  env: NodeJS.ProcessEnv,
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      options: { ...globalOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  const format = (values.output as string | undefined) ?? (values.json === true ? 'json' : 'text')
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`--output must be text or json, not '${format}'`)
  }
  const output = new Output(format as OutputFormat, streams.stdout, streams.stderr)
  const help = values.help === true
  if (!help) {
    const [min, max] = command.positionals
    if (positionals.length < min) throw new UsageError(`${command.name}: missing arguments`)
    if (positionals.length > max) {
      throw new UsageError(`${command.name}: unexpected argument '${positionals[max]}'`)
    }
  }
  let client: RingmasterClient | undefined
  const connection = () => {
    const baseUrl = (values.url as string | undefined) ?? env.RINGMASTER_URL
    const token = (values.token as string | undefined) ?? env.RINGMASTER_TOKEN
    if (!baseUrl) throw new UsageError('no control plane: set RINGMASTER_URL or pass --url')
    if (!token) throw new UsageError('no token: set RINGMASTER_TOKEN or pass --token')
    try {
      new URL(baseUrl)
    } catch {
      throw new UsageError(`'${baseUrl}' is not a URL (RINGMASTER_URL or --url)`)
    }
    return { baseUrl, token }
  }
  return {
    help,
    context: {
      values,
      positionals,
      output,
      client() {
        client ??= createRingmasterClient({
          ...connection(),
          userAgent: 'ringmaster-cli',
          retry: {
            retries: requestRetries,
            onRetry: ({ error, attempt, delayMs }) =>
              output.error(
                `${describeError(error)}; trying again in ${(delayMs / 1000).toFixed(1)} s (${attempt} of ${requestRetries})`,
              ),
          },
        })
        return client
      },
    },
  }
}

/** A string option the command cannot do without. */
export function requireString(context: CommandContext, name: string): string {
  const value = context.values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

export function optionalString(context: CommandContext, name: string): string | undefined {
  const value = context.values[name]
  return typeof value === 'string' ? value : undefined
}

/** A positive integer id given as a positional argument. */
export function idArgument(context: CommandContext, index = 0, what = 'ID'): number {
  const text = context.positionals[index] ?? ''
  if (!/^[1-9][0-9]*$/.test(text))
    throw new UsageError(`${what} must be a positive integer, not '${text}'`)
  return Number(text)
}

/** `90s`, `15m`, `2h` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match)
    throw new UsageError(`--${option} must be a duration like 90s, 15m or 2h, not '${text}'`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000
  return Number(match[1]) * unit
}

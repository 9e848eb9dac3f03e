import { RingmasterProblem, RingmasterRequestError } from '@ringmaster/sdk'

export type OutputFormat = 'text' | 'json'

/**
 * What a command prints. With `--output json` stdout carries exactly one JSON document (the
 * result); progress and errors always go to stderr so a pipeline can parse stdout.
 */
export class Output {
  constructor(
    readonly format: OutputFormat,
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
  ) {}

  get json(): boolean {
    return this.format === 'json'
  }

  /** The command's result: `value` as JSON, or the text lines. */
  result(value: unknown, text: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
      return
    }
    const lines = text()
    const body = Array.isArray(lines) ? lines.join('\n') : lines
    if (body) this.stdout.write(`${body}\n`)
  }

  /** A line of progress for people: stdout in text mode, stderr in JSON mode. */
  progress(line: string): void {
    ;(this.json ? this.stderr : this.stdout).write(`${line}\n`)
  }

  error(line: string): void {
    this.stderr.write(`${line}\n`)
  }
}

/** An error as a person should read it: the problem's detail and each field error, never headers. */
export function describeError(error: unknown): string {
  if (error instanceof RingmasterProblem) {
    const lines = [`error: ${error.detail || error.title} (${error.status} ${error.type})`]
    for (const field of error.errors ?? []) {
      lines.push(`  ${field.path}${field.path ? ': ' : ''}${field.message}`)
    }
    return lines.join('\n')
  }
  if (error instanceof RingmasterRequestError) {
    // No answer at all: name the server and the network's reason (fetch hides it in a cause).
    if (error.status === undefined) {
      const cause = error.cause as (Error & { cause?: Error }) | undefined
      const reason = cause?.cause?.message ?? cause?.message ?? error.message
      return `error: could not reach ${new URL(error.url).origin}: ${reason}`
    }
    // An answer that is not the API's JSON (a proxy's page): the message names method, URL, status.
    return `error: ${error.message}`
  }
  return `error: ${(error as Error).message ?? String(error)}`
}

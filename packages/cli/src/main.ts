import { type Command, globalHelp, parseCommand } from './command.js'
import { agent } from './commands/agent-command.js'
import {
  flagsDisable,
  flagsEnable,
  flagsImport,
  flagsList,
  flagsShow,
} from './commands/flag-commands.js'
import { inbox } from './commands/inbox-command.js'
import {
  incidentDeclare,
  incidentList,
  incidentMitigate,
  incidentResolve,
  incidentShow,
} from './commands/incident-commands.js'
import { lineResume, lineStatus, lineStop } from './commands/line-commands.js'
import {
  approve,
  cancel,
  halt,
  promote,
  reject,
  releaseCreate,
  releaseList,
  releaseStatus,
  resume,
  rollback,
} from './commands/release-commands.js'
import { releaseWatch } from './commands/release-watch-command.js'
import { reportReliability } from './commands/report-command.js'
import { topologyApply } from './commands/topology-command.js'
import { CommandExit, ExitCode, UsageError } from './exit-codes.js'
import { describeError } from './output.js'

export const commands: Command[] = [
  releaseCreate,
  releaseStatus,
  releaseList,
  releaseWatch,
  inbox,
  approve,
  reject,
  promote,
  halt,
  resume,
  rollback,
  cancel,
  lineStop,
  lineResume,
  lineStatus,
  agent,
  topologyApply,
  incidentDeclare,
  incidentMitigate,
  incidentResolve,
  incidentList,
  incidentShow,
  reportReliability,
  flagsList,
  flagsShow,
  flagsEnable,
  flagsDisable,
  flagsImport,
]

export function mainHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2
  return [
    'Usage: ringmaster COMMAND [options]   (ringmaster COMMAND --help for its options)',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)} ${command.summary}`),
    '',
    globalHelp,
    '',
    'Exit codes: 0 success, 1 failed, 2 usage, 3 halted or blocked, 4 timed out.',
  ].join('\n')
}

export interface Streams {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** Runs one invocation and returns its exit code; never throws. */
export async function main(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  streams: Streams = process,
): Promise<number> {
  // The longest command name that the arguments start with: `release create`, then `approve`.
  const command = [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((candidate) => candidate.name.split(' ').every((word, index) => args[index] === word))
  if (!command) {
    const wantsHelp =
      args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help'
    ;(wantsHelp ? streams.stdout : streams.stderr).write(`${mainHelp()}\n`)
    if (!wantsHelp)
      streams.stderr.write(`\nerror: unknown command '${args.slice(0, 2).join(' ')}'\n`)
    return wantsHelp ? ExitCode.success : ExitCode.usage
  }
  const rest = args.slice(command.name.split(' ').length)
  try {
    const parsed = parseCommand(command, rest, env, streams)
    if (parsed.help) {
      streams.stdout.write(`${command.help}\n\n${globalHelp}\n`)
      return ExitCode.success
    }
    return (await command.run(parsed.context)) ?? ExitCode.success
  } catch (error) {
    if (error instanceof UsageError) {
      streams.stderr.write(`error: ${error.message}\n\n${command.help}\n`)
      return ExitCode.usage
    }
    if (error instanceof CommandExit) {
      streams.stderr.write(`error: ${error.message}\n`)
      return error.code
    }
    streams.stderr.write(`${describeError(error)}\n`)
    return ExitCode.failed
  }
}

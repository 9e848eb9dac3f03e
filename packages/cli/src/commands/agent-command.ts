import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Command,
  type CommandContext,
  optionalString,
  parseDuration,
  requireString,
} from '../command.js'
import { type ControlPlaneClient, type Json, RingmasterProblem } from '../control-plane-client.js'
import { ExitCode } from '../exit-codes.js'
import { describeError, type Output } from '../output.js'

/** The executor's report keeps at most this much of the command's output. */
const messageLimit = 3900

/** Quotes a value for a POSIX shell: the template is run with `sh -c`. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

export function deploymentVariables(deployment: Json): Record<string, string> {
  return {
    service: deployment.service,
    version: deployment.version ?? '',
    previousVersion: deployment.previousVersion ?? '',
    scaleUnit: deployment.scaleUnit,
    ring: deployment.ring,
    deploymentId: String(deployment.id),
    releaseId: String(deployment.releaseId),
    kind: deployment.kind,
  }
}

/** `{service}`-style placeholders replaced by shell-quoted values; unknown ones stay as they are. */
export function renderCommand(template: string, variables: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in variables ? shellQuote(variables[name]!) : whole,
  )
}

interface RunResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  tail: string
}

/** Runs the command for one deployment, streaming its output with a prefix. */
async function runDeployment(
  command: string,
  deployment: Json,
  output: Output,
): Promise<RunResult> {
  const variables = deploymentVariables(deployment)
  // The child gets the deployment as RINGMASTER_* variables, but never this process's token.
  const { RINGMASTER_TOKEN: _token, ...env } = process.env
  const child = spawn('sh', ['-c', command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      RINGMASTER_SERVICE: variables.service,
      RINGMASTER_VERSION: variables.version,
      RINGMASTER_PREVIOUS_VERSION: variables.previousVersion,
      RINGMASTER_SCALE_UNIT: variables.scaleUnit,
      RINGMASTER_RING: variables.ring,
      RINGMASTER_DEPLOYMENT_ID: variables.deploymentId,
      RINGMASTER_RELEASE_ID: variables.releaseId,
      RINGMASTER_DEPLOYMENT_KIND: variables.kind,
    },
  })
  const prefix = `[${deployment.scaleUnit} #${deployment.id}]`
  let tail = ''
  const onChunk = (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    tail = (tail + text).slice(-messageLimit)
    for (const line of text.split('\n')) if (line !== '') output.progress(`${prefix} ${line}`)
  }
  child.stdout.on('data', onChunk)
  child.stderr.on('data', onChunk)
  return new Promise((resolve) => {
    child.on('error', (error) => {
      resolve({ exitCode: 127, signal: null, tail: `could not run the command: ${error.message}` })
    })
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, tail: tail.trimEnd() }))
  })
}

/** Starts, runs and reports one deployment; true when it succeeded. */
async function executeDeployment(
  client: ControlPlaneClient,
  template: string,
  deployment: Json,
  context: CommandContext,
): Promise<boolean> {
  const { output } = context
  // Keys derived from the deployment attempt: a retried report replays instead of failing.
  const attempt = `deployment-${deployment.id}-attempt-${deployment.attempt}`
  if (deployment.state === 'pending') {
    await client.post(`/v1/deployments/${deployment.id}/start`, {
      idempotencyKey: `${attempt}-start`,
    })
  } else {
    output.progress(
      `resuming deployment ${deployment.id}, already in progress (the agent stopped before it finished)`,
    )
  }
  const command = renderCommand(template, deploymentVariables(deployment))
  const what = `${deployment.kind} ${deployment.service} ${deployment.version ?? '(remove)'} on ${deployment.scaleUnit}`
  output.progress(`${what}: ${command}`)
  const result = await runDeployment(command, deployment, output)
  const succeeded = result.exitCode === 0
  const status = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`
  const message = `${status}${result.tail ? `\n${result.tail}` : ''}`.slice(-messageLimit)
  await client.post(`/v1/deployments/${deployment.id}/complete`, {
    body: { result: succeeded ? 'succeeded' : 'failed', message },
    idempotencyKey: `${attempt}-complete`,
  })
  output.progress(`${what}: ${succeeded ? 'succeeded' : `failed (${status})`}`)
  if (succeeded && context.values['skip-health'] !== true) {
    await client.post(`/v1/scale-units/${encodeURIComponent(deployment.scaleUnit)}/health`, {
      body: { service: deployment.service, status: 'healthy' },
    })
  }
  return succeeded
}

export const agent: Command = {
  name: 'agent',
  summary: 'pull-mode executor: run a command for each deployment assigned to a scale unit',
  help: `Usage: ringmaster agent --scale-unit SU --exec 'COMMAND {service} {version}' [--once] [--interval 2s]

Polls the scale unit's desired state; for each deployment it marks it started, runs COMMAND with
sh -c (output streamed, prefixed), reports succeeded (exit 0) or failed with the output's tail,
and after a success posts a healthy report for the service on the scale unit.

Placeholders (shell-quoted): {service} {version} {previousVersion} {scaleUnit} {ring}
{deploymentId} {releaseId} {kind}. The same values are in the environment as RINGMASTER_SERVICE,
RINGMASTER_VERSION, RINGMASTER_PREVIOUS_VERSION, RINGMASTER_SCALE_UNIT, RINGMASTER_RING,
RINGMASTER_DEPLOYMENT_ID, RINGMASTER_RELEASE_ID, RINGMASTER_DEPLOYMENT_KIND ({kind} is deploy or
rollback; a rollback's {version} is the version to go back to, empty to remove the service).
RINGMASTER_TOKEN is not passed to the command.

  --scale-unit SU        the scale unit this agent deploys to
  --exec COMMAND         the deploy command template
  --once                 handle the work there is now, then exit (1 if any deployment failed)
  --interval DURATION    how often to ask for work (default 2s)
  --skip-health          do not post a health report after a successful deployment`,
  options: {
    'scale-unit': { type: 'string' },
    exec: { type: 'string' },
    once: { type: 'boolean' },
    interval: { type: 'string' },
    'skip-health': { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(context) {
    const scaleUnit = requireString(context, 'scale-unit')
    const template = requireString(context, 'exec')
    const intervalMs = parseDuration(optionalString(context, 'interval') ?? '2s', 'interval')
    const once = context.values.once === true
    const client = context.legacyClient()
    const { output } = context
    let stopping = false
    const stop = () => {
      stopping = true
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    const results: Json[] = []
    let anyFailed = false
    output.progress(`agent for ${scaleUnit}: waiting for work`)
    try {
      while (!stopping) {
        let desired: Json
        try {
          desired = await client.get(`/v1/scale-units/${encodeURIComponent(scaleUnit)}/desired`)
        } catch (error) {
          // A wrong token or scale unit will not fix itself; anything else is retried.
          if (error instanceof RingmasterProblem && [401, 403, 404].includes(error.status))
            throw error
          if (once) throw error
          output.error(`${describeError(error)}; retrying`)
          await sleep(intervalMs)
          continue
        }
        for (const deployment of desired.deployments) {
          if (stopping) break
          if (deployment.state !== 'pending' && deployment.state !== 'in_progress') continue
          try {
            const succeeded = await executeDeployment(client, template, deployment, context)
            anyFailed ||= !succeeded
            results.push({
              deploymentId: deployment.id,
              releaseId: deployment.releaseId,
              succeeded,
            })
          } catch (error) {
            if (once) throw error
            output.error(`${describeError(error)}; deployment ${deployment.id} is tried again`)
          }
        }
        if (once) break
        await sleep(intervalMs)
      }
    } finally {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
    }
    output.result(
      { scaleUnit, deployments: results },
      () =>
        `agent for ${scaleUnit}: ran ${results.length} deployment(s), ${results.filter((r) => !r.succeeded).length} failed`,
    )
    return once && anyFailed ? ExitCode.failed : ExitCode.success
  },
}

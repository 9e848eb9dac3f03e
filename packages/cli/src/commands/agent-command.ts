import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Deployment,
  type DesiredState,
  isTransientFailure,
  type RingmasterClient,
  RingmasterProblem,
} from '@ringmaster/sdk'
import { type Command, optionalString, parseDuration, requireString } from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'
import { OutageNotice } from '../outage-notice.js'
import { describeError, type Output } from '../output.js'

/** The executor's report keeps at most this much of the command's output. */
const messageLimit = 3900

/** Quotes a value for a POSIX shell: the template is run with `sh -c`. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

export function deploymentVariables(deployment: Deployment): Record<string, string> {
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

const environmentNames: Record<string, string> = {
  service: 'RINGMASTER_SERVICE',
  version: 'RINGMASTER_VERSION',
  previousVersion: 'RINGMASTER_PREVIOUS_VERSION',
  scaleUnit: 'RINGMASTER_SCALE_UNIT',
  ring: 'RINGMASTER_RING',
  deploymentId: 'RINGMASTER_DEPLOYMENT_ID',
  releaseId: 'RINGMASTER_RELEASE_ID',
  kind: 'RINGMASTER_DEPLOYMENT_KIND',
}

/** Runs a command with sh -c, streaming its output with a prefix. */
async function runCommand(
  command: string,
  variables: Record<string, string>,
  prefix: string,
  output: Output,
): Promise<RunResult> {
  // The child gets the variables as RINGMASTER_* variables, but never this process's token.
  const { RINGMASTER_TOKEN: _token, ...env } = process.env
  for (const [name, value] of Object.entries(variables)) {
    const environmentName = environmentNames[name]
    if (environmentName) env[environmentName] = value
  }
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env })
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

interface HealthCheck {
  /** The --health-cmd template; undefined means report healthy without checking. */
  template: string | undefined
  /** --skip-health: report nothing. */
  skip: boolean
}

/**
 * Runs the health command for a service on the scale unit and posts the report: exit 0 healthy,
 * anything else unhealthy. Without a command it reports healthy unchecked. True when healthy.
 */
async function checkHealth(
  client: RingmasterClient,
  health: HealthCheck,
  target: { service: string; version: string; scaleUnit: string },
  output: Output,
): Promise<boolean> {
  if (health.skip) return true
  let healthy = true
  if (health.template !== undefined) {
    const command = renderCommand(health.template, target)
    const prefix = `[${target.scaleUnit} health ${target.service}]`
    const result = await runCommand(command, target, prefix, output)
    healthy = result.exitCode === 0
    const status = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`
    // The health report has no message field: the tail stays in this agent's output.
    output.progress(`${prefix} ${healthy ? 'healthy' : 'unhealthy'} (${status})`)
  }
  const { verdicts } = await client.post('/v1/scale-units/{name}/health', {
    params: { path: { name: target.scaleUnit } },
    body: { service: target.service, status: healthy ? 'healthy' : 'unhealthy' },
  })
  for (const verdict of verdicts) {
    if (!verdict.passed) {
      output.progress(
        `health gate of release ${verdict.releaseId} in ${verdict.ring} failed: ${verdict.reasons.join('; ')} (${verdict.action})`,
      )
    }
  }
  return healthy
}

/** The outcome of a deployment the agent ran, to report; kept until the report gets through. */
interface CompletionReport {
  deployment: Deployment
  succeeded: boolean
  /** What `complete` is sent. */
  body: { result: 'succeeded' | 'failed'; message: string }
  idempotencyKey: string
  /** `checkout 1.4.0 on team-wus2`, for the agent's lines. */
  what: string
  status: string
}

/** Starts and runs one deployment; what to report about it. */
async function runDeployment(
  client: RingmasterClient,
  template: string,
  deployment: Deployment,
  output: Output,
): Promise<CompletionReport> {
  // Keys derived from the deployment attempt: a report sent again replays instead of failing.
  const attempt = `deployment-${deployment.id}-attempt-${deployment.attempt}`
  if (deployment.state === 'pending') {
    await client.post('/v1/deployments/{id}/start', {
      params: { path: { id: deployment.id } },
      idempotencyKey: `${attempt}-start`,
    })
  } else {
    output.progress(
      `resuming deployment ${deployment.id}, already in progress (the agent stopped before it finished)`,
    )
  }
  const variables = deploymentVariables(deployment)
  const command = renderCommand(template, variables)
  const what = `${deployment.kind} ${deployment.service} ${deployment.version ?? '(remove)'} on ${deployment.scaleUnit}`
  output.progress(`${what}: ${command}`)
  const prefix = `[${deployment.scaleUnit} #${deployment.id}]`
  const result = await runCommand(command, variables, prefix, output)
  const succeeded = result.exitCode === 0
  const status = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`
  const message = `${status}${result.tail ? `\n${result.tail}` : ''}`.slice(-messageLimit)
  return {
    deployment,
    succeeded,
    body: { result: succeeded ? 'succeeded' : 'failed', message },
    idempotencyKey: `${attempt}-complete`,
    what,
    status,
  }
}

/**
 * Reports a deployment the agent ran, then checks the service's health after a success. A report
 * sent again (`resend`) is tried once: the agent's loop tries it again next round.
 */
async function sendReport(
  client: RingmasterClient,
  report: CompletionReport,
  health: HealthCheck,
  output: Output,
  resend: boolean,
): Promise<{ succeeded: boolean; healthy: boolean }> {
  const { deployment, succeeded, what, status } = report
  await client.post('/v1/deployments/{id}/complete', {
    params: { path: { id: deployment.id } },
    body: report.body,
    idempotencyKey: report.idempotencyKey,
    ...(resend && { retry: false as const }),
  })
  output.progress(`${what}: ${succeeded ? 'succeeded' : `failed (${status})`}`)
  // A rollback that removes the service leaves nothing to check.
  if (!succeeded || deployment.version === null) return { succeeded, healthy: true }
  const healthy = await checkHealth(
    client,
    health,
    { service: deployment.service, version: deployment.version, scaleUnit: deployment.scaleUnit },
    output,
  )
  return { succeeded, healthy }
}

/**
 * The periodic check: every service that should run here and has no open work (a deployment in
 * flight is checked when it finishes).
 */
async function checkSettledServices(
  client: RingmasterClient,
  health: HealthCheck,
  desired: DesiredState,
  output: Output,
): Promise<void> {
  const busy = new Set(desired.deployments.map((deployment) => deployment.service))
  for (const [service, version] of Object.entries(desired.services)) {
    if (busy.has(service)) continue
    await checkHealth(client, health, { service, version, scaleUnit: desired.scaleUnit }, output)
  }
}

export const agent: Command = {
  name: 'agent',
  summary: 'pull-mode executor: run a command for each deployment assigned to a scale unit',
  help: `Usage: ringmaster agent --scale-unit SU --exec 'COMMAND {service} {version}' [--once] [--interval 2s]
                        [--health-cmd 'CHECK {service} {version} {scaleUnit}' [--health-interval 30s]]

Polls the scale unit's desired state; for each deployment it marks it started, runs COMMAND with
sh -c (output streamed, prefixed), reports succeeded (exit 0) or failed with the output's tail,
and after a success posts a health report for the service on the scale unit.

Health: with --health-cmd the agent runs CHECK after each successful deployment and, every
--health-interval, for each service that should run on the scale unit and has no deployment in
flight; exit 0 reports healthy, any other exit unhealthy (which fails the health gate of a release
deploying or baking there: it halts, or rolls back with the ring's autoRollback). The check's
output is streamed here; the report carries only the status. WITHOUT --health-cmd the agent
reports healthy after every successful deployment without checking anything, and sends no
periodic reports.

Placeholders (shell-quoted): {service} {version} {previousVersion} {scaleUnit} {ring}
{deploymentId} {releaseId} {kind}. The same values are in the environment as RINGMASTER_SERVICE,
RINGMASTER_VERSION, RINGMASTER_PREVIOUS_VERSION, RINGMASTER_SCALE_UNIT, RINGMASTER_RING,
RINGMASTER_DEPLOYMENT_ID, RINGMASTER_RELEASE_ID, RINGMASTER_DEPLOYMENT_KIND ({kind} is deploy or
rollback; a rollback's {version} is the version to go back to, empty to remove the service).
RINGMASTER_TOKEN is not passed to the command.

  --scale-unit SU        the scale unit this agent deploys to
  --exec COMMAND         the deploy command template
  --once                 handle the work there is now, then exit (1 if a deployment failed or a
                         health check was unhealthy)
  --interval DURATION    how often to ask for work (default 2s)
  --health-cmd CHECK     the health check template: {service} {version} {scaleUnit}, and the same
                         RINGMASTER_SERVICE, RINGMASTER_VERSION, RINGMASTER_SCALE_UNIT variables
  --health-interval DURATION
                         how often to check the running services (default 30s; needs --health-cmd)
  --skip-health          post no health reports at all (another system reports health)`,
  options: {
    'scale-unit': { type: 'string' },
    exec: { type: 'string' },
    once: { type: 'boolean' },
    interval: { type: 'string' },
    'health-cmd': { type: 'string' },
    'health-interval': { type: 'string' },
    'skip-health': { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(context) {
    const scaleUnit = requireString(context, 'scale-unit')
    const template = requireString(context, 'exec')
    const intervalMs = parseDuration(optionalString(context, 'interval') ?? '2s', 'interval')
    const healthTemplate = optionalString(context, 'health-cmd')
    const healthIntervalText = optionalString(context, 'health-interval')
    const skip = context.values['skip-health'] === true
    if (healthTemplate !== undefined && healthTemplate.trim() === '') {
      throw new UsageError('--health-cmd must not be empty')
    }
    if (skip && healthTemplate !== undefined) {
      throw new UsageError('--skip-health and --health-cmd cannot be used together')
    }
    if (healthIntervalText !== undefined && healthTemplate === undefined) {
      throw new UsageError('--health-interval needs --health-cmd')
    }
    const healthIntervalMs = parseDuration(healthIntervalText ?? '30s', 'health-interval')
    if (healthIntervalMs <= 0) throw new UsageError('--health-interval must be more than 0')
    const health: HealthCheck = { template: healthTemplate, skip }
    const once = context.values.once === true
    const client = context.client()
    const { output } = context
    let stopping = false
    const stop = () => {
      stopping = true
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    const results: {
      deploymentId: number
      releaseId: number
      succeeded: boolean
      healthy: boolean
    }[] = []
    let anyFailed = false
    const record = (deployment: Deployment, outcome: { succeeded: boolean; healthy: boolean }) => {
      anyFailed ||= !outcome.succeeded || !outcome.healthy
      results.push({ deploymentId: deployment.id, releaseId: deployment.releaseId, ...outcome })
    }
    // Deployments that ran but whose report did not get through (after the client's retries):
    // the report is sent again each round with its key, and the deployment is never run again.
    const unreported = new Map<number, CompletionReport>()
    const report = async (completion: CompletionReport) => {
      const { id } = completion.deployment
      try {
        const resend = unreported.has(id)
        record(completion.deployment, await sendReport(client, completion, health, output, resend))
        unreported.delete(id)
      } catch (error) {
        if (once || !isTransientFailure(error)) {
          unreported.delete(id)
          throw error
        }
        if (!unreported.has(id)) {
          output.error(
            `${describeError(error)}; the result of deployment ${id} is kept and sent again, the deployment is not run again`,
          )
        }
        unreported.set(id, completion)
      }
    }
    let nextHealthCheck = Date.now() + healthIntervalMs
    const outage = new OutageNotice((line) => output.error(line))
    output.progress(`agent for ${scaleUnit}: waiting for work`)
    try {
      while (!stopping) {
        for (const completion of [...unreported.values()]) {
          await report(completion).catch((error: unknown) =>
            output.error(
              `${describeError(error)}; the result of deployment ${completion.deployment.id} could not be reported and is dropped`,
            ),
          )
        }
        let desired: DesiredState
        try {
          desired = await client.get('/v1/scale-units/{name}/desired', {
            params: { path: { name: scaleUnit } },
            // The loop asks again every interval anyway; --once has no loop, so it retries.
            ...(!once && { retry: false as const }),
          })
          outage.answered()
        } catch (error) {
          // A wrong token or scale unit will not fix itself; anything else is asked again.
          if (error instanceof RingmasterProblem && [401, 403, 404].includes(error.status))
            throw error
          if (once) throw error
          outage.failed(() => `${describeError(error)}; asking again every ${intervalMs / 1000} s`)
          await sleep(intervalMs)
          continue
        }
        for (const deployment of desired.deployments) {
          if (stopping) break
          if (deployment.state !== 'pending' && deployment.state !== 'in_progress') continue
          if (unreported.has(deployment.id)) continue
          try {
            await report(await runDeployment(client, template, deployment, output))
          } catch (error) {
            if (once) throw error
            output.error(`${describeError(error)}; deployment ${deployment.id} is tried again`)
          }
        }
        if (once) break
        if (healthTemplate !== undefined && Date.now() >= nextHealthCheck && !stopping) {
          try {
            await checkSettledServices(client, health, desired, output)
          } catch (error) {
            output.error(`${describeError(error)}; the health check runs again in the next round`)
          }
          nextHealthCheck = Date.now() + healthIntervalMs
        }
        await sleep(intervalMs)
      }
    } finally {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
    }
    output.result(
      { scaleUnit, deployments: results },
      () =>
        `agent for ${scaleUnit}: ran ${results.length} deployment(s), ${results.filter((r) => !r.succeeded).length} failed, ${results.filter((r) => !r.healthy).length} unhealthy`,
    )
    if (unreported.size > 0) {
      // Stopped before the control plane came back: what ran is lost, so say what happens next.
      output.error(
        `stopped with the result of deployment ${[...unreported.keys()].join(', ')} not reported; it stays in progress, and the next agent for ${scaleUnit} runs it again`,
      )
      return ExitCode.failed
    }
    return once && anyFailed ? ExitCode.failed : ExitCode.success
  },
}

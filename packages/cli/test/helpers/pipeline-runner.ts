import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { parse } from 'yaml'
import { eventually, startCli } from './cli-process.js'
import type { ReleaseSetup } from './release-setup.js'

// Just enough of a CI runner to run the shell of deploy/pipelines/* as written: a fresh directory
// per job outside the repository (so no node_modules can be found), only the environment the CI
// system would give, and bash.

const repositoryRoot = new URL('../../../../', import.meta.url).pathname

/** A pipeline file of deploy/pipelines, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: the structure is what the tests assert.
export function readPipeline(file: string): { text: string; document: any } {
  const text = readFileSync(join(repositoryRoot, 'deploy/pipelines', file), 'utf8')
  return { text, document: parse(text) }
}

/** A job's working directory, like a fresh runner's: empty, outside the repository. */
export function jobWorkspace(t: Test, job: string): string {
  const dir = mkdtempSync(join(realpathSync(tmpdir()), `ringmaster-${job}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  if (realpathSync(dir).startsWith(realpathSync(repositoryRoot))) {
    throw new Error(`${dir} is inside the repository; set TMPDIR elsewhere`)
  }
  return dir
}

/** What a runner has on its PATH: Node.js (which setup-node/UseNode/the image provide), curl, sh. */
export function runnerPath(): string {
  return [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':')
}

export interface ScriptResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunningScript {
  process: ChildProcess
  done: Promise<ScriptResult>
}

/** Runs `script` with `bash <flags> -c`, in `cwd`, with exactly `env`; killed when the test ends. */
export function startScript(
  t: Test,
  script: string,
  { cwd, env, flags }: { cwd: string; env: Record<string, string>; flags: string[] },
): RunningScript {
  // tap adds its loaders to every child's NODE_OPTIONS; a CI runner has none, and they would load
  // the downloaded `ringmaster` (an ES module without a .mjs name) as CommonJS.
  const bash = ['bash', '--noprofile', '--norc', ...flags, '-c', script]
  const child = spawn('env', ['-u', 'NODE_OPTIONS', ...bash], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const done = once(child, 'close').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { process: child, done }
}

/** One `ringmaster agent` per scale unit, reporting every deployment done. */
export function startExecutors(t: Test, setup: ReleaseSetup): void {
  for (const unit of setup.scaleUnits) {
    startCli(
      t,
      [
        'agent',
        '--scale-unit',
        unit,
        '--exec',
        'echo deploying {service} {version}',
        '--interval',
        '300ms',
      ],
      setup.pipeline,
    )
  }
}

/**
 * Waits until the release asks for ring 0's approval while `waiting()` still says the pipeline's
 * wait step runs, then approves as the lead engineer (a person other than the pipeline).
 */
export async function approveRingZeroWhenAsked(
  t: Test,
  setup: ReleaseSetup,
  releaseId: number,
  waiting: () => boolean,
): Promise<void> {
  await eventually('the wait step to start', async () => waiting())
  await eventually('the release to ask for approval of ring-0', async () => {
    const release = await setup.server.call('GET', `/v1/releases/${releaseId}`)
    return release.blockedBy.some((block: { kind: string }) => block.kind === 'approval')
  })
  // Long enough for a wait that would wrongly end to have ended.
  await sleep(2_000)
  t.ok(waiting(), 'the wait step is still waiting while ring 0 needs an approval')
  const response = await fetch(
    `${setup.server.url}/v1/releases/${releaseId}/stages/ring-0/approvals`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${setup.lead.RINGMASTER_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ decision: 'approve', comment: 'approved while the pipeline waited' }),
    },
  )
  const answer = await response.text()
  t.equal(response.status, 201, response.status === 201 ? 'the lead approves ring 0' : answer)
}

/** The release's state and each ring's stage state, as the API has them. */
export async function releaseProgress(
  setup: ReleaseSetup,
  releaseId: number,
): Promise<{ state: string; stages: string[][] }> {
  const release = await setup.server.call('GET', `/v1/releases/${releaseId}`)
  return {
    state: release.state,
    stages: release.stages.map((stage: { ring: string; state: string }) => [
      stage.ring,
      stage.state,
    ]),
  }
}

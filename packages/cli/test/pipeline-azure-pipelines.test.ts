import t, { type Test } from 'tap'
import {
  approveRingZeroWhenAsked,
  jobWorkspace,
  readPipeline,
  releaseProgress,
  runnerPath,
  startExecutors,
  startScript,
} from './helpers/pipeline-runner.js'
import { type ReleaseSetup, setUpRelease } from './helpers/release-setup.js'

const { text, document: pipeline } = readPipeline('azure-pipelines.yml')

interface Step {
  bash?: string
  name?: string
  displayName?: string
  task?: string
  checkout?: string
  env?: Record<string, string>
}

interface Job {
  job: string
  displayName: string
  dependsOn?: string | string[]
  timeoutInMinutes: number
  variables?: Record<string, string>
  steps: Step[]
}

const jobs = pipeline.jobs as Job[]
const job = (name: string) => jobs.find((candidate) => candidate.job === name)!

t.test('the pipeline: three jobs, the approval wait on its own, the token a secret', async (t) => {
  t.same(
    jobs.map((candidate) => candidate.job),
    ['Release', 'RingZero', 'Rollout'],
  )
  t.equal(job('RingZero').displayName, 'Wait for ring-0 approval and deployment')
  t.equal(job('RingZero').dependsOn, 'Release')
  t.same(job('Rollout').dependsOn, ['Release', 'RingZero'])
  t.ok(job('RingZero').timeoutInMinutes >= 360, 'a person has hours to approve')
  t.same(pipeline.variables[0], { group: 'ringmaster' }, 'URL and token come from a variable group')
  for (const candidate of jobs) {
    t.match(candidate.steps[1], { task: /^UseNode@/ }, `${candidate.job} sets up Node.js`)
    t.match(
      candidate.steps[2]?.bash,
      /curl -fsSL "\$RINGMASTER_URL\/cli\/ringmaster\.mjs" -o ringmaster/,
      `${candidate.job} installs the CLI from the control plane`,
    )
    for (const step of candidate.steps.filter((step) =>
      step.bash?.includes('./ringmaster release'),
    )) {
      t.equal(step.env?.RINGMASTER_TOKEN, '$(RINGMASTER_TOKEN)', 'the secret is mapped explicitly')
    }
  }
  t.match(
    job('RingZero').steps.at(-1)?.bash,
    /release status "\$RELEASE_ID" --wait --until ring-0 /,
  )
  t.match(job('Rollout').steps.at(-1)?.bash, /release status "\$RELEASE_ID" --wait /)
  t.notMatch(text, /rm_[A-Za-z0-9]/, 'no token is written in the file')
  t.notMatch(text, /(echo|printf)[^\n]*RINGMASTER_TOKEN/, 'the token is never printed')
})

/**
 * Just enough of an Azure Pipelines agent: the variable group, the file's variables and the
 * predefined ones this pipeline uses; jobs run in order, each step's exit code ends the job.
 */
function azureAgent(t: Test, setup: ReleaseSetup, commit: string) {
  // The variable group, the file's own variables and the predefined ones this pipeline uses.
  const variables = new Map<string, { value: string; secret?: boolean }>([
    ['RINGMASTER_URL', { value: setup.server.url }],
    ['RINGMASTER_TOKEN', { value: setup.pipeline.RINGMASTER_TOKEN!, secret: true }],
    ['Build.BuildId', { value: '913' }],
    ['Build.SourceVersion', { value: commit }],
    ['System.CollectionUri', { value: 'https://dev.azure.com/acme/' }],
    ['System.TeamProject', { value: 'checkout' }],
  ])
  for (const entry of pipeline.variables.slice(1)) variables.set(entry.name, { value: entry.value })
  // Output variables of finished jobs: job → `step.variable` → value.
  const outputs = new Map<string, Map<string, string>>()
  const printed: string[] = []

  /** Runs a job's bash steps as the agent does: macros expanded, only non-secrets in the env. */
  const runJob = (name: string) => {
    const definition = job(name)
    const workspace = jobWorkspace(t, name)
    const jobVariables = new Map(variables)
    const dependsOn = [definition.dependsOn ?? []].flat()
    for (const [key, expression] of Object.entries(definition.variables ?? {})) {
      const match = /^\$\[\s*dependencies\.(\w+)\.outputs\['(\w+)\.(\w+)'\]\s*\]$/.exec(expression)
      if (!match || !dependsOn.includes(match[1]!)) throw new Error(`${name}: ${expression}`)
      const value = outputs.get(match[1]!)?.get(`${match[2]}.${match[3]}`)
      if (value === undefined) throw new Error(`${name}: no output for ${expression}`)
      jobVariables.set(key, { value })
    }
    const macro = (value: string) =>
      value.replace(/\$\(([\w.]+)\)/g, (_match, variable: string) => {
        const found = jobVariables.get(variable)
        if (!found) throw new Error(`${name}: no variable ${variable}`)
        return found.value
      })
    // Variables become environment variables (upper case, dots as underscores), secrets excepted.
    const automatic = Object.fromEntries(
      [...jobVariables]
        .filter(([, variable]) => !variable.secret)
        .map(([key, variable]) => [key.toUpperCase().replaceAll('.', '_'), variable.value]),
    )
    let running = false
    const done = (async () => {
      const produced = new Map<string, string>()
      for (const step of definition.steps) {
        if (step.bash === undefined) continue
        running = step.bash.includes('--wait')
        const result = await startScript(t, step.bash, {
          cwd: workspace,
          flags: [],
          env: {
            PATH: runnerPath(),
            ...automatic,
            ...Object.fromEntries(
              Object.entries(step.env ?? {}).map(([key, value]) => [key, macro(value)]),
            ),
          },
        }).done
        running = false
        printed.push(result.stdout, result.stderr)
        if (result.code !== 0) return { code: result.code, step: step.displayName }
        for (const [, variable, value] of result.stdout.matchAll(
          /^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$/gm,
        )) {
          produced.set(`${step.name}.${variable}`, value!)
        }
      }
      outputs.set(name, produced)
      return { code: 0, step: undefined }
    })()
    return { done, waiting: () => running }
  }

  return { runJob, outputs, printed }
}

t.test(
  'the pipeline runs: create, wait for ring 0 while a lead approves, follow to the end',
  async (t) => {
    const setup = await setUpRelease(t)
    startExecutors(t, setup)
    const commit = '4f2a9c1e5ab4f2a9c1e5ab4f2a9c1e5ab4f2a9c1'
    const { runJob, outputs, printed } = azureAgent(t, setup, commit)
    t.same(await runJob('Release').done, { code: 0, step: undefined })
    const releaseId = Number(outputs.get('Release')?.get('create.releaseId'))
    t.ok(releaseId > 0, `create.releaseId is the id (${releaseId})`)
    t.match(await setup.server.call('GET', `/v1/releases/${releaseId}`), {
      service: 'checkout',
      version: '1.0.913',
      commit,
      buildUrl: 'https://dev.azure.com/acme/checkout/_build/results?buildId=913',
      requester: 'checkout-ci',
    })

    const ringZero = runJob('RingZero')
    await approveRingZeroWhenAsked(t, setup, releaseId, ringZero.waiting)
    t.same(await ringZero.done, { code: 0, step: undefined })
    t.same(
      (await releaseProgress(setup, releaseId)).stages[0],
      ['ring-0', 'succeeded'],
      'the wait ends once ring 0 succeeded',
    )

    t.same(await runJob('Rollout').done, { code: 0, step: undefined })
    t.same(await releaseProgress(setup, releaseId), {
      state: 'succeeded',
      stages: [
        ['ring-0', 'succeeded'],
        ['ring-1', 'succeeded'],
      ],
    })
    const output = printed.join('\n')
    t.match(output, new RegExp(`created release ${releaseId}`))
    t.notMatch(output, setup.pipeline.RINGMASTER_TOKEN!, 'the token is never printed')
  },
)

t.test(
  'a halted release fails the ring-0 job with exit 3, and a re-run after resuming passes',
  async (t) => {
    const setup = await setUpRelease(t)
    const { runJob, outputs } = azureAgent(t, setup, 'a9c1e5ab4f2a9c1e5ab4f2a9c1e5ab4f2a9c1e5a')
    t.same(await runJob('Release').done, { code: 0, step: undefined })
    const releaseId = Number(outputs.get('Release')?.get('create.releaseId'))
    await setup.server.call('POST', `/v1/releases/${releaseId}/halt`, { reason: 'db alarms' })
    t.same(await runJob('RingZero').done, {
      code: 3,
      step: 'Wait for ring-0 approval and deployment',
    })

    await setup.server.call('POST', `/v1/releases/${releaseId}/resume`, {
      reason: 'alarms cleared',
    })
    startExecutors(t, setup)
    const again = runJob('RingZero')
    await approveRingZeroWhenAsked(t, setup, releaseId, again.waiting)
    t.same(await again.done, { code: 0, step: undefined }, 'the re-run job waits on and passes')
  },
)

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import {
  approveRingZeroWhenAsked,
  jobWorkspace,
  readPipeline,
  releaseProgress,
  runnerPath,
  startExecutors,
  startScript,
} from './helpers/pipeline-runner.js'
import { setUpRelease } from './helpers/release-setup.js'

const { text, document: workflow } = readPipeline('github-actions.yml')

/** A GitHub expression as written in the file. */
const expression = (text: string) => `\${{ ${text} }}`

interface Step {
  name?: string
  id?: string
  uses?: string
  run?: string
  env?: Record<string, string>
}

t.test('the workflow: three jobs, the approval wait on its own, secrets from GitHub', async (t) => {
  t.same(Object.keys(workflow.jobs), ['release', 'ring-0', 'rollout'])
  t.equal(workflow.jobs['ring-0'].name, 'Wait for ring-0 approval and deployment')
  t.same(workflow.jobs['ring-0'].needs, 'release')
  t.same(workflow.jobs.rollout.needs, ['release', 'ring-0'])
  t.ok(workflow.jobs['ring-0']['timeout-minutes'] >= 360, 'a person has hours to approve')
  t.notOk('RINGMASTER_TOKEN' in workflow.env, 'the token is not in every step, actions included')
  t.equal(workflow.env.RINGMASTER_URL, expression('vars.RINGMASTER_URL'))
  t.equal(workflow.jobs.release.outputs.id, expression('steps.create.outputs.id'))
  for (const [name, job] of Object.entries<{ steps: Step[] }>(workflow.jobs)) {
    t.match(job.steps[0], { uses: /^actions\/setup-node@/, with: { 'node-version': 20 } }, name)
    t.match(
      job.steps[1]?.run,
      /curl -fsSL "\$RINGMASTER_URL\/cli\/ringmaster\.mjs" -o ringmaster/,
      `${name} installs the CLI from the control plane`,
    )
  }
  for (const job of Object.values<{ steps: Step[] }>(workflow.jobs)) {
    for (const step of job.steps) {
      const token = step.env?.RINGMASTER_TOKEN
      if (step.run?.includes('./ringmaster release')) {
        t.equal(token, expression('secrets.RINGMASTER_TOKEN'), `${step.name} gets the secret`)
      } else t.equal(token, undefined, `${step.name ?? step.uses} does without the token`)
    }
  }
  const wait = workflow.jobs['ring-0'].steps.at(-1) as Step
  t.match(wait.run, /release status "\$RELEASE_ID" --wait --until ring-0 /)
  t.match((workflow.jobs.rollout.steps.at(-1) as Step).run, /release status "\$RELEASE_ID" --wait /)
  t.notMatch(text, /rm_[A-Za-z0-9]/, 'no token is written in the file')
  t.notMatch(text, /(echo|printf)[^\n]*RINGMASTER_TOKEN/, 'the token is never printed')
  t.notMatch(text, /set -x/)
})

t.test(
  'the workflow runs: create, wait for ring 0 while a lead approves, follow to the end',
  async (t) => {
    const setup = await setUpRelease(t)
    startExecutors(t, setup)
    const commit = '9c1e5ab4f2a9c1e5ab4f2a9c1e5ab4f2a9c1e5ab'
    const github: Record<string, string> = {
      'vars.RINGMASTER_URL': setup.server.url,
      'secrets.RINGMASTER_TOKEN': setup.pipeline.RINGMASTER_TOKEN!,
      'github.sha': commit,
      'github.run_number': '42',
      'github.run_id': '1234567',
      'github.server_url': 'https://github.com',
      'github.repository': 'acme/checkout',
    }
    const jobOutputs = new Map<string, Record<string, string>>()
    const printed: string[] = []

    // `${{ … }}` for the contexts these jobs use; anything else is a mistake in the file.
    const expand = (value: unknown, job: string, steps: Map<string, Record<string, string>>) =>
      String(value).replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_match, expression: string) => {
        const [context, name, field, key] = expression.split('.')
        if (context === 'steps' && field === 'outputs') {
          const value = steps.get(name!)?.[key!]
          if (value !== undefined) return value
        }
        if (context === 'needs' && field === 'outputs') {
          const needs = [workflow.jobs[job].needs].flat()
          const value = jobOutputs.get(name!)?.[key!]
          if (needs.includes(name) && value !== undefined) return value
        }
        const value = github[expression]
        if (value === undefined) throw new Error(`${job}: no value for \${{ ${expression} }}`)
        return value
      })
    const expandAll = (
      values: Record<string, unknown> | undefined,
      job: string,
      steps: Map<string, Record<string, string>>,
    ) =>
      Object.fromEntries(
        Object.entries(values ?? {}).map(([key, value]) => [key, expand(value, job, steps)]),
      )

    /** Runs a job's `run` steps as GitHub does (`bash -e`), passing step outputs via GITHUB_OUTPUT. */
    const runJob = (name: string) => {
      const job = workflow.jobs[name]
      const workspace = jobWorkspace(t, name)
      const steps = new Map<string, Record<string, string>>()
      let running = false
      const done = (async () => {
        for (const [index, step] of (job.steps as Step[]).entries()) {
          if (step.run === undefined) continue
          const outputFile = join(workspace, '..', `${name}-output-${index}`)
          writeFileSync(outputFile, '')
          running = step.run.includes('--wait')
          const result = await startScript(t, step.run, {
            cwd: workspace,
            flags: ['-e'],
            env: {
              PATH: runnerPath(),
              GITHUB_OUTPUT: outputFile,
              ...expandAll(workflow.env, name, steps),
              ...expandAll(job.env, name, steps),
              ...expandAll(step.env, name, steps),
            },
          }).done
          running = false
          printed.push(result.stdout, result.stderr)
          if (result.code !== 0) {
            throw new Error(`${name} / ${step.name}: exit ${result.code}\n${result.stderr}`)
          }
          if (step.id) {
            const lines = readFileSync(outputFile, 'utf8').split('\n').filter(Boolean)
            steps.set(step.id, Object.fromEntries(lines.map((line) => line.split(/=(.*)/s, 2))))
          }
        }
        jobOutputs.set(name, expandAll(job.outputs, name, steps))
      })()
      return { done, waiting: () => running }
    }

    await runJob('release').done
    const releaseId = Number(jobOutputs.get('release')?.id)
    t.ok(releaseId > 0, `the release job's output is the id (${releaseId})`)
    const created = await setup.server.call('GET', `/v1/releases/${releaseId}`)
    t.match(created, {
      service: 'checkout',
      version: '1.0.42',
      commit,
      buildUrl: 'https://github.com/acme/checkout/actions/runs/1234567',
      requester: 'checkout-ci',
    })

    const ringZero = runJob('ring-0')
    await approveRingZeroWhenAsked(t, setup, releaseId, ringZero.waiting)
    await ringZero.done
    const afterRingZero = await releaseProgress(setup, releaseId)
    t.same(afterRingZero.stages[0], ['ring-0', 'succeeded'], 'the wait ends once ring 0 succeeded')

    await runJob('rollout').done
    t.same(await releaseProgress(setup, releaseId), {
      state: 'succeeded',
      stages: [
        ['ring-0', 'succeeded'],
        ['ring-1', 'succeeded'],
      ],
    })
    const output = printed.join('\n')
    t.match(output, new RegExp(`created release ${releaseId}`))
    t.match(output, /ring-0 of release \d+ succeeded/)
    t.notMatch(output, setup.pipeline.RINGMASTER_TOKEN!, 'the token is never printed')
  },
)

import { existsSync, readFileSync } from 'node:fs'
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

const { text, document: pipeline } = readPipeline('gitlab-ci.yml')

interface Job {
  extends?: string
  stage: string
  needs?: string[]
  timeout?: string
  before_script?: string[]
  script: string[]
  artifacts?: { reports?: { dotenv?: string } }
}

/** A job with its `extends` template merged in, as GitLab does (one level is all this file uses). */
function job(name: string): Job {
  const own = pipeline[name] as Job
  return own.extends ? { ...pipeline[own.extends], ...own } : own
}

t.test(
  'the pipeline: three stages, the approval wait on its own, the token a CI/CD variable',
  async (t) => {
    t.same(pipeline.stages, ['release', 'ring-0', 'rollout'])
    t.same(job('ring-0-approval').needs, ['create-release'])
    t.same(job('rollout').needs, ['create-release', 'ring-0-approval'])
    t.equal(job('ring-0-approval').timeout, '6h', 'a person has hours to approve')
    t.equal(job('create-release').artifacts?.reports?.dotenv, 'release.env')
    for (const name of ['create-release', 'ring-0-approval', 'rollout']) {
      t.match(
        job(name).before_script?.[0],
        /curl -fsSL "\$RINGMASTER_URL\/cli\/ringmaster\.mjs" -o ringmaster/,
        `${name} installs the CLI from the control plane`,
      )
    }
    t.match(
      job('ring-0-approval').script.at(-1),
      /release status "\$RELEASE_ID" --wait --until ring-0 /,
    )
    t.match(job('rollout').script.at(-1), /release status "\$RELEASE_ID" --wait /)
    t.notOk('RINGMASTER_TOKEN' in pipeline.variables, 'the token is not a variable of the file')
    t.notMatch(text, /rm_[A-Za-z0-9]/, 'no token is written in the file')
    t.notMatch(text, /(echo|printf)[^\n]*RINGMASTER_TOKEN/, 'the token is never printed')
  },
)

t.test(
  'the pipeline runs: create, wait for ring 0 while a lead approves, follow to the end',
  async (t) => {
    const setup = await setUpRelease(t)
    startExecutors(t, setup)
    const commit = '1e5ab4f2a9c1e5ab4f2a9c1e5ab4f2a9c1e5ab4f'
    // Project CI/CD variables and the predefined ones the jobs use.
    const ci: Record<string, string> = {
      RINGMASTER_URL: setup.server.url,
      RINGMASTER_TOKEN: setup.pipeline.RINGMASTER_TOKEN!,
      CI_COMMIT_SHA: commit,
      CI_PIPELINE_IID: '57',
      CI_PIPELINE_URL: 'https://gitlab.example.com/acme/checkout/-/pipelines/8812',
      CI_COMMIT_BRANCH: 'main',
      CI_DEFAULT_BRANCH: 'main',
    }
    // Each finished job's dotenv report, handed to the jobs that need it.
    const dotenv = new Map<string, Record<string, string>>()
    const printed: string[] = []

    /** Runs before_script and script in one bash with errexit, as the runner does. */
    const runJob = (name: string) => {
      const definition = job(name)
      const workspace = jobWorkspace(t, name)
      const script = [...(definition.before_script ?? []), ...definition.script].join('\n')
      let running = false
      const done = (async () => {
        running = true
        const result = await startScript(t, script, {
          cwd: workspace,
          flags: ['-e', '-o', 'pipefail'],
          env: {
            PATH: runnerPath(),
            ...ci,
            ...pipeline.variables,
            ...Object.assign({}, ...(definition.needs ?? []).map((need) => dotenv.get(need))),
          },
        }).done
        running = false
        printed.push(result.stdout, result.stderr)
        if (result.code !== 0) throw new Error(`${name}: exit ${result.code}\n${result.stderr}`)
        const report = definition.artifacts?.reports?.dotenv
        if (report) {
          t.ok(existsSync(join(workspace, report)), `${name} writes ${report}`)
          const lines = readFileSync(join(workspace, report), 'utf8').split('\n').filter(Boolean)
          dotenv.set(name, Object.fromEntries(lines.map((line) => line.split(/=(.*)/s, 2))))
        }
      })()
      return { done, waiting: () => running && /ring-0/.test(name) }
    }

    await runJob('create-release').done
    const releaseId = Number(dotenv.get('create-release')?.RELEASE_ID)
    t.ok(releaseId > 0, `the dotenv report has RELEASE_ID (${releaseId})`)
    t.match(await setup.server.call('GET', `/v1/releases/${releaseId}`), {
      service: 'checkout',
      version: '1.0.57',
      commit,
      buildUrl: 'https://gitlab.example.com/acme/checkout/-/pipelines/8812',
      requester: 'checkout-ci',
    })

    const ringZero = runJob('ring-0-approval')
    await approveRingZeroWhenAsked(t, setup, releaseId, ringZero.waiting)
    await ringZero.done
    t.same(
      (await releaseProgress(setup, releaseId)).stages[0],
      ['ring-0', 'succeeded'],
      'the wait ends once ring 0 succeeded',
    )

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
    t.notMatch(output, setup.pipeline.RINGMASTER_TOKEN!, 'the token is never printed')
  },
)

import t from 'tap'
import { ConflictError, DomainError } from '../../src/errors.js'
import {
  activeReleaseStates,
  assertDeploymentTransition,
  assertReleaseTransition,
  assertStageTransition,
  canTransition,
  type DeploymentState,
  deploymentStates,
  deploymentTransitions,
  IllegalTransitionError,
  openDeploymentStates,
  type ReleaseState,
  releaseStates,
  releaseTransitions,
  ringHoldingStageStates,
  type StageState,
  stageStates,
  stageTransitions,
  terminalReleaseStates,
} from '../../src/release/release-states.js'

// Written out by hand, not derived from the tables: changing a table must fail this test.
const legalReleaseMoves: Record<ReleaseState, ReleaseState[]> = {
  queued: ['in_progress', 'halted', 'cancelled', 'superseded', 'failed'],
  in_progress: ['succeeded', 'failed', 'halted', 'rolled_back', 'cancelled'],
  halted: ['queued', 'in_progress', 'rolled_back', 'cancelled', 'failed'],
  succeeded: ['rolled_back'],
  failed: ['rolled_back'],
  rolled_back: [],
  cancelled: [],
  superseded: [],
}

const legalStageMoves: Record<StageState, StageState[]> = {
  pending: ['awaiting_approval', 'deploying', 'failed', 'rolled_back'],
  awaiting_approval: ['deploying', 'awaiting_promotion', 'succeeded', 'failed', 'rolled_back'],
  deploying: ['baking', 'failed', 'rolled_back'],
  baking: ['awaiting_approval', 'awaiting_promotion', 'succeeded', 'failed', 'rolled_back'],
  awaiting_promotion: ['succeeded', 'failed', 'rolled_back'],
  succeeded: ['rolled_back'],
  failed: ['rolled_back'],
  rolled_back: [],
}

const legalDeploymentMoves: Record<DeploymentState, DeploymentState[]> = {
  pending: ['in_progress', 'succeeded', 'failed', 'rolled_back'],
  in_progress: ['succeeded', 'failed', 'rolled_back'],
  succeeded: ['rolled_back'],
  failed: ['pending', 'rolled_back'],
  rolled_back: [],
}

interface Machine<S extends string> {
  name: string
  states: readonly S[]
  expectedStates: S[]
  table: Readonly<Record<S, readonly S[]>>
  legal: Record<S, S[]>
  assert(from: S, to: S): void
  code: string
  subject: string
}

const machines = [
  {
    name: 'release',
    states: releaseStates,
    expectedStates: [
      'queued',
      'in_progress',
      'succeeded',
      'failed',
      'halted',
      'rolled_back',
      'cancelled',
      'superseded',
    ],
    table: releaseTransitions,
    legal: legalReleaseMoves,
    assert: (from, to) => assertReleaseTransition(42, from, to),
    code: 'illegal-release-transition',
    subject: 'release 42',
  } satisfies Machine<ReleaseState>,
  {
    name: 'stage',
    states: stageStates,
    expectedStates: [
      'pending',
      'awaiting_approval',
      'deploying',
      'baking',
      'awaiting_promotion',
      'succeeded',
      'failed',
      'rolled_back',
    ],
    table: stageTransitions,
    legal: legalStageMoves,
    assert: (from, to) => assertStageTransition('ring-1', from, to),
    code: 'illegal-stage-transition',
    subject: 'the ring-1 stage',
  } satisfies Machine<StageState>,
  {
    name: 'deployment',
    states: deploymentStates,
    expectedStates: ['pending', 'in_progress', 'succeeded', 'failed', 'rolled_back'],
    table: deploymentTransitions,
    legal: legalDeploymentMoves,
    assert: (from, to) => assertDeploymentTransition(7, from, to),
    code: 'illegal-deployment-transition',
    subject: 'deployment 7',
  } satisfies Machine<DeploymentState>,
] as Machine<string>[]

for (const machine of machines) {
  t.test(`the ${machine.name} machine`, async (t) => {
    t.strictSame([...machine.states], machine.expectedStates, 'the states, in order')
    t.strictSame(
      Object.keys(machine.table).sort(),
      [...machine.states].sort(),
      'the table has a row for every state and nothing else',
    )

    let legalCount = 0
    for (const from of machine.states) {
      for (const to of machine.states) {
        const legal = machine.legal[from]!.includes(to)
        if (legal) legalCount += 1
        t.equal(canTransition(machine.table, from, to), legal, `canTransition ${from} → ${to}`)
        if (legal) {
          t.doesNotThrow(() => machine.assert(from, to), `${from} → ${to} is allowed`)
          continue
        }
        try {
          machine.assert(from, to)
          t.fail(`${from} → ${to} was allowed`)
        } catch (error) {
          t.type(error, IllegalTransitionError, `${from} → ${to}`)
          t.type(error, ConflictError, `${from} → ${to} is a conflict`)
          t.type(error, DomainError, `${from} → ${to} is a domain error`)
          const domainError = error as IllegalTransitionError
          t.equal(domainError.code, machine.code, `${from} → ${to} code`)
          t.equal(domainError.name, 'IllegalTransitionError', `${from} → ${to} name`)
          t.equal(
            domainError.message,
            `${machine.subject} is ${from} and cannot become ${to}`,
            `${from} → ${to} message names both states`,
          )
          t.match(domainError.details, { from, to }, `${from} → ${to} details`)
        }
      }
    }
    const expectedLegal = Object.values(machine.legal).reduce((sum, moves) => sum + moves.length, 0)
    t.equal(legalCount, expectedLegal, 'every listed move was checked')
  })
}

t.test('no state may stay where it is', async (t) => {
  for (const machine of machines) {
    for (const state of machine.states) {
      t.notOk(canTransition(machine.table, state, state), `${machine.name} ${state} → ${state}`)
    }
  }
})

t.test('errors carry the id or ring they are about', async (t) => {
  const cases: { name: string; apply: () => void; details: Record<string, unknown> }[] = [
    {
      name: 'release',
      apply: () => assertReleaseTransition(42, 'cancelled', 'queued'),
      details: { releaseId: 42, from: 'cancelled', to: 'queued' },
    },
    {
      name: 'stage',
      apply: () => assertStageTransition('ring-1', 'deploying', 'succeeded'),
      details: { ring: 'ring-1', from: 'deploying', to: 'succeeded' },
    },
    {
      name: 'deployment',
      apply: () => assertDeploymentTransition(7, 'succeeded', 'pending'),
      details: { deploymentId: 7, from: 'succeeded', to: 'pending' },
    },
  ]
  for (const { name, apply, details } of cases) {
    try {
      apply()
      t.fail(`${name} was allowed`)
    } catch (error) {
      t.strictSame((error as IllegalTransitionError).details, details, name)
    }
  }
})

t.test('terminal release states have no way out but succeeded/failed → rolled_back', async (t) => {
  t.strictSame([...terminalReleaseStates].sort(), [
    'cancelled',
    'failed',
    'rolled_back',
    'succeeded',
    'superseded',
  ])
  t.strictSame([...activeReleaseStates].sort(), ['halted', 'in_progress', 'queued'])
  t.strictSame(
    [...terminalReleaseStates, ...activeReleaseStates].sort(),
    [...releaseStates].sort(),
    'every release state is either active or terminal',
  )
  for (const from of terminalReleaseStates) {
    const exits = releaseStates.filter((to) => canTransition(releaseTransitions, from, to))
    const expected = from === 'succeeded' || from === 'failed' ? ['rolled_back'] : []
    t.strictSame(exits, expected, `${from} may only become ${expected.join(', ') || 'nothing'}`)
  }
  for (const from of activeReleaseStates) {
    t.ok(
      releaseStates.some((to) => canTransition(releaseTransitions, from, to)),
      `${from} has a way out`,
    )
  }
})

t.test('a halted release may resume into the state it left', async (t) => {
  t.ok(canTransition(releaseTransitions, 'halted', 'queued'))
  t.ok(canTransition(releaseTransitions, 'halted', 'in_progress'))
  t.notOk(canTransition(releaseTransitions, 'halted', 'succeeded'), 'but not skip to the end')
})

t.test('the state groups the engine relies on', async (t) => {
  t.strictSame(
    [...ringHoldingStageStates],
    ['awaiting_approval', 'deploying', 'baking', 'awaiting_promotion'],
  )
  t.strictSame([...openDeploymentStates], ['pending', 'in_progress'])
})

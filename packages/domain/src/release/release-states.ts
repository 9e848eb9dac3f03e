import { ConflictError } from '../errors.js'

export const releaseStates = [
  'queued',
  'in_progress',
  'succeeded',
  'failed',
  'halted',
  'rolled_back',
  'cancelled',
  'superseded',
] as const
export type ReleaseState = (typeof releaseStates)[number]

export const stageStates = [
  'pending',
  'awaiting_approval',
  'deploying',
  'baking',
  'awaiting_promotion',
  'succeeded',
  'failed',
  'rolled_back',
] as const
export type StageState = (typeof stageStates)[number]

export const deploymentStates = [
  'pending',
  'in_progress',
  'succeeded',
  'failed',
  'rolled_back',
] as const
export type DeploymentState = (typeof deploymentStates)[number]

/** A transition the state machine does not allow; the API answers 409. */
export class IllegalTransitionError extends ConflictError {}

type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>

/**
 * Every state change a release may make. A halted release resumes into the state it left
 * (queued when it never started a stage); terminal states have no way out.
 */
export const releaseTransitions: TransitionTable<ReleaseState> = {
  queued: ['in_progress', 'halted', 'cancelled', 'superseded', 'failed'],
  in_progress: ['succeeded', 'failed', 'halted', 'rolled_back', 'cancelled'],
  halted: ['queued', 'in_progress', 'rolled_back', 'cancelled', 'failed'],
  succeeded: ['rolled_back'],
  failed: ['rolled_back'],
  rolled_back: [],
  cancelled: [],
  superseded: [],
}

/**
 * A stage waits for its pre-approval, deploys wave by wave, bakes, then waits for a post-approval
 * or a manual promotion. A failed health gate or a rollback ends it.
 */
export const stageTransitions: TransitionTable<StageState> = {
  pending: ['awaiting_approval', 'deploying', 'failed', 'rolled_back'],
  awaiting_approval: ['deploying', 'awaiting_promotion', 'succeeded', 'failed', 'rolled_back'],
  deploying: ['baking', 'failed', 'rolled_back'],
  baking: ['awaiting_approval', 'awaiting_promotion', 'succeeded', 'failed', 'rolled_back'],
  awaiting_promotion: ['succeeded', 'failed', 'rolled_back'],
  succeeded: ['rolled_back'],
  failed: ['rolled_back'],
  rolled_back: [],
}

/** A failed deployment may be retried (back to pending); a succeeded one may be rolled back. */
export const deploymentTransitions: TransitionTable<DeploymentState> = {
  pending: ['in_progress', 'succeeded', 'failed', 'rolled_back'],
  in_progress: ['succeeded', 'failed', 'rolled_back'],
  succeeded: ['rolled_back'],
  failed: ['pending', 'rolled_back'],
  rolled_back: [],
}

export const activeReleaseStates: readonly ReleaseState[] = ['queued', 'in_progress', 'halted']
export const terminalReleaseStates: readonly ReleaseState[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
  'superseded',
]
/** A stage in one of these holds its ring: no other release of the service may enter it. */
export const ringHoldingStageStates: readonly StageState[] = [
  'awaiting_approval',
  'deploying',
  'baking',
  'awaiting_promotion',
]
export const openDeploymentStates: readonly DeploymentState[] = ['pending', 'in_progress']

export function canTransition<S extends string>(
  table: TransitionTable<S>,
  from: S,
  to: S,
): boolean {
  return table[from].includes(to)
}

export function assertReleaseTransition(id: number, from: ReleaseState, to: ReleaseState): void {
  if (!canTransition(releaseTransitions, from, to)) {
    throw new IllegalTransitionError(
      'illegal-release-transition',
      `release ${id} is ${from} and cannot become ${to}`,
      { releaseId: id, from, to },
    )
  }
}

export function assertStageTransition(ring: string, from: StageState, to: StageState): void {
  if (!canTransition(stageTransitions, from, to)) {
    throw new IllegalTransitionError(
      'illegal-stage-transition',
      `the ${ring} stage is ${from} and cannot become ${to}`,
      { ring, from, to },
    )
  }
}

export function assertDeploymentTransition(
  id: number,
  from: DeploymentState,
  to: DeploymentState,
): void {
  if (!canTransition(deploymentTransitions, from, to)) {
    throw new IllegalTransitionError(
      'illegal-deployment-transition',
      `deployment ${id} is ${from} and cannot become ${to}`,
      { deploymentId: id, from, to },
    )
  }
}

import type { CommandContext } from '../actor.js'
import { type Clock, systemClock } from '../clock.js'
import { audit, executeCommand } from '../command.js'
import { discardEffects, type EffectOutlet, type Effects } from '../effect.js'
import { InvalidInputError, NotFoundError } from '../errors.js'
import type { Store, StoreTransaction } from '../store.js'
import { liftedHaltSpans, recordSpans } from '../trace/rollout-trace.js'
import { assertWeeklySchedule, freezeActiveUntil } from './freeze-window.js'
import type { FreezeWindow, Halt, HaltScope, WeeklySchedule } from './release.js'

export interface CreateHaltInput {
  scope: HaltScope
  target?: string | undefined
  reason: string
}

export interface CreateFreezeWindowInput {
  name: string
  scope: HaltScope
  target?: string | undefined
  startsAt?: string | undefined
  endsAt?: string | undefined
  schedule?: WeeklySchedule | undefined
  reason: string
}

export interface FreezeWindowView extends FreezeWindow {
  /** When the window is in force now, the moment it ends. */
  activeUntil: string | null
}

/** Halts (stop the line now) and freeze windows (no promotions during a planned period). */
export class StopTheLineService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
    private readonly afterCommit: EffectOutlet = discardEffects,
  ) {}

  /** One command whose recorded effects reach `afterCommit` once it commits. */
  private command<T>(
    context: CommandContext,
    work: (tx: StoreTransaction, effects: Effects) => Promise<T>,
  ): Promise<T> {
    return executeCommand(this.store, context, work, { afterCommit: this.afterCommit })
  }

  async createHalt(context: CommandContext, input: CreateHaltInput): Promise<Halt> {
    return this.command(context, (tx) =>
      openHalt(tx, context, input, this.clock.now().toISOString()),
    )
  }

  async liftHalt(context: CommandContext, id: number): Promise<Halt> {
    return this.command(context, async (tx, effects) => {
      const halt = await tx.halts.findById(id, { forUpdate: true })
      if (!halt) throw new NotFoundError('halt-not-found', `no halt with id ${id}`)
      if (halt.liftedAt !== null) return halt
      const lifted = await tx.halts.lift(id, context.actor.subject, this.clock.now().toISOString())
      await recordSpans(tx, await liftedHaltSpans(tx, lifted))
      await audit(tx, context, 'halt.lifted', `halt:${id}`, {
        scope: halt.scope,
        target: halt.target,
        reason: halt.reason,
      })
      const waiting = await makeActiveReleasesDue(tx)
      effects.record({ kind: 'releases-changed', releaseIds: waiting })
      return lifted
    })
  }

  listHalts(options: {
    active?: boolean | undefined
    limit?: number | undefined
  }): Promise<Halt[]> {
    return options.active
      ? this.store.read.halts.listActive()
      : this.store.read.halts.list(Math.min(options.limit ?? 100, 500))
  }

  async createFreezeWindow(
    context: CommandContext,
    input: CreateFreezeWindowInput,
  ): Promise<FreezeWindowView> {
    const hasRange = input.startsAt !== undefined || input.endsAt !== undefined
    if (hasRange === (input.schedule !== undefined)) {
      throw new InvalidInputError(
        'invalid-freeze-window',
        'give either startsAt and endsAt (one period) or schedule (every week), not both and not neither',
      )
    }
    if (hasRange) {
      if (input.startsAt === undefined || input.endsAt === undefined) {
        throw new InvalidInputError(
          'invalid-freeze-window',
          'a one-off freeze window needs both startsAt and endsAt',
        )
      }
      if (Date.parse(input.endsAt) <= Date.parse(input.startsAt)) {
        throw new InvalidInputError('invalid-freeze-window', 'endsAt must be after startsAt')
      }
    }
    if (input.schedule) assertWeeklySchedule(input.schedule)
    const window = await this.command(context, async (tx) => {
      const target = await resolveTarget(tx, input.scope, input.target)
      const window = await tx.freezeWindows.insert({
        name: input.name,
        scope: input.scope,
        target,
        startsAt: input.startsAt === undefined ? null : new Date(input.startsAt).toISOString(),
        endsAt: input.endsAt === undefined ? null : new Date(input.endsAt).toISOString(),
        schedule: input.schedule ?? null,
        reason: input.reason,
        createdBy: context.actor.subject,
      })
      await audit(tx, context, 'freeze-window.created', `freeze-window:${window.id}`, {
        after: window,
      })
      return window
    })
    return this.viewOf(window)
  }

  async listFreezeWindows(): Promise<FreezeWindowView[]> {
    return (await this.store.read.freezeWindows.list()).map((window) => this.viewOf(window))
  }

  async deleteFreezeWindow(context: CommandContext, id: number): Promise<void> {
    await this.command(context, async (tx, effects) => {
      const window = await tx.freezeWindows.findById(id)
      if (!window)
        throw new NotFoundError('freeze-window-not-found', `no freeze window with id ${id}`)
      await tx.freezeWindows.delete(id)
      await audit(tx, context, 'freeze-window.deleted', `freeze-window:${id}`, { before: window })
      const waiting = await makeActiveReleasesDue(tx)
      effects.record({ kind: 'releases-changed', releaseIds: waiting })
    })
  }

  private viewOf(window: FreezeWindow): FreezeWindowView {
    const until = freezeActiveUntil(window, this.clock.now())
    return { ...window, activeUntil: until === null ? null : until.toISOString() }
  }
}

/** Stops the line inside the caller's transaction (a halt of its own, or one an incident opens). */
export async function openHalt(
  tx: StoreTransaction,
  context: CommandContext,
  input: CreateHaltInput,
  at?: string,
): Promise<Halt> {
  const target = await resolveTarget(tx, input.scope, input.target)
  // Exclusive: waits for waves being started right now, and no wave starts until this commits.
  await tx.halts.lockLine('exclusive')
  const halt = await tx.halts.insert({
    scope: input.scope,
    target,
    reason: input.reason,
    createdBy: context.actor.subject,
    createdAt: at,
  })
  await audit(tx, context, 'halt.created', `halt:${halt.id}`, {
    scope: halt.scope,
    target,
    reason: halt.reason,
  })
  return halt
}

/**
 * Whatever a lifted halt or a deleted freeze held back may go on now: the engine looks at every
 * release in progress at once (on this replica through the kick, on the others at their next tick)
 * instead of at its next safety recheck.
 */
async function makeActiveReleasesDue(tx: StoreTransaction): Promise<number[]> {
  const active = await tx.releases.list({ states: ['queued', 'in_progress'], limit: 10_000 })
  for (const release of active) await tx.releases.update(release.id, { nextCheckAt: null })
  return active.map((release) => release.id)
}

async function resolveTarget(
  tx: StoreTransaction,
  scope: HaltScope,
  target: string | undefined,
): Promise<string | null> {
  if (scope === 'global') {
    if (target !== undefined) {
      throw new InvalidInputError('invalid-scope-target', 'a global scope takes no target')
    }
    return null
  }
  if (target === undefined) {
    throw new InvalidInputError(
      'invalid-scope-target',
      `scope ${scope} needs a target: the ${scope} name`,
    )
  }
  const exists =
    scope === 'service' ? await tx.services.findByName(target) : await tx.rings.findByName(target)
  if (!exists) {
    throw new InvalidInputError('invalid-scope-target', `${scope} '${target}' does not exist`)
  }
  return target
}

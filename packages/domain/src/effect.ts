/**
 * What a committed change means for the rest of this process: work a worker should do now
 * instead of at its next timer. A command records effects while its transaction runs; they reach
 * the outlet only once the transaction commits, so a rollback leaves nothing to undo.
 */
export type Effect =
  /** These releases may be able to move; [] means any of them may (a halt was lifted). */
  | { kind: 'releases-changed'; releaseIds: number[] }
  /** Caches of authenticated tokens must stop trusting this one. */
  | { kind: 'token-revoked'; tokenId: string }
  /** The flag answers of these rings changed (their revisions were bumped). */
  | { kind: 'flags-changed'; rings: string[] }

export type EffectKind = Effect['kind']

/** Every kind, so the app can refuse to start while one has nobody to hear it. */
export const effectKinds: readonly EffectKind[] = [
  'releases-changed',
  'token-revoked',
  'flags-changed',
]

/** What a command's work is given to record its effects. */
export interface Effects {
  record(effect: Effect): void
}

/** Where committed effects go; the app implements it and hands them to subscribed workers. */
export interface EffectOutlet {
  /** Awaited before the command answers, so this replica has caught up when the client reads. */
  dispatch(effects: readonly Effect[]): Promise<void> | void
}

/** For code that runs commands without workers (a one-off CLI, store tests). */
export const discardEffects: EffectOutlet = { dispatch: () => {} }

/** The effects of one transaction attempt; a retried attempt starts a new collector. */
export class EffectCollector implements Effects {
  private recorded: Effect[] = []

  record(effect: Effect): void {
    this.recorded.push(effect)
  }

  /** The effects recorded so far, in order; the collector is empty afterwards. */
  drain(): Effect[] {
    const drained = this.recorded
    this.recorded = []
    return drained
  }
}

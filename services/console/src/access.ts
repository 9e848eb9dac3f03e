/**
 * What a role may do, as the control plane's routes declare it (`config.access`). The console
 * only hides what the role cannot do; the server refuses it anyway.
 */
export type ConsoleAction =
  | 'approve'
  | 'promote'
  | 'stop-the-line'
  | 'lift-halt'
  | 'resume'
  | 'rollback'
  | 'cancel'
  | 'retry-deployment'
  | 'toggle-flag'
  | 'declare-incident'
  | 'respond-to-incident'

const allowed: Record<ConsoleAction, readonly string[]> = {
  approve: ['approver', 'admin'],
  promote: ['approver', 'admin'],
  'stop-the-line': ['admin', 'approver', 'sre', 'viewer'],
  'lift-halt': ['sre', 'admin'],
  resume: ['sre', 'admin'],
  rollback: ['sre', 'admin'],
  cancel: ['pipeline', 'sre', 'admin'],
  'retry-deployment': ['sre', 'admin'],
  'toggle-flag': ['admin'],
  'declare-incident': ['admin', 'approver', 'sre', 'viewer'],
  'respond-to-incident': ['admin', 'approver', 'sre'],
}

export function may(role: string, action: ConsoleAction): boolean {
  return allowed[action].includes(role)
}

export const roles = ['admin', 'approver', 'pipeline', 'sre', 'viewer'] as const

export type Role = (typeof roles)[number]

/** Roles given to people (as opposed to pipelines and executors). */
export const humanRoles: readonly Role[] = ['admin', 'approver', 'sre', 'viewer']

export const anyRole: readonly Role[] = roles

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value)
}

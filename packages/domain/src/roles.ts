/** Roles of the control-plane API: people, pipelines and executors. */
export const controlPlaneRoles = ['admin', 'approver', 'pipeline', 'sre', 'viewer'] as const

/**
 * Roles of feature-flag SDKs: `client` for server-side SDKs (the Unleash client API), `frontend`
 * for browser SDKs. Their tokens are bound to one ring and reach nothing else.
 */
export const sdkRoles = ['client', 'frontend'] as const

export const roles = [...controlPlaneRoles, ...sdkRoles] as const

export type Role = (typeof roles)[number]
export type SdkRole = (typeof sdkRoles)[number]

/** Roles given to people (as opposed to pipelines and executors). */
export const humanRoles: readonly Role[] = ['admin', 'approver', 'sre', 'viewer']

/**
 * Who may change an incident once declared (edit, mitigate, resolve). Any person may declare one,
 * as anyone may stop the line; but its times are MTTR and availability, so a viewer may not move them.
 */
export const incidentResponderRoles: readonly Role[] = ['admin', 'approver', 'sre']

/** Every control-plane role; SDK tokens are never included. */
export const anyRole: readonly Role[] = controlPlaneRoles

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value)
}

export function isSdkRole(role: Role): role is SdkRole {
  return (sdkRoles as readonly string[]).includes(role)
}

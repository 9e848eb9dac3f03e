import type { UnleashContext } from './client-features.js'

/** A context field as a string: top-level field first, then `properties`; null counts as absent. */
export const contextValue = (context: UnleashContext, field: string): string | undefined => {
  const value =
    context[field] ?? (context.properties as Record<string, unknown> | undefined | null)?.[field]
  return value !== undefined && value !== null ? String(value) : undefined
}

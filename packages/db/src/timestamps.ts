// Dates cross the repository interfaces as ISO strings and live in the database as timestamptz.

export const iso = (value: Date): string => value.toISOString()

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : iso(value))

export const dateOrNull = (value: string | null): Date | null =>
  value === null ? null : new Date(value)

/** For a partial change: undefined stays undefined (not changed), null clears. */
export const dateChange = (value: string | null | undefined): Date | null | undefined =>
  value === undefined ? undefined : dateOrNull(value)

/** "3 min", "2 h 5 min", "4 d 2 h": how long, in words a person reads at a glance. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000))
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s`
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

export function since(iso: string, now = Date.now()): string {
  return formatDuration(now - Date.parse(iso))
}

export function until(iso: string, now = Date.now()): string {
  return formatDuration(Date.parse(iso) - now)
}

/** "expires in 3 h 12 min (…)": when the system rejects an approval wait nobody answered. */
export function describeExpiry(expiresAt: string | null, now = Date.now()): string {
  if (expiresAt === null) return 'never: the ring sets no approval timeout'
  if (Date.parse(expiresAt) <= now) return `expired ${formatTime(expiresAt)}`
  return `expires in ${until(expiresAt, now)} (${formatTime(expiresAt)})`
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** A problem's detail (what to fix), or the error's message. */
export function describeError(error: unknown): string {
  if (error && typeof error === 'object' && 'detail' in error && typeof error.detail === 'string') {
    return error.detail
  }
  return error instanceof Error ? error.message : String(error)
}

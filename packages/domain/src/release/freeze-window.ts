import { InvalidInputError } from '../errors.js'
import type { FreezeWindow, Halt, HaltScope, WeeklySchedule } from './release.js'

const minuteMs = 60 * 1000
const dayMs = 24 * 60 * minuteMs
const latestDate = 8.64e15
const timeOfDay = /^([01]\d|2[0-3]):([0-5]\d)$/

/** Whether a halt or freeze with this scope covers a release of `service` entering `ring`. */
export function scopeCovers(
  scoped: { scope: HaltScope; target: string | null },
  where: { service: string; ring: string },
): boolean {
  if (scoped.scope === 'global') return true
  if (scoped.scope === 'service') return scoped.target === where.service
  return scoped.target === where.ring
}

export function haltsCovering(
  halts: readonly Halt[],
  where: { service: string; ring: string },
): Halt[] {
  return halts.filter((halt) => halt.liftedAt === null && scopeCovers(halt, where))
}

/** When the window is in force at `now`, the moment it ends; otherwise null. */
export function freezeActiveUntil(window: FreezeWindow, now: Date): Date | null {
  const at = now.getTime()
  if (window.schedule === null) {
    const starts = window.startsAt === null ? Number.NEGATIVE_INFINITY : Date.parse(window.startsAt)
    // Without an end the window holds until it is deleted: the latest time a Date can carry.
    const ends = window.endsAt === null ? latestDate : Date.parse(window.endsAt)
    return starts <= at && at < ends ? new Date(ends) : null
  }
  const { daysOfWeek, start, durationMinutes } = window.schedule
  const [hours, minutes] = start.split(':').map(Number) as [number, number]
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  let until: number | null = null
  // An occurrence may have started up to a week ago (a window can last up to 7 days).
  for (let daysBack = 0; daysBack <= 7; daysBack += 1) {
    const day = today - daysBack * dayMs
    if (!daysOfWeek.includes(new Date(day).getUTCDay())) continue
    const begins = day + (hours * 60 + minutes) * minuteMs
    const ends = begins + durationMinutes * minuteMs
    if (begins <= at && at < ends) until = Math.max(until ?? 0, ends)
  }
  return until === null ? null : new Date(until)
}

export function assertWeeklySchedule(schedule: WeeklySchedule): void {
  if (!timeOfDay.test(schedule.start)) {
    throw new InvalidInputError(
      'invalid-freeze-window',
      'schedule.start must be HH:MM in UTC, e.g. 18:00',
    )
  }
  if (schedule.daysOfWeek.length === 0) {
    throw new InvalidInputError(
      'invalid-freeze-window',
      'schedule.daysOfWeek needs at least one day (0 = Sunday)',
    )
  }
  if (schedule.daysOfWeek.some((day) => !Number.isInteger(day) || day < 0 || day > 6)) {
    throw new InvalidInputError(
      'invalid-freeze-window',
      'schedule.daysOfWeek holds days 0 (Sunday) to 6 (Saturday)',
    )
  }
  if (schedule.durationMinutes < 1 || schedule.durationMinutes > 7 * 24 * 60) {
    throw new InvalidInputError(
      'invalid-freeze-window',
      'schedule.durationMinutes must be between 1 and 10080 (one week)',
    )
  }
}

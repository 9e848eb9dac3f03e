import t from 'tap'
import { InvalidInputError } from '../../src/errors.js'
import {
  assertWeeklySchedule,
  freezeActiveUntil,
  haltsCovering,
  scopeCovers,
} from '../../src/release/freeze-window.js'
import type { FreezeWindow, Halt, HaltScope, WeeklySchedule } from '../../src/release/release.js'

// 2025-03-10 is a Monday.
const monday = '2025-03-10'

t.test('scopeCovers', async (t) => {
  const cases: {
    name: string
    scope: HaltScope
    target: string | null
    service: string
    ring: string
    covers: boolean
  }[] = [
    {
      name: 'global covers any release',
      scope: 'global',
      target: null,
      service: 'payments',
      ring: 'ring-0',
      covers: true,
    },
    {
      name: 'global covers another ring',
      scope: 'global',
      target: null,
      service: 'search',
      ring: 'ring-3',
      covers: true,
    },
    {
      name: 'its service, any ring',
      scope: 'service',
      target: 'payments',
      service: 'payments',
      ring: 'ring-2',
      covers: true,
    },
    {
      name: 'another service',
      scope: 'service',
      target: 'payments',
      service: 'search',
      ring: 'ring-2',
      covers: false,
    },
    {
      name: 'a service scope does not match a ring name',
      scope: 'service',
      target: 'ring-1',
      service: 'payments',
      ring: 'ring-1',
      covers: false,
    },
    {
      name: 'a service scope without a target',
      scope: 'service',
      target: null,
      service: 'payments',
      ring: 'ring-1',
      covers: false,
    },
    {
      name: 'its ring, any service',
      scope: 'ring',
      target: 'ring-1',
      service: 'search',
      ring: 'ring-1',
      covers: true,
    },
    {
      name: 'another ring',
      scope: 'ring',
      target: 'ring-1',
      service: 'payments',
      ring: 'ring-2',
      covers: false,
    },
    {
      name: 'a ring scope does not match a service name',
      scope: 'ring',
      target: 'payments',
      service: 'payments',
      ring: 'ring-1',
      covers: false,
    },
    {
      name: 'names match exactly',
      scope: 'service',
      target: 'Payments',
      service: 'payments',
      ring: 'ring-1',
      covers: false,
    },
  ]
  for (const { name, scope, target, service, ring, covers } of cases) {
    t.equal(scopeCovers({ scope, target }, { service, ring }), covers, name)
  }
})

let nextHaltId = 1
function halt(scope: HaltScope, target: string | null, lifted = false): Halt {
  return {
    id: nextHaltId++,
    scope,
    target,
    reason: 'db alarms',
    createdBy: 'jane',
    createdAt: `${monday}T08:00:00.000Z`,
    liftedBy: lifted ? 'joe' : null,
    liftedAt: lifted ? `${monday}T09:00:00.000Z` : null,
    incidentId: null,
  }
}

t.test('haltsCovering keeps the active halts that cover the release, in order', async (t) => {
  const globalActive = halt('global', null)
  const globalLifted = halt('global', null, true)
  const payments = halt('service', 'payments')
  const paymentsLifted = halt('service', 'payments', true)
  const search = halt('service', 'search')
  const ring1 = halt('ring', 'ring-1')
  const ring1Lifted = halt('ring', 'ring-1', true)
  const ring2 = halt('ring', 'ring-2')
  const all = [
    globalActive,
    globalLifted,
    payments,
    paymentsLifted,
    search,
    ring1,
    ring1Lifted,
    ring2,
  ]
  const cases: { name: string; halts: Halt[]; service: string; ring: string; expected: Halt[] }[] =
    [
      { name: 'no halts', halts: [], service: 'payments', ring: 'ring-1', expected: [] },
      {
        name: 'payments entering ring-1',
        halts: all,
        service: 'payments',
        ring: 'ring-1',
        expected: [globalActive, payments, ring1],
      },
      {
        name: 'search entering ring-2',
        halts: all,
        service: 'search',
        ring: 'ring-2',
        expected: [globalActive, search, ring2],
      },
      {
        name: 'billing entering ring-0: only the global one',
        halts: all,
        service: 'billing',
        ring: 'ring-0',
        expected: [globalActive],
      },
      {
        name: 'lifted halts never cover',
        halts: [globalLifted, paymentsLifted, ring1Lifted],
        service: 'payments',
        ring: 'ring-1',
        expected: [],
      },
    ]
  for (const { name, halts, service, ring, expected } of cases) {
    t.strictSame(haltsCovering(halts, { service, ring }), expected, name)
  }
})

function window(fields: Pick<FreezeWindow, 'startsAt' | 'endsAt' | 'schedule'>): FreezeWindow {
  return {
    id: 1,
    name: 'quarter end',
    scope: 'global',
    target: null,
    reason: 'finance close',
    createdBy: 'jane',
    createdAt: '2025-01-01T00:00:00.000Z',
    ...fields,
  }
}

t.test('freezeActiveUntil for a one-off window', async (t) => {
  const oneOff = window({
    startsAt: `${monday}T10:00:00.000Z`,
    endsAt: `${monday}T14:00:00.000Z`,
    schedule: null,
  })
  const noStart = window({ startsAt: null, endsAt: `${monday}T14:00:00.000Z`, schedule: null })
  const end = `${monday}T14:00:00.000Z`
  const cases: { name: string; window: FreezeWindow; now: string; until: string | null }[] = [
    { name: 'the day before', window: oneOff, now: '2025-03-09T12:00:00.000Z', until: null },
    {
      name: 'a moment before the start',
      window: oneOff,
      now: `${monday}T09:59:59.999Z`,
      until: null,
    },
    { name: 'at the start', window: oneOff, now: `${monday}T10:00:00.000Z`, until: end },
    { name: 'inside', window: oneOff, now: `${monday}T12:34:00.000Z`, until: end },
    { name: 'a moment before the end', window: oneOff, now: `${monday}T13:59:59.999Z`, until: end },
    { name: 'at the end', window: oneOff, now: `${monday}T14:00:00.000Z`, until: null },
    { name: 'after', window: oneOff, now: '2025-03-11T00:00:00.000Z', until: null },
    {
      name: 'no start: long before the end',
      window: noStart,
      now: '2020-01-01T00:00:00.000Z',
      until: end,
    },
    { name: 'no start: at the end', window: noStart, now: end, until: null },
  ]
  for (const c of cases) {
    t.equal(freezeActiveUntil(c.window, new Date(c.now))?.toISOString() ?? null, c.until, c.name)
  }
})

t.test('freezeActiveUntil for a weekly schedule', async (t) => {
  const weekly = (schedule: WeeklySchedule) => window({ startsAt: null, endsAt: null, schedule })
  const mornings = weekly({ daysOfWeek: [1, 3], start: '09:00', durationMinutes: 120 })
  const fridayNight = weekly({ daysOfWeek: [5], start: '22:00', durationMinutes: 240 })
  const weekend = weekly({ daysOfWeek: [5], start: '18:00', durationMinutes: 60 * 60 })
  const wholeWeekFromMidnight = weekly({
    daysOfWeek: [1],
    start: '00:00',
    durationMinutes: 7 * 24 * 60,
  })
  const wholeWeekFromTen = weekly({ daysOfWeek: [1], start: '10:00', durationMinutes: 7 * 24 * 60 })
  const overlapping = weekly({
    daysOfWeek: [0, 1, 2, 3, 4, 5, 6],
    start: '20:00',
    durationMinutes: 25 * 60,
  })
  const sundays = weekly({ daysOfWeek: [0], start: '10:00', durationMinutes: 60 })
  const cases: { name: string; window: FreezeWindow; now: string; until: string | null }[] = [
    {
      name: 'inside on a listed Monday',
      window: mornings,
      now: `${monday}T10:00:00.000Z`,
      until: `${monday}T11:00:00.000Z`,
    },
    {
      name: 'at the start on a listed day',
      window: mornings,
      now: `${monday}T09:00:00.000Z`,
      until: `${monday}T11:00:00.000Z`,
    },
    {
      name: 'inside on a listed Wednesday',
      window: mornings,
      now: '2025-03-12T09:30:00.000Z',
      until: '2025-03-12T11:00:00.000Z',
    },
    {
      name: 'before the start on a listed day',
      window: mornings,
      now: `${monday}T08:59:59.999Z`,
      until: null,
    },
    {
      name: 'at the end on a listed day',
      window: mornings,
      now: `${monday}T11:00:00.000Z`,
      until: null,
    },
    {
      name: 'the same hour on a day not listed',
      window: mornings,
      now: '2025-03-11T10:00:00.000Z',
      until: null,
    },
    {
      name: 'Friday night, before midnight',
      window: fridayNight,
      now: '2025-03-14T23:00:00.000Z',
      until: '2025-03-15T02:00:00.000Z',
    },
    {
      name: 'Friday night, on Saturday after midnight',
      window: fridayNight,
      now: '2025-03-15T01:00:00.000Z',
      until: '2025-03-15T02:00:00.000Z',
    },
    {
      name: 'Friday night, ended on Saturday',
      window: fridayNight,
      now: '2025-03-15T02:00:00.000Z',
      until: null,
    },
    {
      name: 'Friday night, a Saturday evening is not listed',
      window: fridayNight,
      now: '2025-03-15T23:00:00.000Z',
      until: null,
    },
    {
      name: 'a weekend freeze, on Sunday',
      window: weekend,
      now: '2025-03-16T12:00:00.000Z',
      until: '2025-03-17T06:00:00.000Z',
    },
    {
      name: 'a weekend freeze, Monday before it lifts',
      window: weekend,
      now: '2025-03-17T05:59:00.000Z',
      until: '2025-03-17T06:00:00.000Z',
    },
    {
      name: 'a weekend freeze, lifted Monday morning',
      window: weekend,
      now: '2025-03-17T06:00:00.000Z',
      until: null,
    },
    {
      name: 'a weekend freeze, Friday before it starts',
      window: weekend,
      now: '2025-03-14T17:59:00.000Z',
      until: null,
    },
    {
      name: 'a 7-day window, at its weekly start',
      window: wholeWeekFromMidnight,
      now: `${monday}T00:00:00.000Z`,
      until: '2025-03-17T00:00:00.000Z',
    },
    {
      name: 'a 7-day window, midweek',
      window: wholeWeekFromMidnight,
      now: '2025-03-12T15:00:00.000Z',
      until: '2025-03-17T00:00:00.000Z',
    },
    {
      name: 'a 7-day window, the last minute',
      window: wholeWeekFromMidnight,
      now: '2025-03-16T23:59:00.000Z',
      until: '2025-03-17T00:00:00.000Z',
    },
    {
      name: 'a 7-day window started a week ago today',
      window: wholeWeekFromTen,
      now: `${monday}T09:00:00.000Z`,
      until: `${monday}T10:00:00.000Z`,
    },
    {
      name: 'a 7-day window, the next one starts',
      window: wholeWeekFromTen,
      now: `${monday}T10:00:00.000Z`,
      until: '2025-03-17T10:00:00.000Z',
    },
    {
      name: 'overlapping occurrences: the later end wins',
      window: overlapping,
      now: '2025-03-11T20:30:00.000Z',
      until: '2025-03-12T21:00:00.000Z',
    },
    {
      name: 'overlapping occurrences: only yesterday’s',
      window: overlapping,
      now: '2025-03-11T19:00:00.000Z',
      until: '2025-03-11T21:00:00.000Z',
    },
    {
      name: 'a listed day the day before, not reaching today',
      window: sundays,
      now: `${monday}T10:30:00.000Z`,
      until: null,
    },
  ]
  for (const c of cases) {
    t.equal(freezeActiveUntil(c.window, new Date(c.now))?.toISOString() ?? null, c.until, c.name)
  }
})

t.test('assertWeeklySchedule', async (t) => {
  const valid: WeeklySchedule = { daysOfWeek: [1], start: '18:00', durationMinutes: 60 }
  const startMessage = 'schedule.start must be HH:MM in UTC, e.g. 18:00'
  const daysMessage = 'schedule.daysOfWeek needs at least one day (0 = Sunday)'
  const durationMessage = 'schedule.durationMinutes must be between 1 and 10080 (one week)'
  const refused: { name: string; schedule: WeeklySchedule; message: string }[] = [
    { name: 'an hour of 24', schedule: { ...valid, start: '24:00' }, message: startMessage },
    { name: 'a single-digit hour', schedule: { ...valid, start: '9:00' }, message: startMessage },
    { name: 'minute 60', schedule: { ...valid, start: '18:60' }, message: startMessage },
    { name: 'seconds', schedule: { ...valid, start: '18:00:00' }, message: startMessage },
    { name: 'an empty start', schedule: { ...valid, start: '' }, message: startMessage },
    { name: 'a 12-hour time', schedule: { ...valid, start: '6:00pm' }, message: startMessage },
    { name: 'no days', schedule: { ...valid, daysOfWeek: [] }, message: daysMessage },
    { name: 'no duration', schedule: { ...valid, durationMinutes: 0 }, message: durationMessage },
    {
      name: 'a negative duration',
      schedule: { ...valid, durationMinutes: -30 },
      message: durationMessage,
    },
    {
      name: 'longer than a week',
      schedule: { ...valid, durationMinutes: 10_081 },
      message: durationMessage,
    },
    {
      name: 'the start is checked first',
      schedule: { daysOfWeek: [], start: 'noon', durationMinutes: 0 },
      message: startMessage,
    },
  ]
  for (const { name, schedule, message } of refused) {
    try {
      assertWeeklySchedule(schedule)
      t.fail(`${name} was accepted`)
    } catch (error) {
      t.type(error, InvalidInputError, name)
      t.equal((error as InvalidInputError).code, 'invalid-freeze-window', name)
      t.equal((error as InvalidInputError).message, message, name)
    }
  }
  const accepted: { name: string; schedule: WeeklySchedule }[] = [
    { name: 'an ordinary schedule', schedule: valid },
    { name: 'midnight', schedule: { ...valid, start: '00:00' } },
    { name: 'the last minute of the day', schedule: { ...valid, start: '23:59' } },
    { name: 'one minute', schedule: { ...valid, durationMinutes: 1 } },
    { name: 'exactly a week', schedule: { ...valid, durationMinutes: 10_080 } },
    { name: 'every day', schedule: { ...valid, daysOfWeek: [0, 1, 2, 3, 4, 5, 6] } },
  ]
  for (const { name, schedule } of accepted) {
    t.doesNotThrow(() => assertWeeklySchedule(schedule), name)
  }
})

t.test('an open-ended one-off window holds with a valid end date', async (t) => {
  const window = {
    id: 1,
    name: 'until further notice',
    scope: 'global' as const,
    target: null,
    startsAt: '2026-11-01T00:00:00.000Z',
    endsAt: null,
    schedule: null,
    reason: 'incident',
    createdBy: 'sre',
    createdAt: '2026-11-01T00:00:00.000Z',
  }
  const until = freezeActiveUntil(window, new Date('2027-01-01T00:00:00Z'))
  t.ok(until !== null && !Number.isNaN(until.getTime()), 'in force, with a real date')
  t.equal(until?.toISOString(), '+275760-09-13T00:00:00.000Z')
  t.equal(freezeActiveUntil(window, new Date('2026-10-31T00:00:00Z')), null, 'not before it starts')
})

t.test('daysOfWeek outside 0-6 are refused', async (t) => {
  for (const day of [7, -1, 1.5]) {
    t.throws(
      () => assertWeeklySchedule({ daysOfWeek: [day], start: '10:00', durationMinutes: 60 }),
      { code: 'invalid-freeze-window' },
      `day ${day}`,
    )
  }
})

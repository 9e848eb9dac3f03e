import t from 'tap'
import { describeExpiry, formatTime } from '../src/format.js'

t.test('an inbox card says in words when the approval wait expires', async (t) => {
  const now = Date.parse('2026-11-23T09:48:00.000Z')
  const cases: [string, string | null, string][] = [
    ['no timeout', null, 'never: the ring sets no approval timeout'],
    [
      'hours and minutes ahead',
      '2026-11-23T13:00:00.000Z',
      `expires in 3 h 12 min (${formatTime('2026-11-23T13:00:00.000Z')})`,
    ],
    [
      'minutes ahead',
      '2026-11-23T10:00:00.000Z',
      `expires in 12 min (${formatTime('2026-11-23T10:00:00.000Z')})`,
    ],
    [
      'already past',
      '2026-11-23T09:00:00.000Z',
      `expired ${formatTime('2026-11-23T09:00:00.000Z')}`,
    ],
  ]
  for (const [label, expiresAt, expected] of cases) {
    t.equal(describeExpiry(expiresAt, now), expected, label)
  }
})

import t from 'tap'
import { anyRole, humanRoles, isRole, roles } from '../src/roles.js'

t.test('the roles', async (t) => {
  t.strictSame([...roles], ['admin', 'approver', 'pipeline', 'sre', 'viewer'])
  t.strictSame([...anyRole], [...roles])
})

t.test('human roles are every role but the pipeline', async (t) => {
  t.strictSame([...humanRoles].sort(), ['admin', 'approver', 'sre', 'viewer'])
  t.notOk(humanRoles.includes('pipeline'))
})

t.test('isRole accepts exactly the known roles', async (t) => {
  const cases: [string, boolean][] = [
    ['admin', true],
    ['approver', true],
    ['pipeline', true],
    ['sre', true],
    ['viewer', true],
    ['Admin', false],
    ['ADMIN', false],
    [' admin', false],
    ['admin ', false],
    ['', false],
    ['root', false],
    ['owner', false],
    ['toString', false],
    ['constructor', false],
  ]
  for (const [value, expected] of cases) {
    t.equal(isRole(value), expected, JSON.stringify(value))
  }
})

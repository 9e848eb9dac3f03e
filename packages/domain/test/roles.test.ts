import t from 'tap'
import { anyRole, humanRoles, isRole, isSdkRole, roles, sdkRoles } from '../src/roles.js'

t.test('the roles', async (t) => {
  t.strictSame([...roles], ['admin', 'approver', 'pipeline', 'sre', 'viewer', 'client', 'frontend'])
  t.strictSame([...sdkRoles], ['client', 'frontend'])
})

t.test('"any role" means any control-plane role: SDK tokens reach only SDK routes', async (t) => {
  t.strictSame([...anyRole], ['admin', 'approver', 'pipeline', 'sre', 'viewer'])
  t.strictSame(
    roles.filter((role) => isSdkRole(role)),
    ['client', 'frontend'],
  )
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
    ['client', true],
    ['frontend', true],
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

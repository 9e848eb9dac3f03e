import t from 'tap'
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthenticatedError,
} from '../src/errors.js'

t.test('every domain error carries its class name, code, message and details', async (t) => {
  const cases = [
    ['InvalidInputError', InvalidInputError],
    ['NotFoundError', NotFoundError],
    ['ConflictError', ConflictError],
    ['ForbiddenError', ForbiddenError],
    ['UnauthenticatedError', UnauthenticatedError],
  ] as const
  for (const [name, ErrorClass] of cases) {
    const error = new ErrorClass('some-code', `a ${name} happened`, { ring: 'ring-0' })
    t.type(error, Error, name)
    t.type(error, DomainError, name)
    t.equal(error.name, name)
    t.equal(error.code, 'some-code', name)
    t.equal(error.message, `a ${name} happened`, name)
    t.strictSame(error.details, { ring: 'ring-0' }, name)
    t.equal(new ErrorClass('other', 'no details').details, undefined, name)
    for (const [otherName, OtherClass] of cases) {
      if (otherName !== name) t.notOk(error instanceof OtherClass, `${name} is not ${otherName}`)
    }
  }
})

import t from 'tap'
import { buildResponseSerializer } from '../../src/http/response-serializers.js'

const models = {
  Region: {
    $id: 'Region',
    type: 'object',
    properties: { name: { type: 'string' } },
  },
  ScaleUnit: {
    $id: 'ScaleUnit',
    type: 'object',
    properties: { id: { type: 'string' }, region: { $ref: 'Region' } },
  },
  // Never referred to below, and not a valid schema: compiling with it throws.
  Broken: { $id: 'Broken', type: 'nonsense' },
}

t.test('a response reads the models it refers to, and the models those refer to', async (t) => {
  const serialize = buildResponseSerializer(
    models,
    {},
  )({
    schema: { type: 'array', items: { $ref: 'ScaleUnit#' } },
  })
  t.equal(
    serialize([{ id: 'su-1', region: { name: 'westeurope', secret: 'x' }, extra: 1 }]),
    '[{"id":"su-1","region":{"name":"westeurope"}}]',
    'fields outside the nested model are dropped, as the model says',
  )
})

t.test('an unplaceable reference gets every shared schema, as fastify would give', async (t) => {
  const compile = buildResponseSerializer(models, {})
  t.throws(
    () => compile({ schema: { type: 'object', properties: { a: { $ref: 'Elsewhere' } } } }),
    /"Broken" schema is invalid/,
    'fast-json-stringify was given the whole set, Broken included, and refused it',
  )
})

t.test('a serializer compiled once is reused by the next app in the process', async (t) => {
  const schema = { type: 'object', properties: { region: { $ref: 'Region' } } }
  const first = buildResponseSerializer(models, {})({ schema })
  const second = buildResponseSerializer({ ...models }, {})({ schema: structuredClone(schema) })
  t.equal(second, first, 'same schema, same models, same options: the same function')

  const changedModel = {
    ...models,
    Region: { ...models.Region, properties: { code: { type: 'string' } } },
  }
  const third = buildResponseSerializer(changedModel, {})({ schema })
  t.not(third, first, 'a different model is a different serializer')
  t.equal(third({ region: { name: 'westeurope', code: 'weu' } }), '{"region":{"code":"weu"}}')
})

import t from 'tap'
import { Type } from 'typebox'
import { Nullable } from '../../src/schemas/common.js'
import { modelsById, referredModels, referToModels } from '../../src/schemas/model-references.js'

const Gate = Type.Object(
  { role: Type.String({ description: 'Who approves' }) },
  { $id: 'Gate', additionalProperties: false, description: 'An approval gate' },
)
const Policy = Type.Object(
  {
    gate: Gate,
    optionalGate: Type.Optional(Gate),
    maybeGate: Nullable(Gate),
    gates: Type.Array(Gate, { description: 'Every gate' }),
  },
  { $id: 'Policy', additionalProperties: false, description: 'A policy' },
)
const models = modelsById([Gate, Policy])

t.test('a model embedded anywhere becomes a reference to it', async (t) => {
  const route = Type.Object({ policy: Policy, defaulted: { ...Gate, default: { role: 'sre' } } })
  t.same(referToModels(route, models), {
    type: 'object',
    required: ['policy', 'defaulted'],
    properties: {
      policy: { $ref: 'Policy' },
      defaulted: {
        allOf: [{ $ref: 'Gate' }],
        description: 'An approval gate',
        default: { role: 'sre' },
      },
    },
  })
})

t.test('a registered model keeps its own body and refers to the models it embeds', async (t) => {
  const policy = referredModels(models).find((model) => model.$id === 'Policy')
  t.same(policy?.properties, {
    gate: { $ref: 'Gate' },
    optionalGate: { $ref: 'Gate' },
    maybeGate: { anyOf: [{ $ref: 'Gate' }, { type: 'null' }], description: 'An approval gate' },
    gates: { type: 'array', items: { $ref: 'Gate' }, description: 'Every gate' },
  })
})

t.test('two shapes under one name are refused, naming the model', async (t) => {
  const changed = { ...Gate, additionalProperties: true }
  t.throws(() => referToModels({ properties: { gate: changed } }, models), /\$id Gate/)
  t.throws(() => referToModels({ properties: { gate: { $id: 'Nope' } } }, models), /Nope/)
  t.throws(() => modelsById([Gate, Gate]), /two API models are named Gate/)
  t.throws(() => modelsById([Type.String()]), /has no \$id/)
})

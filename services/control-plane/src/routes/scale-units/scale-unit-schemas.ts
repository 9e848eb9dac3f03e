import { Type } from 'typebox'
import { Labels, Name, Nullable, Timestamp } from '../../schemas/common.js'

export const ScaleUnit = Type.Object(
  {
    name: Type.String({ description: 'The scale unit name, unique' }),
    region: Type.String({ description: 'The region the scale unit runs in' }),
    ring: Type.String({ description: 'The ring the scale unit belongs to' }),
    pairedWith: Nullable(
      Type.String({ description: 'Its region pair: the two never deploy in the same wave' }),
    ),
    labels: Labels,
    trafficWeight: Type.Number({
      description:
        "Its share of the fleet's traffic relative to the other scale units; an incident on it weighs this much in the traffic-weighted reliability figures",
    }),
    createdAt: Timestamp('When the scale unit was created'),
    updatedAt: Timestamp('When the scale unit last changed'),
  },
  {
    $id: 'ScaleUnit',
    description: 'A deployable stamp: one region, one ring',
    additionalProperties: false,
  },
)

const region = Name('The region, e.g. westeurope')
const trafficWeight = Type.Number({
  exclusiveMinimum: 0,
  maximum: 1_000_000,
  description:
    "Its share of the fleet's traffic relative to the other scale units (default 1), e.g. requests per second; weighs incidents in the traffic-weighted reliability figures",
})
const pairedWith = Nullable(
  Type.String({
    pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
    maxLength: 63,
    description:
      'Another scale unit that is its region pair; pairing is mutual and exclusive. null to unpair',
  }),
)

export const CreateScaleUnitBody = Type.Object(
  {
    name: Name('The scale unit name, e.g. weu-1'),
    region,
    ring: Name('The ring it belongs to'),
    pairedWith: Type.Optional(pairedWith),
    labels: Type.Optional(Labels),
    trafficWeight: Type.Optional(trafficWeight),
  },
  { additionalProperties: false },
)

export const UpdateScaleUnitBody = Type.Object(
  {
    region: Type.Optional(region),
    ring: Type.Optional(Name('Move the scale unit to this ring')),
    pairedWith: Type.Optional(pairedWith),
    labels: Type.Optional(Labels),
    trafficWeight: Type.Optional(trafficWeight),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const ScaleUnitQuery = Type.Object(
  {
    ring: Type.Optional(Name('Only scale units in this ring')),
    region: Type.Optional(Name('Only scale units in this region')),
  },
  { additionalProperties: false },
)

export const ScaleUnitList = Type.Object(
  { scaleUnits: Type.Array(ScaleUnit, { description: 'Scale units by ring order, then name' }) },
  { $id: 'ScaleUnitList', description: 'Scale units', additionalProperties: false },
)

export const ScaleUnitParams = Type.Object(
  { name: Name('The scale unit name') },
  { additionalProperties: false },
)

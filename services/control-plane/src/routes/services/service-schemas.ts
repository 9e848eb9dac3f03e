import { Type } from 'typebox'
import { Name, Nullable, Timestamp } from '../../schemas/common.js'

export const Service = Type.Object(
  {
    name: Type.String({ description: 'The service name, unique' }),
    description: Type.String({ description: 'What the service does' }),
    owner: Nullable(Type.String({ description: 'The owning team; null when not set' })),
    createdAt: Timestamp('When the service was registered'),
    updatedAt: Timestamp('When the service last changed'),
  },
  {
    $id: 'Service',
    description: 'A service released through the rings',
    additionalProperties: false,
  },
)

export const CreateServiceBody = Type.Object(
  {
    name: Name('The service name, e.g. checkout'),
    description: Type.Optional(
      Type.String({ maxLength: 1000, description: 'What the service does' }),
    ),
    owner: Type.Optional(
      Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'The owning team' })),
    ),
  },
  { additionalProperties: false },
)

export const ServiceList = Type.Object(
  { services: Type.Array(Service, { description: 'Every service, by name' }) },
  { $id: 'ServiceList', description: 'Every service', additionalProperties: false },
)

export const ServiceParams = Type.Object(
  { name: Name('The service name') },
  { additionalProperties: false },
)

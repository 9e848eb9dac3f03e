import { type Static, type TSchema, Type } from 'typebox'

/** Names appear in URLs, logs and CLI arguments: lowercase letters, digits and dashes. */
export const namePattern = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'

export const Name = (description: string) =>
  Type.String({ pattern: namePattern, minLength: 1, maxLength: 63, description })

export const Timestamp = (description: string) => Type.String({ format: 'date-time', description })

/** `type: [T, 'null']` rather than anyOf, so a wrong value gets one clear validation message. */
export function Nullable<T extends TSchema>(schema: T, options: { description?: string } = {}) {
  const type = (schema as { type?: string }).type
  return Type.Unsafe<Static<T> | null>({ ...schema, ...options, type: [type, 'null'] })
}

/** A model used with what it means here: the document wraps its `$ref` with this description. */
export const Described = <T extends TSchema>(schema: T, description: string) =>
  Type.Unsafe<Static<T>>({ ...schema, description })

export const StringEnum = <const Values extends readonly string[]>(
  values: Values,
  description: string,
) => Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], description })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Makes a retry safe: the same key and body return the first answer instead of doing the work twice; the same key with another body is a 409. Keys are kept per token.',
    }),
  ),
})

export const Labels = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$' }),
  Type.String({ maxLength: 253 }),
  {
    $id: 'Labels',
    maxProperties: 64,
    additionalProperties: false,
    description:
      'Free-form key/value labels (at most 64); keys are letters, digits and . _ / - (63 at most)',
  },
)

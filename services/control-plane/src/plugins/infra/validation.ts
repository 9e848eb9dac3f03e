import { Ajv, type Options, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance, FastifySchema, FastifySchemaValidationError } from 'fastify'
import fp from 'fastify-plugin'
import { requestValueIssues, withSafeIntegers } from '../../http/request-text.js'

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const shared: Options = {
  allErrors: true,
  // Fastify's default drops unknown fields silently; we reject them and name them instead.
  removeAdditional: false,
  useDefaults: true,
  strict: false,
}

const acceptAll = () => true

interface HeadersSchema {
  required?: string[]
  additionalProperties?: boolean
  properties?: Record<string, Record<string, unknown>>
}

/**
 * Header values always arrive as text, so a headers schema of optional, unconstrained strings
 * (the SDK headers we document and tolerate) can reject nothing. Compiling it anyway costs every
 * SDK poll a validation pass, which showed in the flag benchmark.
 */
function acceptsAnyHeaders(schema: unknown): boolean {
  const { required, additionalProperties, properties } = schema as HeadersSchema
  if ((required?.length ?? 0) > 0 || additionalProperties === false || !properties) return false
  return Object.values(properties).every(
    (property) =>
      Object.keys(property).every((key) => key === 'type' || key === 'description') &&
      property.type === 'string',
  )
}

type RequestValidator = ((data: unknown) => boolean) & {
  errors?: FastifySchemaValidationError[] | null
}

/**
 * The route's schema first (it coerces query strings and path parameters in place), then the
 * rules every value obeys (http/request-text.ts), so a NUL or an Infinity is a 400 on every route,
 * including routes that read their input leniently.
 */
function strictly(validate: ValidateFunction): RequestValidator {
  const validator: RequestValidator = (data) => {
    const valid = validate(data)
    const issues = requestValueIssues(data)
    if (valid && issues.length === 0) return true
    validator.errors = [...(validate.errors ?? []), ...issues]
    return false
  }
  return validator
}

/**
 * Bodies are validated as sent: a string "3" is not the integer 3. Query strings, path parameters
 * and headers arrive as text, so those are coerced to the declared types.
 */
export const validationPlugin = fp(
  async (fastify: FastifyInstance) => {
    const bodies = addFormats(new Ajv({ ...shared, coerceTypes: false }))
    const textParts = addFormats(new Ajv({ ...shared, coerceTypes: 'array' }))
    // The API speaks JSON only: a text/plain body is a 415, not a string that fails validation.
    fastify.removeContentTypeParser('text/plain')
    // Route schemas refer to the API models (api-models.ts) by $id. Fastify hands a custom
    // compiler only the route's own schema, so the models are taught to both instances, once,
    // with the same integer bounds as a route schema gets.
    const known = new Set<string>()
    const learnModels = () => {
      for (const [id, model] of Object.entries(fastify.getSchemas())) {
        if (known.has(id)) continue
        known.add(id)
        bodies.addSchema(withSafeIntegers(model as object), id)
        textParts.addSchema(withSafeIntegers(model as object), id)
      }
    }
    fastify.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) => {
      if (httpPart === 'headers' && acceptsAnyHeaders(schema)) return acceptAll
      learnModels()
      const ajv = httpPart === 'body' ? bodies : textParts
      const validate = ajv.compile(withSafeIntegers(schema as object))
      // Header values cannot carry what the value rules refuse: Node's parser rejects them.
      return httpPart === 'headers' ? validate : strictly(validate)
    })
  },
  { name: 'validation' },
)

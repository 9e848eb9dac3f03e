import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { modelsById, referredModels, referToModels } from '../../schemas/model-references.js'

export interface ApiModelsOptions {
  /** Every named shape of the API (routes/api-models.ts). */
  models: readonly object[]
}

/**
 * Registers the API's named shapes as shared schemas and makes every route refer to them: the
 * validator (validation.ts), the serializers and the OpenAPI document (one components/schemas
 * entry per model) then all read the same `$ref`s. Registered before any route and before the
 * swagger plugin, whose own onRoute hook must see the rewritten schemas.
 */
export const apiModelsPlugin = fp(
  async (fastify: FastifyInstance, { models }: ApiModelsOptions) => {
    const byId = modelsById(models)
    for (const model of referredModels(byId)) fastify.addSchema(model)
    fastify.addHook('onRoute', (route) => {
      if (route.schema) route.schema = referToModels(route.schema, byId) as typeof route.schema
    })
  },
  { name: 'api-models' },
)

import type {
  Constraint,
  Dependency,
  Feature,
  Strategy,
  VariantDefinition,
} from '@ringmaster/flag-evaluator'
import type { FlagDefinition, FlagRingState, FlagStrategy } from './flag.js'

/**
 * A flag as Unleash SDKs see it in one ring. Strategies name segments; SDKs get their ids, and a
 * name with no id (a segment deleted under the flag) becomes an id no segment has, so the SDK
 * fails that strategy exactly as Unleash does for a missing segment.
 */
export function toUnleashFeature(
  definition: FlagDefinition,
  state: FlagRingState | undefined,
  segmentIds: ReadonlyMap<string, number>,
): Feature {
  return {
    name: definition.key,
    description: definition.description,
    type: definition.type,
    project: definition.project,
    stale: definition.stale,
    impressionData: definition.impressionData,
    enabled: state?.enabled ?? false,
    strategies: (state?.strategies ?? []).map((strategy) =>
      toUnleashStrategy(strategy, segmentIds),
    ),
    variants: definition.variants,
    dependencies: definition.dependencies,
  }
}

export function toUnleashStrategy(
  strategy: FlagStrategy,
  segmentIds: ReadonlyMap<string, number>,
): Strategy {
  return {
    name: strategy.name,
    parameters: strategy.parameters,
    constraints: strategy.constraints,
    segments: strategy.segments.map((name) => segmentIds.get(name) ?? -1),
    variants: strategy.variants,
  }
}

/** The inverse of `toUnleashStrategy` for imports: segment ids become the names they map to. */
export function fromUnleashStrategy(
  strategy: Strategy,
  segmentNames: ReadonlyMap<number, string>,
): FlagStrategy {
  return {
    name: strategy.name,
    // Unleash stores parameters as strings, but exported bodies sometimes carry numbers.
    parameters: Object.fromEntries(
      Object.entries(strategy.parameters ?? {}).map(([name, value]) => [name, String(value)]),
    ),
    constraints: (strategy.constraints ?? []).map(cleanConstraint),
    segments: (strategy.segments ?? []).map((id) => segmentNames.get(id) ?? `segment-${id}`),
    variants: (strategy.variants ?? []).map(cleanVariant),
  }
}

/*
 * Unleash bodies carry fields SDKs ignore (ids, sort orders, titles); imports keep only the fields
 * that decide an answer, so what is stored is what is served.
 */

export function cleanConstraint(constraint: Constraint): Constraint {
  return {
    contextName: constraint.contextName,
    operator: constraint.operator,
    ...(constraint.values !== undefined && { values: constraint.values }),
    ...(constraint.value !== undefined && { value: constraint.value }),
    ...(constraint.inverted !== undefined && { inverted: constraint.inverted }),
    ...(constraint.caseInsensitive !== undefined && {
      caseInsensitive: constraint.caseInsensitive,
    }),
  }
}

export function cleanVariant(variant: VariantDefinition): VariantDefinition {
  return {
    name: variant.name,
    weight: variant.weight,
    ...(variant.weightType !== undefined && { weightType: variant.weightType }),
    ...(variant.stickiness !== undefined && { stickiness: variant.stickiness }),
    ...(variant.payload !== undefined && {
      payload: { type: variant.payload.type, value: variant.payload.value },
    }),
    ...(variant.overrides !== undefined && {
      overrides: variant.overrides.map(({ contextName, values }) => ({ contextName, values })),
    }),
  }
}

export function cleanDependency(dependency: Dependency): Dependency {
  return {
    feature: dependency.feature,
    ...(dependency.enabled !== undefined && { enabled: dependency.enabled }),
    ...(dependency.variants !== undefined && { variants: dependency.variants }),
  }
}

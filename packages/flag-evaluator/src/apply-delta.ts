import type {
  ClientFeaturesDelta,
  ClientFeaturesState,
  Feature,
  Segment,
} from './client-features.js'

export const isClientFeaturesDelta = (
  input: ClientFeaturesState | ClientFeaturesDelta,
): input is ClientFeaturesDelta => Array.isArray((input as ClientFeaturesDelta).events)

/**
 * Applies delta events in order, as unleash-client's repository does: `hydration` replaces
 * everything, `feature-updated` upserts by name, `*-removed` deletes, unknown events are ignored.
 * Returns a new state; the input is not changed.
 */
export const applyDelta = (
  state: ClientFeaturesState,
  delta: ClientFeaturesDelta,
): ClientFeaturesState => {
  let features = new Map<string, Feature>(state.features.map((feature) => [feature.name, feature]))
  let segments = new Map<number, Segment>((state.segments ?? []).map((s) => [s.id, s]))
  for (const event of delta.events) {
    switch (event.type) {
      case 'hydration':
        features = new Map((event.features ?? []).map((feature) => [feature.name, feature]))
        segments = new Map((event.segments ?? []).map((segment) => [segment.id, segment]))
        break
      case 'feature-updated':
        features.set(event.feature.name, event.feature)
        break
      case 'feature-removed':
        features.delete(event.featureName)
        break
      case 'segment-updated':
        segments.set(event.segment.id, event.segment)
        break
      case 'segment-removed':
        segments.delete(event.segmentId)
        break
    }
  }
  return {
    ...(state.version === undefined ? {} : { version: state.version }),
    features: [...features.values()],
    segments: [...segments.values()],
  }
}

/** A full state as is, or a delta stream applied to an empty state. */
export const toClientFeaturesState = (
  input: ClientFeaturesState | ClientFeaturesDelta,
): ClientFeaturesState =>
  isClientFeaturesDelta(input) ? applyDelta({ features: [], segments: [] }, input) : input

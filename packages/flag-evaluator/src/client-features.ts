export interface Constraint {
  contextName: string
  operator: string
  values?: string[]
  value?: string
  inverted?: boolean
  caseInsensitive?: boolean
}

export interface Override {
  contextName: string
  values: string[]
}

export interface Payload {
  type: string
  value: string
}

export interface VariantDefinition {
  name: string
  weight: number
  weightType?: string
  stickiness?: string | null
  payload?: Payload
  overrides?: Override[]
}

export interface Strategy {
  name: string
  parameters?: Record<string, string>
  constraints?: Constraint[] | null
  segments?: number[] | null
  variants?: VariantDefinition[] | null
}

export interface Dependency {
  feature: string
  enabled?: boolean
  variants?: string[]
}

export interface Feature {
  name: string
  enabled: boolean
  strategies?: Strategy[]
  variants?: VariantDefinition[] | null
  dependencies?: Dependency[] | null
  impressionData?: boolean
  project?: string
  type?: string
  stale?: boolean
  description?: string | null
}

export interface Segment {
  id: number
  name?: string
  constraints?: Constraint[]
}

/** The body of `GET /api/client/features`. */
export interface ClientFeaturesState {
  version?: number
  features: Feature[]
  segments?: Segment[]
}

export type DeltaEvent =
  | { type: 'hydration'; eventId: number; features: Feature[]; segments: Segment[] }
  | { type: 'feature-updated'; eventId: number; feature: Feature }
  | { type: 'feature-removed'; eventId: number; featureName: string; project?: string }
  | { type: 'segment-updated'; eventId: number; segment: Segment }
  | { type: 'segment-removed'; eventId: number; segmentId: number }

/** The body of the delta API (`GET /api/client/delta`). */
export interface ClientFeaturesDelta {
  events: DeltaEvent[]
}

/**
 * The Unleash context. Top-level fields win over `properties` when a constraint or a stickiness
 * names a field, as in unleash-client.
 */
export interface UnleashContext {
  userId?: string
  sessionId?: string
  remoteAddress?: string
  environment?: string
  appName?: string
  currentTime?: string | Date
  properties?: Record<string, string | number | null | undefined>
  [field: string]: unknown
}

export interface VariantResult {
  name: string
  enabled: boolean
  payload?: Payload
  feature_enabled: boolean
  featureEnabled: boolean
}

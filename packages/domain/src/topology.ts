import type { RingPolicy } from './ring-policy.js'

/** A thing that gets released: an application or service with its own versions. */
export interface Service {
  name: string
  description: string
  owner: string | null
  createdAt: string
  updatedAt: string
}

/** A deployment ring: an ordered audience. Ring 0 is the team's own scale unit. */
export interface Ring {
  name: string
  order: number
  description: string
  policy: RingPolicy
  scaleUnits: string[]
  createdAt: string
  updatedAt: string
}

/** A deployable stamp of the product in one region, assigned to exactly one ring. */
export interface ScaleUnit {
  name: string
  region: string
  ring: string
  pairedWith: string | null
  labels: Record<string, string>
  /** Its share of the fleet's traffic relative to the other scale units (default 1). */
  trafficWeight: number
  createdAt: string
  updatedAt: string
}

export interface NewService {
  name: string
  description: string
  owner: string | null
}

export interface NewRing {
  name: string
  order: number
  description: string
  policy: RingPolicy
}

export interface RingChange {
  order?: number
  description?: string
  policy?: RingPolicy
}

export interface NewScaleUnit {
  name: string
  region: string
  ring: string
  pairedWith: string | null
  labels: Record<string, string>
  trafficWeight: number
}

export interface ScaleUnitChange {
  region?: string
  ring?: string
  pairedWith?: string | null
  labels?: Record<string, string>
  trafficWeight?: number
}

export interface ScaleUnitFilter {
  ring?: string | undefined
  region?: string | undefined
}

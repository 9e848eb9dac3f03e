export * from './attributes.js'
export * from './reliability-metrics.js'
export * from './rollout-span-export.js'
export * from './start-telemetry.js'

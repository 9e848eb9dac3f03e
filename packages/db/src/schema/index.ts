export * from './audit.js'
export * from './auth.js'
export * from './topology.js'

export { DatabaseProxy, type ProxyMode } from './database-proxy.js'
export {
  type RunningServer,
  type ServerStorage,
  type StartServerOptions,
  startServer,
} from './server-process.js'

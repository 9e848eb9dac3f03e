export {
  type RunningServer,
  type ServerStorage,
  type StartServerOptions,
  startServer,
} from './server-process.js'

import type { Test } from 'tap'
import {
  type RunningServer,
  type ServerStorage,
  startServer as startServerProcess,
} from '../../src/testing/server-process.js'

export type { RunningServer, ServerStorage }

/** The shared helper (src/testing), run from source; `existing` restarts on the same data. */
export function startServer(
  t: Test,
  env: Record<string, string> = {},
  existing?: ServerStorage,
): Promise<RunningServer> {
  return startServerProcess(t, { env, ...(existing && { storage: existing }) })
}

import {
  type RunningServer,
  type StartServerOptions,
  startServer as startServerProcess,
} from '@ringmaster/control-plane/testing'
import type { Test } from 'tap'

export type { RunningServer, StartServerOptions }

/**
 * The built control plane (a dev dependency, so turbo builds it before these tests run) on a
 * database of its own; stopped and removed when the test ends. The promotion loop runs every
 * 200 ms so releases move at the pace of a test.
 */
export function startServer(t: Test, options: StartServerOptions = {}): Promise<RunningServer> {
  return startServerProcess(t, {
    ...options,
    env: { OTEL_SDK_DISABLED: 'true', RINGMASTER_ENGINE_INTERVAL_MS: '200', ...options.env },
  })
}

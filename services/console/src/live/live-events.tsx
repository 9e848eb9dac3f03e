import type { AuditEvent, RingmasterClient } from '@ringmaster/sdk'
import { type QueryClient, type QueryKey, useQueryClient } from '@tanstack/react-query'
import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react'
import { isUnauthenticated } from '../session/session-api.js'

export type LiveListener = (event: AuditEvent) => void

export interface LiveEvents {
  /** Called for every event, in order; answers the unsubscribe. */
  subscribe(listener: LiveListener): () => void
  /** Whether the stream is connected. */
  connected: boolean
}

const LiveContext = createContext<LiveEvents>({ subscribe: () => () => {}, connected: false })

export function useLiveEvents(): LiveEvents {
  return useContext(LiveContext)
}

/** The queries an event makes stale, by the subject's kind (`release:42:ring-0:su-1` → release 42). */
export function queriesTouchedBy(event: AuditEvent): QueryKey[] {
  const [kind, id] = event.subject.split(':')
  switch (kind) {
    case 'release':
      // Deployment and health-gate events of a release also move its board's health marks.
      return [
        ['release', Number(id)],
        ['release-health', Number(id)],
        ['releases'],
        ['inbox'],
        ['halts'],
      ]
    case 'halt':
      return [['halts'], ['inbox'], ['release'], ['releases']]
    case 'incident':
      return [['incident', Number(id)], ['incidents'], ['halts'], ['reports']]
    case 'flag':
      return [['flags']]
    case 'ring':
    case 'scale-unit':
      return [['topology']]
    default:
      return []
  }
}

/**
 * Refetches each touched query so that a change is never lost: a refetch already running when an
 * event arrives may have read before that change committed, so the query is fetched once more
 * after it, however many events arrived meanwhile (at most one fetch in flight per query).
 */
export class CoalescingRefetcher {
  readonly #running = new Map<string, { again: boolean }>()
  constructor(private readonly queryClient: QueryClient) {}

  touch(queryKey: QueryKey): void {
    const key = JSON.stringify(queryKey)
    const running = this.#running.get(key)
    if (running) {
      running.again = true
      return
    }
    const state = { again: false }
    this.#running.set(key, state)
    const run = async (): Promise<void> => {
      do {
        state.again = false
        await this.queryClient
          .invalidateQueries({ queryKey }, { cancelRefetch: false })
          .catch(() => {})
      } while (state.again)
      this.#running.delete(key)
    }
    void run()
  }
}

/** Follows GET /v1/events/stream for the whole console while signed in. */
export function LiveEventsProvider({
  client,
  onUnauthenticated,
  children,
}: {
  client: RingmasterClient
  onUnauthenticated: () => void
  children: ReactNode
}) {
  const queryClient = useQueryClient()
  const listeners = useRef(new Set<LiveListener>())
  const [connected, setConnected] = useState(false)

  useEffect(() => {
    const stop = new AbortController()
    const refetcher = new CoalescingRefetcher(queryClient)
    const follow = async () => {
      while (!stop.signal.aborted) {
        try {
          const events = client.events({
            signal: stop.signal,
            retry: { retries: 1000, minDelayMs: 500, maxDelayMs: 5000 },
          })
          setConnected(true)
          for await (const event of events) {
            for (const listener of listeners.current) listener(event)
            for (const queryKey of queriesTouchedBy(event)) refetcher.touch(queryKey)
          }
        } catch (error) {
          if (isUnauthenticated(error)) {
            onUnauthenticated()
            return
          }
          setConnected(false)
          await new Promise((resolve) => setTimeout(resolve, 2000))
        }
      }
    }
    void follow()
    return () => stop.abort()
  }, [client, queryClient, onUnauthenticated])

  const value = useMemo<LiveEvents>(
    () => ({
      connected,
      subscribe: (listener) => {
        listeners.current.add(listener)
        return () => listeners.current.delete(listener)
      },
    }),
    [connected],
  )
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>
}

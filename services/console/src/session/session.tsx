import type { RingmasterClient } from '@ringmaster/sdk'
import { useQueryClient } from '@tanstack/react-query'
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react'
import { createConsoleClient } from '../console-client.js'
import {
  type ConsoleSession,
  signOut as closeSession,
  isUnauthenticated,
  signIn as openSession,
  readSession,
} from './session-api.js'

export interface SessionState {
  session: ConsoleSession
  /** The SDK client of this session: the cookie and its CSRF token. */
  client: RingmasterClient
  signOut(): Promise<void>
  /** The session ended on the server (expired, revoked): back to sign-in. */
  expire(): void
}

const SessionContext = createContext<SessionState | undefined>(undefined)

export function useSession(): SessionState {
  const state = useContext(SessionContext)
  if (!state) throw new Error('useSession outside a signed-in page')
  return state
}

type Phase =
  | { kind: 'loading' }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; session: ConsoleSession }

/** Shows `children` to a signed-in person and the sign-in form to anyone else. */
export function SessionGate({
  children,
  signInPage,
}: {
  children: ReactNode
  signInPage: (signIn: (token: string) => Promise<void>, notice?: string) => ReactNode
}) {
  const queryClient = useQueryClient()
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' })

  useEffect(() => {
    readSession(createConsoleClient()).then(
      (session) => setPhase(session ? { kind: 'signed-in', session } : { kind: 'signed-out' }),
      () => setPhase({ kind: 'signed-out' }),
    )
  }, [])

  const expire = useCallback(() => {
    queryClient.clear()
    setPhase({ kind: 'signed-out', notice: 'Your session has ended. Sign in again.' })
  }, [queryClient])

  // A cookie lives as long as the session; past expiresAt every call would answer 401.
  const expiresAt = phase.kind === 'signed-in' ? phase.session.expiresAt : undefined
  useEffect(() => {
    if (!expiresAt) return
    const left = Date.parse(expiresAt) - Date.now()
    if (left > 2 ** 31 - 1) return
    const timer = setTimeout(expire, Math.max(0, left))
    return () => clearTimeout(timer)
  }, [expiresAt, expire])

  useEffect(() => {
    const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (
        event.type === 'updated' &&
        isUnauthenticated(event.action.type === 'error' ? event.action.error : undefined)
      ) {
        expire()
      }
    })
    return unsubscribe
  }, [queryClient, expire])

  const signIn = useCallback(async (token: string) => {
    const session = await openSession(createConsoleClient(), token)
    setPhase({ kind: 'signed-in', session })
  }, [])

  const state = useMemo<SessionState | undefined>(() => {
    if (phase.kind !== 'signed-in') return undefined
    const client = createConsoleClient(phase.session.csrfToken)
    return {
      session: phase.session,
      client,
      expire,
      signOut: async () => {
        try {
          await closeSession(client)
        } finally {
          queryClient.clear()
          setPhase({ kind: 'signed-out', notice: 'Signed out.' })
        }
      },
    }
  }, [phase, expire, queryClient])

  if (phase.kind === 'loading') return <p className="loading">Loading…</p>
  if (phase.kind === 'signed-out' || !state) {
    return <>{signInPage(signIn, phase.kind === 'signed-out' ? phase.notice : undefined)}</>
  }
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>
}

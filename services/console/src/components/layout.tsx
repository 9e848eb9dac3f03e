import { useIsFetching } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { Link, useRoute } from 'wouter'
import { may } from '../access.js'
import { useLiveEvents } from '../live/live-events.js'
import { useSession } from '../session/session.js'
import { HaltBanner } from './halt-banner.js'
import { StopTheLine } from './stop-the-line-dialog.js'

const pages = [
  ['/', 'Inbox'],
  ['/releases', 'Releases'],
  ['/topology', 'Topology'],
  ['/flags', 'Flags'],
  ['/incidents', 'Incidents'],
  ['/reports', 'Reports'],
] as const

function NavLink({ href, label }: { href: string; label: string }) {
  const [exact] = useRoute(href)
  const [nested] = useRoute(`${href}/*`)
  const current = exact || (href !== '/' && nested)
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {label}
    </Link>
  )
}

/** Every signed-in page: nav, who am I, Stop the line, the halts banner, then the page. */
export function Layout({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession()
  const live = useLiveEvents()
  // How many queries are loading: tests (and screenshots) wait for 0.
  const fetching = useIsFetching()
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Ringmaster</span>
        <nav aria-label="Main">
          {pages.map(([href, label]) => (
            <NavLink key={href} href={href} label={label} />
          ))}
        </nav>
        <div className="who">
          <span data-testid="who-am-i">
            {session.subject} <span className="role">({session.role})</span>
          </span>
          <span className={live.connected ? 'live on' : 'live off'}>
            {live.connected ? 'Live' : 'Reconnecting…'}
          </span>
          {may(session.role, 'stop-the-line') ? <StopTheLine /> : null}
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <HaltBanner />
      <main id="main" data-fetching={fetching}>
        {children}
      </main>
    </>
  )
}

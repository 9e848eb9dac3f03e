import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { Route, Switch } from 'wouter'
import { Layout } from './components/layout.js'
import { LiveEventsProvider } from './live/live-events.js'
import { FlagsPage } from './pages/flags-page.js'
import { InboxPage } from './pages/inbox-page.js'
import { IncidentPage } from './pages/incident-page.js'
import { IncidentsPage } from './pages/incidents-page.js'
import { ReleaseBoardPage } from './pages/release-board-page.js'
import { ReleasesPage } from './pages/releases-page.js'
import { ReportsPage } from './pages/reports-page.js'
import { SignInPage } from './pages/sign-in-page.js'
import { TopologyPage } from './pages/topology-page.js'
import { SessionGate, useSession } from './session/session.js'
import { isUnauthenticated } from './session/session-api.js'

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // The event stream says when data changes; no refetch on every focus.
        refetchOnWindowFocus: false,
        staleTime: 30_000,
        retry: (failures, error) => !isUnauthenticated(error) && failures < 2,
      },
    },
  })
}

function SignedIn() {
  const { client, expire } = useSession()
  return (
    <LiveEventsProvider client={client} onUnauthenticated={expire}>
      <Layout>
        <Switch>
          <Route path="/" component={InboxPage} />
          <Route path="/releases" component={ReleasesPage} />
          <Route path="/releases/:id">
            {(params) => <ReleaseBoardPage id={Number(params.id)} />}
          </Route>
          <Route path="/topology" component={TopologyPage} />
          <Route path="/flags" component={FlagsPage} />
          <Route path="/incidents" component={IncidentsPage} />
          <Route path="/incidents/:id">{(params) => <IncidentPage id={params.id} />}</Route>
          <Route path="/reports" component={ReportsPage} />
          <Route>
            <h1>Not found</h1>
            <p>There is no page here.</p>
          </Route>
        </Switch>
      </Layout>
    </LiveEventsProvider>
  )
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <SessionGate signInPage={(signIn, notice) => <SignInPage signIn={signIn} notice={notice} />}>
        <SignedIn />
      </SessionGate>
    </QueryClientProvider>
  )
}

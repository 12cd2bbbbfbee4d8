/** The shell: header with navigation and the live indicator, the page of the current route. */
import { useEffect, useState } from 'react';
import type { ApiClient } from './api/client.ts';
import { ApiContext, useApi } from './api/context.ts';
import type { Version } from './api/types.ts';
import { TokenForm } from './components/token-form.tsx';
import { formatDuration } from './lib/format.ts';
import { useHeartbeat, usePoll } from './lib/poll.ts';
import { href, useRoute } from './lib/router.ts';
import { DagListPage } from './pages/dag-list.tsx';
import { DagPage } from './pages/dag-page.tsx';
import { PoolsPage } from './pages/pools.tsx';

function LiveIndicator() {
  const { lastOk, error } = useHeartbeat();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (error)
    return (
      <span className="live down" title={`${error.message} ${error.hint}`}>
        <span className="live-dot" />{' '}
        {error.status === 0 ? 'API unreachable' : error.unauthorized ? 'not signed in' : 'error'}
      </span>
    );
  if (lastOk === null)
    return (
      <span className="live">
        <span className="live-dot idle" /> connecting…
      </span>
    );
  const age = now - lastOk;
  return (
    <span className="live up" title="Pages refresh on their own every few seconds">
      <span className="live-dot" /> live{age > 5000 ? ` · ${formatDuration(age)} ago` : ''}
    </span>
  );
}

function VersionTag() {
  const api = useApi();
  const { data } = usePoll<Version>('version', () => api.get<Version>('/version'), 0);
  if (!data) return null;
  return (
    <span className="version" title={data.commit ? `commit ${data.commit}` : undefined}>
      {data.stage} · v{data.version}
    </span>
  );
}

function Page() {
  const route = useRoute();
  const [first, second] = route.parts;
  if (first === 'dags' && second) return <DagPage dagId={second} route={route} />;
  if (first === 'pools') return <PoolsPage route={route} />;
  return <DagListPage route={route} />;
}

function Header() {
  const route = useRoute();
  const section = route.parts[0] ?? 'dags';
  return (
    <header className="topbar">
      <a className="brand" href={href([])}>
        <svg viewBox="0 0 24 24" aria-hidden="true" width="22" height="22">
          <path d="M3 17c4-1 6-4 8-8s5-6 10-6c-2 3-2 7-5 10s-8 4-13 4z" fill="currentColor" />
        </svg>
        Updraft
      </a>
      <nav>
        <a href={href([])} className={section === 'dags' ? 'active' : ''}>
          DAGs
        </a>
        <a href={href(['pools'])} className={section === 'pools' ? 'active' : ''}>
          Pools
        </a>
      </nav>
      <div className="spacer" />
      <VersionTag />
      <LiveIndicator />
    </header>
  );
}

function AuthGate({ children }: { children: React.ReactNode }) {
  const { error } = useHeartbeat();
  const [, force] = useState(0);
  if (error?.unauthorized)
    return (
      <main className="page narrow">
        <TokenForm error={error} onSaved={() => force((n) => n + 1)} />
      </main>
    );
  return <>{children}</>;
}

function App({ api }: { api: ApiClient }) {
  return (
    <ApiContext.Provider value={api}>
      <Header />
      <AuthGate>
        <Page />
      </AuthGate>
    </ApiContext.Provider>
  );
}

export { App };

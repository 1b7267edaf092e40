import { useEffect, useRef } from 'react';
import { Frame } from './components/frame';
import { NotFoundPage } from './pages/not-found';
import { usePath } from './router';
import { findRoute } from './routes';
import { ServerStatusProvider, useServerStatus } from './server-status';

/** The web UI: the frame around whichever page the path names. */
export function App() {
  return (
    <ServerStatusProvider>
      <Routed />
    </ServerStatusProvider>
  );
}

function Routed() {
  const path = usePath();
  const found = findRoute(path);
  const project = useServerStatus().health?.project;
  const shownPath = useRef(path);

  useEffect(() => {
    const page = found?.route.label ?? 'Not found';
    document.title = project ? `${page} · ${project} · Sluice` : `${page} · Sluice`;
  }, [found?.route.label, project]);

  // After a client-side navigation, move focus to the new page as a full load would.
  useEffect(() => {
    if (shownPath.current === path) return;
    shownPath.current = path;
    document.getElementById('main')?.focus();
    window.scrollTo(0, 0);
  }, [path]);

  return (
    <Frame current={found?.route}>
      {found ? <found.route.component params={found.params} /> : <NotFoundPage path={path} />}
    </Frame>
  );
}

import type { ReactNode } from 'react';
import { Link } from '../router';
import { type PageRoute, routes } from '../routes';
import { useServerStatus } from '../server-status';
import { ConnectionIndicator } from './connection-indicator';
import { Icon, Logo } from './icons';

/** The page frame: header with the project and connection, navigation, and the page itself. */
export function Frame({ current, children }: { current?: PageRoute; children: ReactNode }) {
  const { health, info } = useServerStatus();
  const project = health?.project ?? info?.project;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <Logo />
          <span>Sluice</span>
        </Link>
        {project && (
          <span className="project" title="project">
            <span className="visually-hidden">Project: </span>
            {project}
          </span>
        )}
        <ConnectionIndicator />
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {routes
            .filter((r) => r.icon)
            .map((r) => (
              <li key={r.path}>
                <Link href={r.path} aria-current={r === current ? 'page' : undefined}>
                  {r.icon && <Icon name={r.icon} />}
                  <span>{r.label}</span>
                </Link>
              </li>
            ))}
        </ul>
        {info && (
          <p className="version">
            Sluice {info.version} · Node {info.node}
          </p>
        )}
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

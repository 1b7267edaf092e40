import type { ComponentType } from 'react';
import type { IconName } from './components/icons';
import { AuditPage } from './pages/audit';
import { EventsPage } from './pages/events';
import { ModelsPage } from './pages/models';
import { MonitoringPage } from './pages/monitoring';
import { OverviewPage } from './pages/overview';
import { PipelinePage } from './pages/pipeline';
import { PipelinesPage } from './pages/pipelines';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SqlPage } from './pages/sql';
import { TablePage } from './pages/table';
import { TablesPage } from './pages/tables';
import { matchPath } from './router';

/** A page of the web UI. Adding a page is adding one entry to `routes`. */
export interface PageRoute {
  /** Path pattern; `:name` segments become params. */
  path: string;
  /** Navigation label and document title. */
  label: string;
  /** Navigation icon; a route without one (a detail page) is not listed in the navigation. */
  icon?: IconName;
  component: ComponentType<{ params: Record<string, string> }>;
}

/** Every page, in navigation order. */
export const routes: readonly PageRoute[] = [
  { path: '/', label: 'Overview', icon: 'overview', component: OverviewPage },
  { path: '/pipelines', label: 'Pipelines', icon: 'pipelines', component: PipelinesPage },
  { path: '/pipelines/:name', label: 'Pipeline', component: PipelinePage },
  { path: '/runs', label: 'Runs', icon: 'runs', component: RunsPage },
  { path: '/runs/:id', label: 'Run', component: RunPage },
  { path: '/tables', label: 'Tables', icon: 'tables', component: TablesPage },
  { path: '/tables/:name', label: 'Table', component: TablePage },
  { path: '/models', label: 'Models', icon: 'models', component: ModelsPage },
  { path: '/sql', label: 'SQL', icon: 'sql', component: SqlPage },
  { path: '/events', label: 'Events', icon: 'events', component: EventsPage },
  { path: '/monitoring', label: 'Monitoring', icon: 'monitoring', component: MonitoringPage },
  { path: '/audit', label: 'Audit', icon: 'audit', component: AuditPage },
];

/** The route a path opens, with its params; undefined for an unknown path. */
export function findRoute(path: string): { route: PageRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

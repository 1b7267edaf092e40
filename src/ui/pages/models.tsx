import { useCallback, useMemo, useState } from 'react';
import { fetchModels, type ModelGraph, type ModelNode } from '../api-models';
import { Dag, type DagTask } from '../components/dag';
import { formatTime } from '../format';
import { useLive } from '../live';
import { Link } from '../router';
import './runs.css';

const POLL_MS = 30_000;

/** Graph nodes named by model name (the id when two nodes share a name), coloured by build state. */
function graphOf(g: ModelGraph): {
  tasks: DagTask[];
  states: Record<string, string>;
  byLabel: Map<string, ModelNode>;
} {
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
  const label = new Map(g.nodes.map((n) => [n.id, (counts.get(n.name) ?? 0) > 1 ? n.id : n.name]));
  const byLabel = new Map(g.nodes.map((n) => [label.get(n.id) as string, n]));
  const tasks = g.nodes.map((n) => ({
    id: label.get(n.id) as string,
    kind: n.kind === 'model' ? n.materialized : n.kind,
    dependsOn: g.edges.filter((e) => e.to === n.id).map((e) => label.get(e.from) ?? e.from),
  }));
  const states = Object.fromEntries(
    g.nodes.map((n) => [
      label.get(n.id),
      n.compiled?.error ? 'failed' : n.build ? 'success' : n.kind === 'source' ? 'none' : 'queued',
    ]),
  );
  return { tasks, states, byLabel };
}

/** The SQL models of the project as a lineage graph; a node opens its columns, tests, SQL and last build. */
export function ModelsPage() {
  // `?dir=dbt` shows the dbt project in that directory of the Sluice project.
  const dir = new URLSearchParams(window.location.search).get('dir');
  const load = useCallback((signal: AbortSignal) => fetchModels(signal, dir), [dir]);
  const { data, error } = useLive(load, {
    match: (e) => e.type === 'table',
    fallbackMs: POLL_MS,
  });
  const [selected, setSelected] = useState<string>();
  const graph = useMemo(() => (data ? graphOf(data) : undefined), [data]);
  const node = selected ? graph?.byLabel.get(selected) : undefined;

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Models</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          Cannot load the models: {error.message}
        </p>
      )}
      {data && graph && (
        <section className="panel" aria-labelledby="lineage-title">
          <h2 id="lineage-title">Lineage of {data.project}</h2>
          <p className="muted small">
            {data.nodes.length} nodes. Green: built; grey: not built yet; red: does not compile. Pick a node
            for its details.
          </p>
          {data.nodes.length === 0 ? (
            <p className="muted">No models: add SQL files under models/ (a dbt project works as is).</p>
          ) : (
            <Dag
              title={`Lineage of ${data.project}`}
              tasks={graph.tasks}
              states={graph.states}
              selected={selected}
              onSelect={setSelected}
            />
          )}
        </section>
      )}
      {node && <ModelDetail node={node} />}
    </section>
  );
}

function ModelDetail({ node }: { node: ModelNode }) {
  return (
    <section className="panel" aria-labelledby="model-title" data-model={node.id}>
      <h2 id="model-title">
        {node.kind} {node.name}
      </h2>
      {node.description && <p>{node.description}</p>}
      <dl className="facts">
        <div>
          <dt>File</dt>
          <dd>
            <code>{node.path}</code>
          </dd>
        </div>
        {node.materialized && (
          <div>
            <dt>Materialized</dt>
            <dd>{node.materialized}</dd>
          </div>
        )}
        {node.relation && (
          <div>
            <dt>Table</dt>
            <dd>
              <Link href={`/tables/${encodeURIComponent(node.relation)}`}>{node.relation}</Link>
            </dd>
          </div>
        )}
        <div>
          <dt>Last build</dt>
          <dd>
            {node.build ? (
              <>
                {formatTime(node.build.builtAt)}, snapshot <code>{node.build.snapshotId}</code>
              </>
            ) : (
              'not built'
            )}
          </dd>
        </div>
        {node.tags.length > 0 && (
          <div>
            <dt>Tags</dt>
            <dd>{node.tags.join(', ')}</dd>
          </div>
        )}
      </dl>
      <h3>Columns</h3>
      {node.columns.length === 0 ? (
        <p className="muted">No documented columns.</p>
      ) : (
        <table className="grid" aria-label={`Columns of ${node.name}`}>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {node.columns.map((c) => (
              <tr key={c.name}>
                <td>
                  <code>{c.name}</code>
                </td>
                <td>{c.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Tests</h3>
      {node.tests.length === 0 ? (
        <p className="muted">No tests.</p>
      ) : (
        <ul>
          {node.tests.map((t) => (
            <li key={t}>
              <code>{t}</code>
            </li>
          ))}
        </ul>
      )}
      {node.compiled && (
        <>
          <h3>Compiled SQL</h3>
          {node.compiled.error ? (
            <p className="error-text">{node.compiled.error}</p>
          ) : (
            <pre className="logs compiled-sql">{node.compiled.sql}</pre>
          )}
        </>
      )}
    </section>
  );
}

import { useCallback, useState } from 'react';
import { fetchTable, parseQualifiedName, typeText } from '../api-tables';
import { formatBytes, formatTime } from '../format';
import { useLive } from '../live';
import { Link } from '../router';
import { Quarantine, SnapshotRows } from './table-time-travel';
import { currentSummary } from './tables';
import './tables.css';

const POLL_MS = 10_000;

/** One table: its columns, partitioning, snapshots (newest first) and properties. */
export function TablePage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const load = useCallback((signal: AbortSignal) => fetchTable(parseQualifiedName(name), signal), [name]);
  const { data: md, error } = useLive(load, {
    match: (e) => e.type === 'table' && e.data.table === name,
    fallbackMs: POLL_MS,
  });
  const [selected, setSelected] = useState<string>();
  const schema = md?.schemas.find((s) => s['schema-id'] === md['current-schema-id']);
  const spec = md?.['partition-specs'].find((s) => s['spec-id'] === md['default-spec-id']);
  const summary = currentSummary(md);
  const snapshots = [...(md?.snapshots ?? [])].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms']);
  const tags = Object.entries(md?.refs ?? {}).filter(([, r]) => r.type === 'tag');

  return (
    <section className="page" aria-labelledby="page-title">
      <p className="crumbs">
        <Link href="/tables">Tables</Link> /
      </p>
      <h1 id="page-title">{name}</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error.message}
        </p>
      )}
      {md && (
        <>
          <dl className="stats">
            <div className="stat">
              <dt>Rows</dt>
              <dd>{summary?.['total-records'] ?? '0'}</dd>
            </div>
            <div className="stat">
              <dt>Data files</dt>
              <dd>{summary?.['total-data-files'] ?? '0'}</dd>
            </div>
            <div className="stat">
              <dt>Size</dt>
              <dd>{formatBytes(Number(summary?.['total-files-size'] ?? 0))}</dd>
            </div>
            <div className="stat">
              <dt>Snapshots</dt>
              <dd>{snapshots.length}</dd>
            </div>
          </dl>
          <section className="panel" aria-labelledby="columns-title">
            <h2 id="columns-title">Columns</h2>
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Required</th>
                  <th scope="col">Partitioned by</th>
                </tr>
              </thead>
              <tbody>
                {schema?.fields.map((f) => (
                  <tr key={f.id}>
                    <td className="num">{f.id}</td>
                    <td>
                      <code>{f.name}</code>
                      {f.doc && <div className="muted">{f.doc}</div>}
                    </td>
                    <td>
                      <code>{typeText(f.type)}</code>
                    </td>
                    <td>{f.required ? 'yes' : ''}</td>
                    <td>
                      {spec?.fields
                        .filter((p) => p['source-id'] === f.id)
                        .map((p) => p.transform)
                        .join(', ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="panel" aria-labelledby="snapshots-title">
            <h2 id="snapshots-title">Snapshots</h2>
            <p className="muted">
              Pick one to see its rows and roll back to it. SQL reads any of them with{' '}
              <code>{`SELECT * FROM ${name.split('.').slice(0, -1).join('.')}."${name.split('.').at(-1)}@<id>"`}</code>
              .{tags.length > 0 && ` Tags: ${tags.map(([t, r]) => `${t} → ${r['snapshot-id']}`).join(', ')}.`}
            </p>
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">Snapshot</th>
                  <th scope="col">When</th>
                  <th scope="col">Operation</th>
                  <th scope="col" className="num">
                    Added rows
                  </th>
                  <th scope="col" className="num">
                    Deleted rows
                  </th>
                  <th scope="col" className="num">
                    Total rows
                  </th>
                </tr>
              </thead>
              <tbody>
                {snapshots.map((s) => (
                  <tr
                    key={s['snapshot-id']}
                    className={`${s['snapshot-id'] === md['current-snapshot-id'] ? 'current' : ''}${s['snapshot-id'] === selected ? ' selected' : ''}`}
                    data-snapshot={s['snapshot-id']}
                  >
                    <td>
                      <button
                        type="button"
                        className="link-button"
                        aria-pressed={s['snapshot-id'] === selected}
                        onClick={() =>
                          setSelected(s['snapshot-id'] === selected ? undefined : s['snapshot-id'])
                        }
                      >
                        <code>{s['snapshot-id']}</code>
                      </button>
                      {s['snapshot-id'] === md['current-snapshot-id'] && (
                        <span className="muted"> current</span>
                      )}
                    </td>
                    <td>{formatTime(new Date(s['timestamp-ms']).toISOString())}</td>
                    <td>{s.summary.operation}</td>
                    <td className="num">{s.summary['added-records'] ?? ''}</td>
                    <td className="num">{s.summary['deleted-records'] ?? ''}</td>
                    <td className="num">{s.summary['total-records'] ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          {selected && (
            <SnapshotRows
              table={name}
              snapshotId={selected}
              current={selected === md['current-snapshot-id']}
              onClose={() => setSelected(undefined)}
            />
          )}
          <Quarantine table={name} />
          <section className="panel" aria-labelledby="props-title">
            <h2 id="props-title">Properties</h2>
            <dl className="props">
              <dt>location</dt>
              <dd>
                <code>{md.location}</code>
              </dd>
              <dt>table-uuid</dt>
              <dd>
                <code>{md['table-uuid']}</code>
              </dd>
              {Object.entries(md.properties ?? {}).map(([k, v]) => (
                <div key={k} className="prop">
                  <dt>{k}</dt>
                  <dd>
                    <code>{v}</code>
                  </dd>
                </div>
              ))}
            </dl>
          </section>
        </>
      )}
    </section>
  );
}

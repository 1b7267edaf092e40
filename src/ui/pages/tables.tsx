import { useCallback, useMemo, useState } from 'react';
import {
  fetchAllTables,
  fetchTable,
  type IcebergMetadata,
  qualifiedName,
  type TableRef,
} from '../api-tables';
import { Pager } from '../components/pager';
import { formatBytes, formatTime } from '../format';
import { useLive } from '../live';
import { Link } from '../router';
import './tables.css';

const POLL_MS = 10_000;
/** Tables a page shows; only their metadata is fetched (a catalog of hundreds stays quick). */
const PAGE = 50;

export interface TableRow {
  ref: TableRef;
  metadata?: IcebergMetadata;
  error?: string;
}

/** Every table with its current metadata, fetched a few at a time. */
export async function loadTables(signal: AbortSignal): Promise<TableRow[]> {
  return loadMetadata(await fetchAllTables(signal), signal);
}

/** The current metadata of each table, six requests at a time. */
async function loadMetadata(refs: readonly TableRef[], signal: AbortSignal): Promise<TableRow[]> {
  const rows: TableRow[] = refs.map((ref) => ({ ref }));
  // A few at a time: a catalog of hundreds of tables must not open hundreds of requests.
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const row = rows[next++] as TableRow;
      try {
        row.metadata = await fetchTable(row.ref, signal);
      } catch (err) {
        row.error = err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return rows;
}

/** The current snapshot's summary of a table, if it has one. */
export function currentSummary(md: IcebergMetadata | undefined): Record<string, string> | undefined {
  const id = md?.['current-snapshot-id'];
  return md?.snapshots?.find((s) => s['snapshot-id'] === id)?.summary;
}

/** Every table of the catalog with its size and freshness, a page at a time. */
export function TablesPage() {
  const { data: refs, error } = useLive(fetchAllTables, {
    match: (e) => e.type === 'table',
    fallbackMs: POLL_MS,
  });
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  const matching = useMemo(
    () => (refs ?? []).filter((r) => qualifiedName(r).toLowerCase().includes(filter.trim().toLowerCase())),
    [refs, filter],
  );
  const pages = Math.max(1, Math.ceil(matching.length / PAGE));
  const current = Math.min(page, pages - 1);
  const pageRefs = matching.slice(current * PAGE, current * PAGE + PAGE);
  const key = pageRefs.map(qualifiedName).join('\n');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names the page's tables
  const loadPage = useCallback((signal: AbortSignal) => loadMetadata(pageRefs, signal), [key]);
  const names = useMemo(() => new Set(key.split('\n')), [key]);
  const { data: rows } = useLive(loadPage, {
    match: (e) => e.type === 'table' && names.has(e.data.table),
    fallbackMs: POLL_MS,
  });
  const metadata = new Map((rows ?? []).map((r) => [qualifiedName(r.ref), r]));
  const shown: TableRow[] = pageRefs.map((ref) => metadata.get(qualifiedName(ref)) ?? { ref });
  const data = refs;

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Tables</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          Cannot list tables: {error.message}
        </p>
      )}
      <div className="toolbar">
        <label>
          <span className="visually-hidden">Filter tables</span>
          <input
            type="search"
            placeholder="Filter by name"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setPage(0);
            }}
          />
        </label>
        <span className="muted">{data ? `${matching.length} of ${data.length} tables` : 'Loading…'}</span>
      </div>
      <div className="panel table-wrap">
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Table</th>
              <th scope="col" className="num">
                Rows
              </th>
              <th scope="col" className="num">
                Files
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Last change</th>
              <th scope="col">Operation</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => {
              const summary = currentSummary(row.metadata);
              const name = qualifiedName(row.ref);
              return (
                <tr key={name}>
                  <td>
                    <Link href={`/tables/${encodeURIComponent(name)}`}>{name}</Link>
                    {row.error && <span className="tone-bad"> ({row.error})</span>}
                  </td>
                  <td className="num">{summary?.['total-records'] ?? '—'}</td>
                  <td className="num">{summary?.['total-data-files'] ?? '—'}</td>
                  <td className="num">
                    {summary?.['total-files-size'] ? formatBytes(Number(summary['total-files-size'])) : '—'}
                  </td>
                  <td>
                    {row.metadata ? formatTime(new Date(row.metadata['last-updated-ms']).toISOString()) : '—'}
                  </td>
                  <td>{summary?.operation ?? 'empty'}</td>
                </tr>
              );
            })}
            {data && matching.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  {data.length === 0
                    ? 'No tables yet: run a pipeline or `sluice sql "create table ..."`.'
                    : 'No match.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager label="Table pages" page={current} pages={pages} onPage={setPage} />
    </section>
  );
}

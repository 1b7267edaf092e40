import { type KeyboardEvent, useRef, useState } from 'react';
import { runSql, SqlError, type SqlResult } from '../api-sql';
import { BarChart } from '../components/bar-chart';
import './sql.css';

const LIMIT = 1000;
const EXAMPLE = 'SELECT table_schema, table_name\nFROM information_schema.tables\nORDER BY 1, 2';

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The column pair a bar chart can show: the first text column and the first numeric one. */
function chartable(result: SqlResult): { label: number; value: number } | undefined {
  const numeric =
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/i;
  const value = result.columns.findIndex((c) => numeric.test(c.type));
  const label = result.columns.findIndex((c, i) => i !== value && !numeric.test(c.type));
  if (value < 0 || label < 0 || result.rows.length === 0 || result.rows.length > 60) return undefined;
  return { label, value };
}

/** An editor for ad-hoc SQL over every table, with results as a grid and a chart. */
export function SqlPage() {
  const [text, setText] = useState(() => new URLSearchParams(window.location.search).get('q') ?? EXAMPLE);
  const [result, setResult] = useState<SqlResult>();
  const [error, setError] = useState<SqlError>();
  const [running, setRunning] = useState(false);
  const [view, setView] = useState<'grid' | 'chart'>('grid');
  const current = useRef<AbortController>(undefined);

  const run = async () => {
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    setRunning(true);
    setError(undefined);
    try {
      setResult(await runSql(text, LIMIT, controller.signal));
    } catch (err) {
      if (!controller.signal.aborted) setError(err instanceof SqlError ? err : new SqlError(String(err)));
    } finally {
      if (current.current === controller) setRunning(false);
    }
  };
  const cancel = () => {
    current.current?.abort();
    setRunning(false);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  };
  const chart = result && chartable(result);

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">SQL</h1>
      <div className="panel sql-editor">
        <label htmlFor="sql-text" className="visually-hidden">
          Query
        </label>
        <textarea
          id="sql-text"
          value={text}
          spellCheck={false}
          rows={8}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKey}
        />
        <div className="sql-actions">
          <button type="button" onClick={() => void run()} disabled={running}>
            {running ? 'Running…' : 'Run'}
          </button>
          {running && (
            <button type="button" className="secondary" onClick={cancel}>
              Cancel
            </button>
          )}
          <span className="muted">Ctrl+Enter runs the query. Tables are named namespace.table.</span>
        </div>
      </div>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error.message}
          {error.position && ` (line ${error.position.line}, column ${error.position.column})`}
        </p>
      )}
      {result && (
        <section className="panel" aria-labelledby="result-title">
          <div className="result-head">
            <h2 id="result-title">Result</h2>
            <span className="muted">
              {result.rows.length} row{result.rows.length === 1 ? '' : 's'}
              {result.truncated ? ` (first ${LIMIT})` : ''} in {Math.round(result.elapsedMs)} ms
            </span>
            {chart && (
              <div className="tabs" role="tablist">
                <button
                  type="button"
                  role="tab"
                  aria-selected={view === 'grid'}
                  onClick={() => setView('grid')}
                >
                  Table
                </button>
                <button
                  type="button"
                  role="tab"
                  aria-selected={view === 'chart'}
                  onClick={() => setView('chart')}
                >
                  Chart
                </button>
              </div>
            )}
          </div>
          {chart && view === 'chart' ? (
            <BarChart
              labels={result.rows.map((r) => cellText(r[chart.label]))}
              values={result.rows.map((r) => Number(r[chart.value]))}
              title={`${result.columns[chart.value]?.name} by ${result.columns[chart.label]?.name}`}
            />
          ) : (
            <div className="table-wrap">
              <table className="grid">
                <thead>
                  <tr>
                    {result.columns.map((c) => (
                      <th key={c.name} scope="col" title={c.type}>
                        {c.name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {result.rows.map((row, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own
                    <tr key={i}>
                      {row.map((v, j) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                        <td key={j} className={v === null ? 'muted' : undefined}>
                          {cellText(v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </section>
  );
}

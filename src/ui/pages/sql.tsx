import { lazy, Suspense, useRef, useState } from 'react';
import { downloadParquet, runSql, SqlError, type SqlResult } from '../api-sql';
import { BarChart } from '../components/bar-chart';
import { cellText, ResultGrid } from '../components/result-grid';
import { addToHistory, type HistoryEntry, readHistory, resultCsv } from '../sql-history';
import './sql.css';

const SqlEditor = lazy(() => import('../components/sql-editor'));

const LIMIT = 1000;
const EXAMPLE = 'SELECT table_schema, table_name\nFROM information_schema.tables\nORDER BY 1, 2';

/** The column pair a bar chart can show: the first text column and the first numeric one. */
function chartable(result: SqlResult): { label: number; value: number } | undefined {
  const numeric =
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/i;
  const value = result.columns.findIndex((c) => numeric.test(c.type));
  const label = result.columns.findIndex((c, i) => i !== value && !numeric.test(c.type));
  if (value < 0 || label < 0 || result.rows.length === 0 || result.rows.length > 60) return undefined;
  return { label, value };
}

/** Hand a file to the browser's downloads. */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The download has started by now; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** An editor for ad-hoc SQL over every table, with results as a grid and a chart. */
export function SqlPage() {
  const [text, setText] = useState(() => new URLSearchParams(window.location.search).get('q') ?? EXAMPLE);
  const [result, setResult] = useState<SqlResult>();
  const [error, setError] = useState<SqlError>();
  const [running, setRunning] = useState(false);
  const [view, setView] = useState<'grid' | 'chart'>('grid');
  const current = useRef<AbortController>(undefined);
  const [history, setHistory] = useState<HistoryEntry[]>(readHistory);
  // What Run reads: set as the editor changes, not when React renders the change, so a Run
  // pressed right after typing runs what was typed.
  const textRef = useRef(text);
  const edit = (value: string) => {
    textRef.current = value;
    setText(value);
  };
  /** The query whose rows are shown: what "Download Parquet" runs again in full. */
  const resultQuery = useRef<string>(undefined);
  const [exporting, setExporting] = useState(false);

  const run = async () => {
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    setRunning(true);
    setError(undefined);
    const query = textRef.current;
    try {
      const r = await runSql(query, LIMIT, controller.signal);
      resultQuery.current = query;
      setResult(r);
      setHistory(addToHistory({ sql: query, at: new Date().toISOString(), rows: r.rows.length, ok: true }));
    } catch (err) {
      if (controller.signal.aborted) return;
      setError(err instanceof SqlError ? err : new SqlError(String(err)));
      setHistory(addToHistory({ sql: query, at: new Date().toISOString(), ok: false }));
    } finally {
      if (current.current === controller) setRunning(false);
    }
  };
  const cancel = () => {
    current.current?.abort();
    setRunning(false);
  };
  const download = () => {
    if (result) save(new Blob([resultCsv(result)], { type: 'text/csv' }), 'result.csv');
  };
  const downloadAll = async () => {
    if (!resultQuery.current) return;
    setExporting(true);
    setError(undefined);
    try {
      save(await downloadParquet(resultQuery.current), 'result.parquet');
    } catch (err) {
      setError(err instanceof SqlError ? err : new SqlError(String(err)));
    } finally {
      setExporting(false);
    }
  };
  const chart = result && chartable(result);

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">SQL</h1>
      <div className="panel sql-editor">
        <Suspense fallback={<p className="muted">Loading the editor…</p>}>
          <SqlEditor value={text} onChange={edit} onRun={() => void run()} label="Query" />
        </Suspense>
        <div className="sql-actions">
          <button type="button" onClick={() => void run()} disabled={running}>
            {running ? 'Running…' : 'Run'}
          </button>
          {running && (
            <button type="button" className="secondary" onClick={cancel}>
              Cancel
            </button>
          )}
          <span className="muted">
            Ctrl/Cmd+Enter runs the query; Ctrl+Space completes namespace.table and column names.
          </span>
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
            <button type="button" className="secondary" onClick={download} title="The rows shown, as CSV">
              Download CSV
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => void downloadAll()}
              disabled={exporting}
              title="Every row of the query, as a Parquet file"
            >
              {exporting ? 'Preparing Parquet…' : 'Download Parquet'}
            </button>
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
            <ResultGrid result={result} label="Result rows" />
          )}
        </section>
      )}
      {history.length > 0 && (
        <section className="panel" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          <ol className="sql-history">
            {history.map((h) => (
              <li key={`${h.at}-${h.sql}`}>
                <button type="button" className="link-button" onClick={() => edit(h.sql)} title={h.sql}>
                  <code>{h.sql.length > 140 ? `${h.sql.slice(0, 140)}…` : h.sql}</code>
                </button>
                <span className={h.ok ? 'muted' : 'tone-bad'}>
                  {' '}
                  {new Date(h.at).toLocaleString()} ·{' '}
                  {h.ok ? `${h.rows} row${h.rows === 1 ? '' : 's'}` : 'failed'}
                </span>
              </li>
            ))}
          </ol>
        </section>
      )}
    </section>
  );
}

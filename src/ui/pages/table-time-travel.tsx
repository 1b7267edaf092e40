import { useCallback, useEffect, useRef, useState } from 'react';
import { runSql, type SqlResult } from '../api-sql';
import { parseQualifiedName, rollbackTable, sqlTableName, tableExists } from '../api-tables';
import { ResultGrid } from '../components/result-grid';
import { useLive } from '../live';

const SAMPLE_ROWS = 50;

/** The first rows of a table as of one snapshot, with "Roll back to this snapshot" behind a confirmation. */
export function SnapshotRows({
  table,
  snapshotId,
  current,
  onClose,
}: {
  table: string;
  snapshotId: string;
  current: boolean;
  onClose: () => void;
}) {
  const ref = parseQualifiedName(table);
  const [rows, setRows] = useState<SqlResult>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const sql = `SELECT * FROM ${sqlTableName(ref, snapshotId)} LIMIT ${SAMPLE_ROWS}`;

  useEffect(() => {
    const stop = new AbortController();
    setRows(undefined);
    setError(undefined);
    setMessage(undefined);
    runSql(sql, SAMPLE_ROWS, stop.signal).then(setRows, (err: Error) => {
      if (!stop.signal.aborted) setError(err.message);
    });
    return () => stop.abort();
  }, [sql]);

  const rollback = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await rollbackTable(ref, snapshotId);
      setMessage(r.changed ? `Rolled back: ${r.from ?? 'none'} → ${r.to}.` : 'Already the current snapshot.');
      dialog.current?.close();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      dialog.current?.close();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="at-snapshot-title">
      <div className="page-head">
        <h2 id="at-snapshot-title">Rows at snapshot {snapshotId}</h2>
        <div className="actions">
          <button
            type="button"
            onClick={() => dialog.current?.showModal()}
            disabled={current || busy}
            title={current ? 'this is the current snapshot' : undefined}
          >
            Roll back to this snapshot
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      <p className="muted">
        <code>{sql}</code>
      </p>
      {message && (
        <p className="banner" role="status">
          {message}
        </p>
      )}
      {error && (
        <p className="banner banner-bad" role="alert">
          {error}
        </p>
      )}
      {rows && <ResultGrid result={rows} label={`Rows at snapshot ${snapshotId}`} />}
      {!rows && !error && <p className="muted">Loading…</p>}
      <dialog ref={dialog} aria-labelledby="rollback-title" className="confirm">
        <h2 id="rollback-title">Roll back {table}?</h2>
        <p>
          Snapshot <code>{snapshotId}</code> becomes the current one: readers see the table as it was then.
          Later snapshots are kept, so this can be undone by rolling forward with{' '}
          <code>sluice tables rollback --force</code>.
        </p>
        <div className="actions">
          <button type="button" onClick={() => void rollback()} disabled={busy}>
            Roll back
          </button>
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}

/** Rows a pipeline set aside for the table (`<table>__quarantine`), when there are any. */
export function Quarantine({ table }: { table: string }) {
  const name = `${table}__quarantine`;
  const load = useCallback(
    async (signal: AbortSignal): Promise<{ total: number; rows: SqlResult } | null> => {
      const ref = parseQualifiedName(name);
      if (!(await tableExists(ref, signal))) return null;
      const [count, rows] = await Promise.all([
        runSql(`SELECT count(*) AS n FROM ${sqlTableName(ref)}`, 1, signal),
        runSql(`SELECT * FROM ${sqlTableName(ref)} LIMIT 20`, 20, signal),
      ]);
      return { total: Number(count.rows[0]?.[0] ?? 0), rows };
    },
    [name],
  );
  const { data } = useLive(load, {
    match: (e) => e.type === 'table' && e.data.table === name,
    fallbackMs: 30_000,
  });
  if (!data) return null;
  return (
    <section className="panel" aria-labelledby="quarantine-title">
      <h2 id="quarantine-title">Quarantine</h2>
      <p className="muted">
        {data.total} row{data.total === 1 ? '' : 's'} set aside in <code>{name}</code>
        {data.total > data.rows.rows.length ? `; the first ${data.rows.rows.length}:` : ':'}
      </p>
      <ResultGrid result={data.rows} label="Quarantined rows" />
    </section>
  );
}

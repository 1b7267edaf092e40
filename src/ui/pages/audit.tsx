import { useCallback, useState } from 'react';
import { runSql } from '../api-sql';
import { usePoll } from '../use-poll';
import './runs.css';

const POLL_MS = 10_000;
const LIMIT = 500;
const OUTCOMES = ['ok', 'denied', 'failed'] as const;

/** A SQL string literal. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The query behind the page: the newest audit rows matching the filters. */
export function auditSql(f: { actor: string; action: string; outcome: string }): string {
  const where: string[] = [];
  if (f.actor.trim()) where.push(`actor ILIKE ${literal(`%${f.actor.trim()}%`)}`);
  if (f.action.trim()) where.push(`action ILIKE ${literal(`%${f.action.trim()}%`)}`);
  if (f.outcome) where.push(`outcome = ${literal(f.outcome)}`);
  return `SELECT CAST("at" AS VARCHAR) AS "at", actor, via, surface, action, resource, outcome, remote, detail
FROM sluice_system.audit${where.length ? `\nWHERE ${where.join(' AND ')}` : ''}
ORDER BY "at" DESC LIMIT ${LIMIT}`;
}

/**
 * Who did what: the newest rows of `sluice_system.audit` (logins, grants, queries, table
 * changes, runs), read through the SQL API with the caller's own permissions.
 */
export function AuditPage() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const sql = auditSql({ actor, action, outcome });
  const load = useCallback((signal: AbortSignal) => runSql(sql, LIMIT, signal), [sql]);
  const { data, error } = usePoll(load, POLL_MS);
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Audit</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          Cannot read sluice_system.audit: {error.message}
        </p>
      )}
      <div className="toolbar">
        <label>
          <span className="visually-hidden">Filter by actor</span>
          <input type="search" placeholder="Actor" value={actor} onChange={(e) => setActor(e.target.value)} />
        </label>
        <label>
          <span className="visually-hidden">Filter by action</span>
          <input
            type="search"
            placeholder="Action (commit, query, grant…)"
            value={action}
            onChange={(e) => setAction(e.target.value)}
          />
        </label>
        <label>
          <span className="visually-hidden">Outcome</span>
          <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">All outcomes</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {data ? `${data.rows.length}${data.rows.length === LIMIT ? '+' : ''} rows` : 'Loading…'}
        </span>
      </div>
      <div className="panel table-wrap">
        {data && (
          <table className="grid" aria-label="Audit rows">
            <thead>
              <tr>
                {['At', 'Actor', 'Via', 'Surface', 'Action', 'Resource', 'Outcome', 'Detail'].map((h) => (
                  <th key={h} scope="col">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r, i) => {
                const [at, who, via, surface, act, resource, result, , detail] = r as (string | null)[];
                return (
                  // Rows have no id; the newest-first order is stable between polls.
                  // biome-ignore lint/suspicious/noArrayIndexKey: see above
                  <tr key={i}>
                    <td>{at}</td>
                    <td>{who}</td>
                    <td>{via}</td>
                    <td>{surface}</td>
                    <td>{act}</td>
                    <td>
                      <code>{resource}</code>
                    </td>
                    <td className={result === 'ok' ? '' : 'error-text'}>{result}</td>
                    <td>
                      <code>{detail}</code>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

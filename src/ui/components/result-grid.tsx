import type { SqlResult } from '../api-sql';

/** A SQL value as a grid shows it. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The rows of a query result as a table; NULLs are muted. */
export function ResultGrid({ result, label }: { result: SqlResult; label?: string }) {
  return (
    <div className="table-wrap">
      <table className="grid" aria-label={label}>
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
  );
}

/** Queries through `POST /api/v1/sql` (JSON in, JSON out, row-limited). */

export interface SqlColumn {
  name: string;
  type: string;
}

export interface SqlResult {
  columns: SqlColumn[];
  rows: unknown[][];
  /** True when the server stopped at the row limit. */
  truncated: boolean;
  elapsedMs: number;
}

/** A failed query, with the position of the error in the text when the engine gave one. */
export class SqlError extends Error {
  constructor(
    message: string,
    readonly position?: { line: number; column: number },
  ) {
    super(message);
  }
}

/** Run one statement; at most `limit` rows come back. */
export async function runSql(sql: string, limit: number, signal: AbortSignal): Promise<SqlResult> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch('/api/v1/sql', {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ sql, limit }),
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new SqlError('cannot reach the server');
  }
  const body = (await res.json().catch(() => ({}))) as {
    columns?: SqlColumn[];
    rows?: unknown[][];
    truncated?: boolean;
    error?: { message?: string; position?: { line: number; column: number } };
  };
  if (!res.ok || body.error) {
    throw new SqlError(body.error?.message ?? `${res.status} ${res.statusText}`, body.error?.position);
  }
  return {
    columns: body.columns ?? [],
    rows: body.rows ?? [],
    truncated: body.truncated ?? false,
    elapsedMs: performance.now() - started,
  };
}

/** Queries through `POST /api/v1/sql` (JSON in, JSON out row-limited, or every row as Parquet). */

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

/** POST a request body to the SQL endpoint. */
async function post(body: unknown, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch('/api/v1/sql', {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new SqlError('cannot reach the server');
  }
}

/** The error a failed answer carries, or its HTTP status. */
async function answerError(res: Response): Promise<SqlError> {
  const body = (await res.json().catch(() => ({}))) as {
    error?: { message?: string; position?: { line: number; column: number } };
  };
  return new SqlError(body.error?.message ?? `${res.status} ${res.statusText}`, body.error?.position);
}

/** Every row of a query as a Parquet file (the server runs it again, without a row limit). */
export async function downloadParquet(sql: string, signal?: AbortSignal): Promise<Blob> {
  const res = await post({ sql, format: 'parquet' }, signal);
  if (!res.ok) throw await answerError(res);
  return res.blob();
}

/** Run one statement; at most `limit` rows come back. */
export async function runSql(sql: string, limit: number, signal: AbortSignal): Promise<SqlResult> {
  const started = performance.now();
  const res = await post({ sql, limit }, signal);
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

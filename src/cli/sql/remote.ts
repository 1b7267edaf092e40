/** Statements run by a Sluice server through POST /api/v1/sql (rows streamed as NDJSON, or a Parquet file). */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebStream } from 'node:stream/web';
import { BackendError, InvalidInputError, SluiceError } from '../../util/index.js';
import type { JsonValue, SqlRows, SqlRunner } from './types.js';

interface ErrorLine {
  error: { code?: string; message?: string; sqlState?: string; position?: { line: number; column: number } };
}

/** A statement's error as the server reported it. */
export class RemoteSqlError extends SluiceError {
  constructor(
    code: string,
    message: string,
    readonly sqlState?: string,
  ) {
    super(code, message);
  }
}

function remoteError(body: ErrorLine): RemoteSqlError {
  const e = body.error;
  const where = e.position ? ` (line ${e.position.line}, column ${e.position.column})` : '';
  return new RemoteSqlError(
    e.code ?? 'query_failed',
    `${e.message ?? 'the statement failed'}${where}`,
    e.sqlState,
  );
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  }
  if (buf.trim()) yield buf;
}

class RemoteRunner implements SqlRunner {
  constructor(
    readonly url: string,
    readonly readOnly: boolean,
  ) {}

  async #post(sql: string, format: 'ndjson' | 'parquet', signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.url}/api/v1/sql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: format === 'ndjson' ? 'application/x-ndjson' : PARQUET_TYPE,
          // A service token or JWT for servers that require credentials.
          ...(process.env.SLUICE_TOKEN ? { authorization: `Bearer ${process.env.SLUICE_TOKEN}` } : {}),
        },
        body: JSON.stringify({ sql, format, readOnly: this.readOnly || undefined }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new BackendError(
        `cannot reach ${this.url}: ${(err as Error).message}`,
        'is `sluice serve` running there?',
        {
          cause: err,
        },
      );
    }
  }

  async run(sql: string, signal: AbortSignal): Promise<SqlRows> {
    const res = await this.#post(sql, 'ndjson', signal);
    if (!res.ok || !res.body) throw remoteError(await errorOf(res));
    const it = lines(res.body)[Symbol.asyncIterator]();
    const first = await it.next();
    const head = JSON.parse(first.done ? '{}' : first.value) as {
      columns?: SqlRows['columns'];
      statementType?: string;
    };
    const out: SqlRows = {
      columns: head.columns ?? [],
      statementType: head.statementType ?? 'SELECT',
      rows: rowsOf(),
    };
    async function* rowsOf(): AsyncIterable<JsonValue[][]> {
      let batch: JsonValue[][] = [];
      for (let next = await it.next(); !next.done; next = await it.next()) {
        const parsed = JSON.parse(next.value) as
          | JsonValue[]
          | ErrorLine
          | { done: true; rowsChanged?: number };
        if (Array.isArray(parsed)) {
          batch.push(parsed);
          if (batch.length >= 2048) {
            yield batch;
            batch = [];
          }
        } else if ('error' in parsed) throw remoteError(parsed);
        else out.rowsChanged = parsed.rowsChanged;
      }
      if (batch.length) yield batch;
    }
    return out;
  }

  /**
   * The server writes the Parquet file and its bytes are saved as they arrive; a server
   * that cannot (an older one, or one whose engine lacks Parquet) sends rows to convert here.
   */
  async toParquet(sql: string, file: string, signal: AbortSignal): Promise<number> {
    const res = await this.#post(sql, 'parquet', signal);
    if (res.ok && res.body) {
      try {
        await saveBody(res.body, file);
      } catch (err) {
        if (signal.aborted) throw err;
        throw new BackendError(
          `the Parquet download from ${this.url} into ${file} failed: ${(err as Error).message}`,
          'check that the directory is writable and the server still runs, then retry',
          { cause: err },
        );
      }
      return Number(res.headers.get('x-sluice-row-count') ?? Number.NaN);
    }
    const error = await errorOf(res);
    if (!parquetUnsupported(res.status, error)) throw remoteError(error);
    return this.#parquetHere(sql, file, signal);
  }

  /** Rows fetched as NDJSON and written to Parquet by a local DuckDB. */
  async #parquetHere(sql: string, file: string, signal: AbortSignal): Promise<number> {
    const result = await this.run(sql, signal);
    const tmp = join(tmpdir(), `sluice-sql-${randomUUID()}.ndjson`);
    const names = result.columns.map((c) => c.name);
    const ws = createWriteStream(tmp);
    let n = 0;
    try {
      for await (const batch of result.rows) {
        for (const row of batch) {
          const o: Record<string, JsonValue> = {};
          names.forEach((name, i) => {
            o[name] = row[i] ?? null;
          });
          if (!ws.write(`${JSON.stringify(o)}\n`))
            await new Promise<void>((r) => ws.once('drain', () => r()));
          n++;
        }
      }
      await new Promise<void>((resolve, reject) =>
        ws.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      const { openDuck, sqlString } = await import('../../duck/index.js');
      const duck = await openDuck({ maxConnections: 1 });
      try {
        const cols = result.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
        await duck.run(
          `COPY (SELECT * FROM read_json(${sqlString(tmp)}, format = 'newline_delimited', columns = {${cols}})) TO ${sqlString(file)} (FORMAT parquet)`,
        );
      } finally {
        await duck.close();
      }
      return n;
    } finally {
      ws.destroy();
      await rm(tmp, { force: true });
    }
  }

  async close(): Promise<void> {}
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';

async function errorOf(res: Response): Promise<ErrorLine> {
  return (await res.json().catch(() => ({ error: { message: `HTTP ${res.status}` } }))) as ErrorLine;
}

/**
 * Servers before `"format": "parquet"` reject the field as input (400, invalid_input, a message
 * naming `format`); a server whose engine cannot write Parquet answers 501 not_implemented.
 */
function parquetUnsupported(status: number, body: ErrorLine): boolean {
  const e = body.error ?? {};
  if (status === 501) return e.code === 'not_implemented';
  return status === 400 && e.code === 'invalid_input' && /^format\b/.test(e.message ?? '');
}

/** Stream a body into `file` through a temporary file beside it, so a failed download leaves no partial file. */
async function saveBody(body: ReadableStream<Uint8Array>, file: string): Promise<void> {
  const part = join(dirname(file), `.${basename(file)}.${randomUUID()}.part`);
  try {
    await pipeline(Readable.fromWeb(body as WebStream<Uint8Array>), createWriteStream(part));
    await rename(part, file);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

/** A runner against the server at `url` (http://host:port). @throws InvalidInputError for a bad URL */
export function openRemote(url: string, readOnly: boolean): SqlRunner {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`--server must be a URL such as http://127.0.0.1:8080, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new InvalidInputError(`--server must be an http(s) URL, got "${url}"`);
  return new RemoteRunner(parsed.origin + parsed.pathname.replace(/\/+$/, ''), readOnly);
}

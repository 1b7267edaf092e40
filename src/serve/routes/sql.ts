/**
 * `POST /api/v1/sql`: run one statement. JSON in; JSON out (rows up to a limit), NDJSON
 * streamed as DuckDB produces rows, or a Parquet file of every row that DuckDB writes to disk
 * and the server streams from there. A client that disconnects cancels its statement.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import {
  type Engine,
  type EngineSession,
  type ExportedFile,
  jsonRow,
  type QueryResult,
  type SessionUser,
  sqlStateOf,
} from '../../engine/index.js';
import { errorMessage, HTTP_STATUS_BY_CODE, redactText, SluiceError } from '../../util/index.js';

/** Rows a JSON answer holds unless the request asks for fewer. */
export const DEFAULT_JSON_ROW_LIMIT = 10_000;
/** Most rows a JSON answer may hold; larger results stream as NDJSON. */
export const MAX_JSON_ROW_LIMIT = 1_000_000;

const requestSchema = z.strictObject({
  sql: z.string().min(1, { error: 'expected a SQL statement' }).max(1_000_000),
  params: z.array(z.unknown()).max(10_000).optional(),
  format: z.enum(['json', 'ndjson', 'parquet']).optional(),
  limit: z.number().int().min(1).max(MAX_JSON_ROW_LIMIT).optional(),
  timeoutMs: z.number().int().min(0).max(86_400_000).optional(),
  readOnly: z.boolean().optional(),
});

/** What the SQL routes need. */
export interface SqlRouteOptions {
  engine: Engine;
  /** The session user of a request (default: `sluice`, allowed to write; the body may ask for read-only). */
  userOf?: (c: Context) => SessionUser | Promise<SessionUser>;
  /** Opens the request's session (e.g. under the caller's table policy); overrides `userOf`. */
  openSession?: (c: Context, o: { readOnly: boolean }) => Promise<EngineSession>;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    sqlState: string;
    position?: { offset: number; line: number; column: number };
  };
}

function statusOf(err: unknown, state: string): number {
  if (state === '42501') return 403;
  if (state === '57014') return 408;
  if (state === '53000') return 429;
  if (state === '53200') return 503;
  if (/^(42|22|0A|3F)/.test(state)) return 400;
  return err instanceof SluiceError ? (HTTP_STATUS_BY_CODE[err.code] ?? 500) : 500;
}

/** The error body of a failed statement, with its position in the SQL as offset, line and column. */
export function sqlErrorBody(err: unknown, sql: string): { status: number; body: ErrorBody } {
  const state = sqlStateOf(err);
  const status = statusOf(err, state);
  const known = err instanceof SluiceError;
  const body: ErrorBody = {
    error: {
      code: known ? err.code : 'internal_error',
      message: known || status < 500 ? redactText(errorMessage(err)) : 'internal error (see the server log)',
      sqlState: state,
    },
  };
  const offset = (err as { position?: unknown }).position;
  if (typeof offset === 'number' && offset >= 0 && offset <= sql.length) {
    const before = sql.slice(0, offset).split('\n');
    body.error.position = {
      offset,
      line: before.length,
      column: (before[before.length - 1]?.length ?? 0) + 1,
    };
  }
  return { status, body };
}

function columnsOf(result: QueryResult) {
  return result.columns.map((c) => ({ name: c.name, type: c.type.toString() }));
}

async function jsonAnswer(result: QueryResult, limit: number, started: number) {
  const rows: unknown[] = [];
  let truncated = false;
  for await (const batch of result.batches()) {
    for (const row of batch) {
      if (rows.length === limit) {
        truncated = true;
        break;
      }
      rows.push(jsonRow(row));
    }
    if (truncated) break;
  }
  await result.close();
  return {
    columns: columnsOf(result),
    rows,
    rowCount: rows.length,
    truncated,
    statementType: result.statementType,
    ...(result.rowsChanged !== undefined ? { rowsChanged: result.rowsChanged } : {}),
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** NDJSON: a header line, one JSON array per row, a closing line (or an error line). */
function ndjsonStream(
  session: EngineSession,
  result: QueryResult,
  sql: string,
  started: number,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const it = result.batches()[Symbol.asyncIterator]();
  let rowCount = 0;
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await result.close();
    await session.close();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const head = { columns: columnsOf(result), statementType: result.statementType };
      controller.enqueue(enc.encode(`${JSON.stringify(head)}\n`));
    },
    async pull(controller) {
      try {
        const next = await it.next();
        if (next.done) {
          const tail = {
            done: true,
            rowCount,
            ...(result.rowsChanged !== undefined ? { rowsChanged: result.rowsChanged } : {}),
            elapsedMs: Math.round(performance.now() - started),
          };
          controller.enqueue(enc.encode(`${JSON.stringify(tail)}\n`));
          await finish();
          controller.close();
          return;
        }
        rowCount += next.value.length;
        controller.enqueue(enc.encode(next.value.map((r) => `${JSON.stringify(jsonRow(r))}\n`).join('')));
      } catch (err) {
        controller.enqueue(enc.encode(`${JSON.stringify(sqlErrorBody(err, sql).body)}\n`));
        await finish();
        controller.close();
      }
    },
    async cancel() {
      // The client went away: stop the statement.
      await finish();
    },
  });
}

/** The MIME type of Parquet files (registered with IANA). */
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

/**
 * A written file as the response body. The file is opened and then deleted at once: its
 * blocks stay readable through the open descriptor until the stream closes, which happens
 * when it ends, fails or the client goes away, so nothing is left behind in any case.
 */
async function fileBody(file: ExportedFile): Promise<{ body: ReadableStream<Uint8Array>; size: number }> {
  const handle = await open(file.path, 'r');
  try {
    const { size } = await handle.stat();
    await file.remove();
    const stream = createReadStream('', { fd: handle, highWaterMark: 256 * 1024 });
    return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, size };
  } catch (err) {
    await handle.close();
    await file.remove();
    throw err;
  }
}

async function parquetAnswer(c: Context, session: EngineSession, input: z.infer<typeof requestSchema>) {
  if (!session.exportParquet)
    return c.json(
      {
        error: {
          code: 'not_implemented',
          message: 'this SQL engine cannot write Parquet',
          sqlState: '0A000',
        },
      },
      501,
    );
  const file = await session.exportParquet(input.sql, {
    params: input.params,
    timeoutMs: input.timeoutMs,
    signal: c.req.raw.signal,
  });
  await session.close();
  const { body, size } = await fileBody(file);
  return c.body(body, 200, {
    'content-type': PARQUET_CONTENT_TYPE,
    'content-disposition': 'attachment; filename="result.parquet"',
    'content-length': String(size),
    'x-sluice-row-count': String(file.rows),
    'cache-control': 'no-store',
  });
}

async function openFor(c: Context, o: SqlRouteOptions, readOnly: boolean): Promise<EngineSession> {
  if (o.openSession) return o.openSession(c, { readOnly });
  const base = (await o.userOf?.(c)) ?? { name: 'sluice', readOnly: false };
  return o.engine.openSession({ ...base, readOnly: base.readOnly || readOnly });
}

/** Routes of `POST /sql` (mounted under /api/v1). */
export function sqlRoutes(o: SqlRouteOptions): Hono {
  const app = new Hono();
  app.post('/sql', async (c) => {
    let input: z.infer<typeof requestSchema>;
    try {
      input = requestSchema.parse(await c.req.json());
    } catch (err) {
      const message =
        err instanceof z.ZodError
          ? err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
          : 'the body must be JSON: {"sql": "SELECT ..."}';
      return c.json({ error: { code: 'invalid_input', message, sqlState: '22023' } }, 400);
    }
    const ndjson =
      input.format === 'ndjson' ||
      (input.format === undefined && /application\/x-ndjson/.test(c.req.header('accept') ?? ''));
    const started = performance.now();
    const session = await openFor(c, o, input.readOnly === true);
    let result: QueryResult;
    try {
      if (input.format === 'parquet') return await parquetAnswer(c, session, input);
      result = await session.run(input.sql, {
        params: input.params,
        timeoutMs: input.timeoutMs,
        signal: c.req.raw.signal,
      });
      if (ndjson)
        return c.body(ndjsonStream(session, result, input.sql, started), 200, {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'cache-control': 'no-store',
        });
      const answer = await jsonAnswer(result, input.limit ?? DEFAULT_JSON_ROW_LIMIT, started);
      await session.close();
      return c.json(answer);
    } catch (err) {
      await session.close();
      const { status, body } = sqlErrorBody(err, input.sql);
      return c.json(body, status as 400);
    }
  });
  return app;
}

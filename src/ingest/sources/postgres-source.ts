/**
 * The PostgreSQL source: a table read in chunks by key range (keyset pagination on `key`),
 * each chunk one NDJSON payload rendered by the server (`row_to_json`). With `cursor`, only
 * rows above the last committed maximum are read. The last key travels with each chunk into
 * the ledger, so a read cut by a crash continues after it.
 */
import { randomUUID } from 'node:crypto';
import { BackendError, redactUrl } from '../../util/index.js';
import type { PostgresSourceSpec } from '../spec.js';
import type { FetchedPayload, Source, SourceContext } from './types.js';

/** Where a chunked read continues. */
interface ChunkState {
  /** Key of the last row read, as text (undefined before the first chunk). */
  after?: string;
  /** Incremental lower bound of the whole read, as text. */
  since?: string;
}

const ident = (name: string) =>
  name
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');

/** The PostgreSQL source of a spec. */
export function postgresSource(spec: PostgresSourceSpec): Source {
  return { cursorField: spec.cursor, fetch: (ctx) => readChunks(spec, ctx) };
}

async function* readChunks(spec: PostgresSourceSpec, ctx: SourceContext): AsyncIterable<FetchedPayload> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: spec.url, application_name: 'sluice-ingest' });
  try {
    await client.connect();
  } catch (err) {
    throw new BackendError(
      `cannot connect to PostgreSQL ${redactUrl(spec.url)}: ${(err as Error).message}`,
      'check source.postgres.url',
      {
        cause: err,
      },
    );
  }
  const abort = () => void client.end().catch(() => {});
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    const open = ctx.openEpochs.find((o) => o.stream === '');
    const epoch = open?.epoch ?? randomUUID().slice(0, 13);
    let seq = open ? open.seq + 1 : 0;
    let state: ChunkState | undefined = open ? (open.nextRequest as ChunkState) : { since: ctx.cursor[''] };
    const cols = spec.columns?.length ? spec.columns.map((c) => ident(c)).join(', ') : '*';
    const key = ident(spec.key);
    while (state) {
      ctx.signal.throwIfAborted();
      const where: string[] = [];
      const params: unknown[] = [];
      if (state.after !== undefined) {
        params.push(state.after);
        where.push(`${key} > $${params.length}`);
      }
      if (spec.cursor && state.since !== undefined) {
        params.push(state.since);
        where.push(`${ident(spec.cursor)} > $${params.length}`);
      }
      params.push(spec.chunk_rows);
      const sql = `SELECT row_to_json(t)::text AS j, (t.${key})::text AS k FROM (SELECT ${cols}${spec.columns?.length && !spec.columns.includes(spec.key) ? `, ${key}` : ''} FROM ${ident(spec.table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} LIMIT $${params.length}) AS t`;
      let rows: { j: string; k: string }[];
      try {
        rows = (await client.query<{ j: string; k: string }>(sql, params)).rows;
      } catch (err) {
        ctx.signal.throwIfAborted();
        throw new BackendError(
          `PostgreSQL source ${spec.table}: ${(err as Error).message}`,
          'check table, key and cursor columns',
          { cause: err },
        );
      }
      const last = rows.at(-1);
      const next: ChunkState | undefined =
        rows.length < spec.chunk_rows || !last ? undefined : { after: last.k, since: state.since };
      yield {
        stream: '',
        epoch,
        seq: seq++,
        body: Buffer.from(rows.map((r) => r.j).join('\n') + (rows.length ? '\n' : '')),
        format: 'ndjson',
        recordCount: rows.length,
        sourceUri: `${redactUrl(spec.url)}#${spec.table}`,
        request: state,
        nextRequest: next,
        fetchedAt: new Date(),
      };
      state = next;
    }
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    await client.end().catch(() => {});
  }
}

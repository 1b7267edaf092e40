/**
 * The initial snapshot: each table is copied inside the snapshot exported when the slot was
 * created (so the copy plus the stream from the slot's consistent point miss nothing and
 * repeat nothing), in key order, one chunk per commit. Each chunk's commit records the last
 * key it copied, so a crash resumes after it.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { sqlString } from '../../duck/index.js';
import type { Table } from '../../table/index.js';
import { cdcMarks, SNAPSHOT_KEY } from './lake.js';
import { connectSource, type SourceTable } from './source.js';
import { pgIdent, typedColumns } from './types.js';

/** One table to copy. */
export interface CopyTarget {
  source: SourceTable;
  table: Table;
}

/** How to copy. */
export interface CopyOptions {
  url: string;
  /** The exported snapshot; without it (resuming after a crash) each table is read as of now. */
  snapshotName?: string;
  chunkRows: number;
  parallel: number;
  properties: Record<string, string>;
  signal?: AbortSignal;
  onChunk?: (table: string, rows: number) => void;
  onTableDone?: (table: string) => Promise<void>;
}

/** Copy every table (up to `parallel` at once). Returns the rows copied. */
export async function copyTables(targets: CopyTarget[], o: CopyOptions): Promise<number> {
  let rows = 0;
  const queue = [...targets];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const copied = await copyTable(t, o);
      rows += copied;
      await o.onTableDone?.(t.source.name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, targets.length) }, worker));
  return rows;
}

async function copyTable({ source, table }: CopyTarget, o: CopyOptions): Promise<number> {
  let lastKey = cdcMarks(table).snapshotKey;
  const client = await connectSource(o.url);
  let copied = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (o.snapshotName) await client.query(`SET TRANSACTION SNAPSHOT ${pgLiteral(o.snapshotName)}`);
    for (;;) {
      o.signal?.throwIfAborted();
      const chunk = await readChunk(client, source, lastKey, o.chunkRows);
      if (chunk.rows.length === 0) break;
      lastKey = chunk.lastKey;
      await writeChunk(
        table,
        source,
        chunk.rows,
        { ...o.properties, [SNAPSHOT_KEY]: JSON.stringify(lastKey) },
        o,
      );
      copied += chunk.rows.length;
      o.onChunk?.(source.name, chunk.rows.length);
      if (chunk.rows.length < o.chunkRows) break;
    }
    await client.query('COMMIT');
  } finally {
    await client.end().catch(() => {});
  }
  return copied;
}

function pgLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

async function readChunk(
  client: pg.Client,
  t: SourceTable,
  after: string[] | undefined,
  limit: number,
): Promise<{ rows: string[]; lastKey: string[] }> {
  const values = t.columns.map((c) => `${pgIdent(c.name)}::text`).join(', ');
  const keyCols = t.key.map(pgIdent).join(', ');
  const keyText = t.key.map((k) => `${pgIdent(k)}::text`).join(', ');
  const where = after ? `WHERE (${keyCols}) > (${t.key.map((_, i) => `$${i + 1}`).join(', ')})` : '';
  const res = await client.query<[string, string]>({
    text: `SELECT to_json(ARRAY[${values}]::text[])::text, to_json(ARRAY[${keyText}]::text[])::text FROM ${pgIdent(t.schema)}.${pgIdent(t.table)} ${where} ORDER BY ${keyCols} LIMIT ${limit}`,
    values: after ?? [],
    rowMode: 'array',
  });
  const last = res.rows[res.rows.length - 1];
  return {
    rows: res.rows.map((r) => r[0]),
    lastKey: last ? (JSON.parse(last[1]) as string[]) : (after ?? []),
  };
}

async function writeChunk(
  table: Table,
  t: SourceTable,
  rows: string[],
  properties: Record<string, string>,
  o: CopyOptions,
): Promise<void> {
  const file = join(tmpdir(), `sluice-cdc-${randomUUID()}.ndjson`);
  await writeFile(file, `${rows.join('\n')}\n`);
  try {
    await table.append(
      {
        sql: `SELECT ${typedColumns(t.columns, '__j')} FROM read_json(${sqlString(file)}, format = 'newline_delimited', records = false, columns = {'__j': 'VARCHAR[]'})`,
      },
      { properties, signal: o.signal },
    );
  } finally {
    await rm(file, { force: true });
  }
}

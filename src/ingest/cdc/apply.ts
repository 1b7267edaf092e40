/**
 * Commit one table batch as one Iceberg snapshot: the latest image per key is staged as
 * NDJSON, typed in DuckDB (unchanged TOASTed values filled from the lake rows), and written
 * with the batch's LSN in the snapshot summary: an upsert when the batch only inserts and
 * updates, an overwrite of the touched keys when it deletes, of everything after a TRUNCATE.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Duck, sqlString } from '../../duck/index.js';
import { quoteIdent, type Table } from '../../table/index.js';
import type { TableBatch } from './batch.js';
import { LSN_KEY } from './lake.js';
import { formatLsn } from './pgoutput.js';
import { castFromText, duckTypeOf, type SourceColumn } from './types.js';

/** What a batch commit writes besides rows. */
export interface ApplyContext {
  /** The DuckDB pool the table writes through. */
  duck: Duck;
  properties: Record<string, string>;
  signal?: AbortSignal;
}

let stageCounter = 0;

/** Commit the batch's row images to the table. Returns the number of keys written or deleted. */
export async function applyBatch(
  table: Table,
  batch: TableBatch,
  columns: readonly SourceColumn[],
  key: readonly string[],
  o: ApplyContext,
): Promise<number> {
  const props = { ...o.properties, [LSN_KEY]: formatLsn(batch.lastLsn) };
  const names = table.schema().fields.map((f) => f.name);
  const cols = names.map((n) => columns.find((c) => c.name === n) ?? { name: n, typeOid: 25, typmod: -1 });
  const lines: string[] = [];
  let toast = false;
  let deletes = false;
  for (const img of batch.images.values()) {
    const mask = img.deleted
      ? ''
      : names.filter((n) => img.values.get(n) === undefined && img.values.has(n)).join('\u0001');
    if (mask) toast = true;
    if (img.deleted) deletes = true;
    // The lake row to read unchanged TOASTed values from: the image's own key, or the old key of a moved row.
    const lookup = img.lookup ?? key.map((k) => img.values.get(k) ?? null);
    lines.push(
      JSON.stringify([
        img.deleted ? '1' : '0',
        mask,
        ...lookup,
        ...names.map((n) => img.values.get(n) ?? null),
      ]),
    );
  }
  const stage = `__sluice_cdc_stage_${process.pid}_${++stageCounter}`;
  const file = join(tmpdir(), `sluice-cdc-${randomUUID()}.ndjson`);
  await writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  const keyCols = key.map((k) => cols.find((c) => c.name === k) ?? { name: k, typeOid: 25, typmod: -1 });
  const typed = [
    ...keyCols.map((c, i) => `${castFromText(`__j[${i + 3}]`, duckTypeOf(c))} AS __lookup_${i}`),
    ...cols.map(
      (c, i) => `${castFromText(`__j[${i + 3 + key.length}]`, duckTypeOf(c))} AS ${quoteIdent(c.name)}`,
    ),
  ];
  const q = (n: string) => quoteIdent(n);
  try {
    // A main-schema table of the shared DuckDB instance: visible to the table's own connections.
    await o.duck.run(
      lines.length === 0
        ? `CREATE TABLE ${stage} AS SELECT false AS __deleted, '' AS __toast, ${keyCols.map((c, i) => `CAST(NULL AS ${duckTypeOf(c)}) AS __lookup_${i}, `).join('')}${cols.map((c) => `CAST(NULL AS ${duckTypeOf(c)}) AS ${q(c.name)}`).join(', ')} LIMIT 0`
        : `CREATE TABLE ${stage} AS SELECT __j[1] = '1' AS __deleted, __j[2] AS __toast, ${typed.join(', ')} FROM read_json(${sqlString(file)}, format = 'newline_delimited', records = false, columns = {'__j': 'VARCHAR[]'})`,
      undefined,
      { signal: o.signal },
    );
    let rows = `SELECT ${names.map(q).join(', ')} FROM ${stage} WHERE NOT __deleted`;
    if (toast) {
      const plan = await table.planScan({ signal: o.signal });
      // Unchanged TOASTed values come from the lake row of the lookup key (the old key of a
      // moved row); when a replay finds none there, the new key's current lake row keeps its own.
      const scan = table.scanSql(plan);
      const lake = `SELECT *, true AS __hit FROM (${scan})`;
      const on = (alias: string, other: (k: string, i: number) => string) =>
        key.map((k, i) => `${alias}.${q(k)} = ${other(k, i)}`).join(' AND ');
      const pick = names.map(
        (n) =>
          `CASE WHEN NOT list_contains(string_split(__new.__toast, '\u0001'), ${sqlString(n)}) THEN __new.${q(n)} WHEN __old.__hit THEN __old.${q(n)} ELSE __cur.${q(n)} END AS ${q(n)}`,
      );
      rows = `SELECT ${pick.join(', ')} FROM ${stage} AS __new LEFT JOIN (${lake}) AS __old ON ${on('__old', (_k, i) => `__new.__lookup_${i}`)} LEFT JOIN (${lake}) AS __cur ON ${on('__cur', (k) => `__new.${q(k)}`)} WHERE NOT __new.__deleted`;
    }
    const write = { properties: props, signal: o.signal };
    if (batch.truncated) await table.overwrite({ sql: rows }, { ...write, where: 'true' });
    else if (!deletes) await table.upsert({ sql: rows }, { ...write, key: [...key] });
    else {
      const tuple = key.map(q).join(', ');
      await table.overwrite(
        { sql: rows },
        { ...write, where: `(${tuple}) IN (SELECT ${tuple} FROM ${stage})` },
      );
    }
    return batch.images.size;
  } finally {
    await o.duck.run(`DROP TABLE IF EXISTS ${stage}`).catch(() => {});
    await rm(file, { force: true });
  }
}

/** Append the batch's change stream rows to `<table>__changes`. */
export async function applyChanges(table: Table, batch: TableBatch, o: ApplyContext): Promise<void> {
  const file = join(tmpdir(), `sluice-cdc-${randomUUID()}.ndjson`);
  await writeFile(file, `${batch.changes.map((c) => JSON.stringify(c)).join('\n')}\n`);
  try {
    await table.append(
      {
        sql: `SELECT op, lsn, CAST(seq AS BIGINT) AS seq, make_timestamptz(CAST(commitTimeMs AS BIGINT) * 1000) AS commit_time, before, after FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = {op: 'VARCHAR', lsn: 'VARCHAR', seq: 'BIGINT', commitTimeMs: 'BIGINT', before: 'VARCHAR', after: 'VARCHAR'})`,
      },
      { properties: { ...o.properties, [LSN_KEY]: formatLsn(batch.lastLsn) }, signal: o.signal },
    );
  } finally {
    await rm(file, { force: true });
  }
}

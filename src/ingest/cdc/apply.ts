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
import type { KeyImage, TableBatch } from './batch.js';
import { LSN_KEY } from './lake.js';
import { formatLsn } from './pgoutput.js';
import { castFromText, duckTypeOf, type SourceColumn } from './types.js';

/** Text values of a source row by column name (SQL NULL as null). */
export type SourceRow = Map<string, string | null>;

/** What a batch commit writes besides rows. */
export interface ApplyContext {
  /** The DuckDB pool the table writes through. */
  duck: Duck;
  properties: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Read the current rows of these keys (text values, in key column order) from the source;
   * rows no longer there are absent from the result, which is keyed by the keys' JSON.
   */
  readSource?: (keys: (string | null)[][]) => Promise<Map<string, SourceRow>>;
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
  let images = [...batch.images.values()];
  const stage = `__sluice_cdc_stage_${process.pid}_${++stageCounter}`;
  const file = join(tmpdir(), `sluice-cdc-${randomUUID()}.ndjson`);
  const keyCols = key.map((k) => cols.find((c) => c.name === k) ?? { name: k, typeOid: 25, typmod: -1 });
  const typed = [
    ...keyCols.map((c, i) => `${castFromText(`__j[${i + 3}]`, duckTypeOf(c))} AS __lookup_${i}`),
    ...cols.map(
      (c, i) => `${castFromText(`__j[${i + 3 + key.length}]`, duckTypeOf(c))} AS ${quoteIdent(c.name)}`,
    ),
  ];
  const q = (n: string) => quoteIdent(n);
  /** The images as a DuckDB table: flags, lookup key and values typed from their text. */
  const stageImages = async (): Promise<{ toast: boolean; deletes: boolean }> => {
    const lines: string[] = [];
    let toast = false;
    let deletes = false;
    images.forEach((img, i) => {
      const mask = img.deleted ? '' : unfilled(img, names).join('\u0001');
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
          String(i),
        ]),
      );
    });
    await writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    const at = 3 + key.length + cols.length;
    await o.duck.run(
      lines.length === 0
        ? `CREATE OR REPLACE TABLE ${stage} AS SELECT false AS __deleted, '' AS __toast, ${keyCols.map((c, i) => `CAST(NULL AS ${duckTypeOf(c)}) AS __lookup_${i}, `).join('')}${cols.map((c) => `CAST(NULL AS ${duckTypeOf(c)}) AS ${q(c.name)}`).join(', ')}, 0 AS __i LIMIT 0`
        : `CREATE OR REPLACE TABLE ${stage} AS SELECT __j[1] = '1' AS __deleted, __j[2] AS __toast, ${typed.join(', ')}, CAST(__j[${at}] AS INTEGER) AS __i FROM read_json(${sqlString(file)}, format = 'newline_delimited', records = false, columns = {'__j': 'VARCHAR[]'})`,
      undefined,
      { signal: o.signal },
    );
    return { toast, deletes };
  };
  try {
    // A main-schema table of the shared DuckDB instance: visible to the table's own connections.
    let { toast, deletes } = await stageImages();
    let rows = `SELECT ${names.map(q).join(', ')} FROM ${stage} WHERE NOT __deleted`;
    if (toast) {
      const plan = await table.planScan({ signal: o.signal });
      // Unchanged TOASTed values come from the lake row of the lookup key (the old key of a
      // moved row); when a replay finds none there, the new key's current lake row keeps its own.
      // An image with such values and neither row is a replay over an initial copy resumed
      // after a crash (copied as of later, without the row): it is left out rather than
      // written with NULLs, and the changes after it bring the row to its state at the source.
      const scan = table.scanSql(plan);
      const lake = `SELECT *, true AS __hit FROM (${scan})`;
      const on = (alias: string, other: (k: string, i: number) => string) =>
        key.map((k, i) => `${alias}.${q(k)} = ${other(k, i)}`).join(' AND ');
      const pick = names.map(
        (n) =>
          `CASE WHEN NOT list_contains(string_split(__new.__toast, '\u0001'), ${sqlString(n)}) THEN __new.${q(n)} WHEN __old.__hit THEN __old.${q(n)} ELSE __cur.${q(n)} END AS ${q(n)}`,
      );
      const joined = `${stage} AS __new LEFT JOIN (${lake}) AS __old ON ${on('__old', (_k, i) => `__new.__lookup_${i}`)} LEFT JOIN (${lake}) AS __cur ON ${on('__cur', (k) => `__new.${q(k)}`)}`;
      if (o.readSource) {
        const missing = await o.duck.all<{ i: number }>(
          `SELECT __new.__i AS i FROM ${joined} WHERE NOT __new.__deleted AND __new.__toast <> '' AND __old.__hit IS NULL AND __cur.__hit IS NULL`,
          undefined,
          { signal: o.signal },
        );
        if (missing.length > 0) {
          images = await fillFromSource(images, new Set(missing.map((m) => m.i)), key, names, o.readSource);
          ({ toast, deletes } = await stageImages());
        }
      }
      rows = `SELECT ${pick.join(', ')} FROM ${stage} AS __new LEFT JOIN (${lake}) AS __old ON ${on('__old', (_k, i) => `__new.__lookup_${i}`)} LEFT JOIN (${lake}) AS __cur ON ${on('__cur', (k) => `__new.${q(k)}`)} WHERE NOT __new.__deleted AND (__new.__toast = '' OR __old.__hit OR __cur.__hit)`;
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
    return images.length;
  } finally {
    await o.duck.run(`DROP TABLE IF EXISTS ${stage}`).catch(() => {});
    await rm(file, { force: true });
  }
}

/** Columns of an image whose unchanged TOASTed value is still to be filled. */
const unfilled = (img: KeyImage, names: readonly string[]) =>
  names.filter((n) => img.values.get(n) === undefined && img.values.has(n));

/**
 * Images at `positions` whose unchanged TOASTed values no lake row holds take them from the
 * source row of their key as it is now (later changes of those values carry them in full);
 * an image whose row is gone from the source is dropped, as a later change deletes or moves it.
 */
async function fillFromSource(
  images: KeyImage[],
  positions: ReadonlySet<number>,
  key: readonly string[],
  names: readonly string[],
  readSource: NonNullable<ApplyContext['readSource']>,
): Promise<KeyImage[]> {
  const keyOf = (img: KeyImage) => key.map((k) => img.values.get(k) ?? null);
  const found = await readSource(images.filter((_, i) => positions.has(i)).map(keyOf));
  return images.flatMap((img, i) => {
    if (!positions.has(i)) return [img];
    const row = found.get(JSON.stringify(keyOf(img)));
    if (!row) return [];
    const values = new Map(img.values);
    for (const n of unfilled(img, names)) values.set(n, row.get(n) ?? null);
    return [{ ...img, values, lookup: undefined }];
  });
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

/**
 * Staging a batch of raw objects for DuckDB: local paths from the store, XML/XLSX converted
 * to NDJSON, and one view over all of them with lineage columns. Payloads DuckDB cannot read
 * are found one by one and set aside (they are quarantined whole, with DuckDB's message).
 */
import { join } from 'node:path';
import { type DuckConnection, firstLine, isUserQueryError } from '../../duck/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { errorMessage } from '../../util/index.js';
import type { RawObject } from '../ledger.js';
import { recordColumns } from '../sink/schema.js';
import type { CsvOptions } from '../spec-common.js';
import { xlsxToNdjson, xmlToNdjson } from './convert.js';
import type { JsonRecordType } from './json-schema.js';
import { isDocumentBatch, type LoadItem, readerSql } from './reader.js';

/** How payloads of the task are read. */
export interface ReadOptions {
  records: string;
  csv?: CsvOptions;
  sheet?: string | number;
  /** DuckDB's memory limit, bounding what is read into memory at once. */
  memoryLimitBytes: number;
}

/** A staged batch. */
export interface StagedBatch {
  /** View of the records with lineage columns, or undefined when no payload holds records. */
  relation?: string;
  /** Payloads that cannot be read, with the reason. */
  malformed: { object: RawObject; reason: string }[];
  /** The records were read with the record type known from earlier batches (no inference). */
  knownType?: boolean;
}

let counter = 0;

/** Batches of several payloads up to this size (and a quarter of the memory limit) are read into a DuckDB table. */
const MATERIALIZE_MAX_BYTES = 256 * 1024 ** 2;

/** Whether a batch is many small payloads, worth reading once into a table; else it is streamed through a view. */
export function isSmallBatch(objects: readonly RawObject[], memoryLimitBytes: number): boolean {
  const bytes = objects.reduce((n, x) => n + x.size, 0);
  return objects.length > 1 && bytes <= Math.min(MATERIALIZE_MAX_BYTES, memoryLimitBytes / 4);
}

async function itemOf(
  store: ObjectStore,
  o: RawObject,
  read: ReadOptions,
  stagingDir: string,
  signal?: AbortSignal,
): Promise<LoadItem> {
  const localPath = await store.localPath(o.id, { signal });
  if (o.format === 'xml' || o.format === 'xlsx') {
    const out = join(stagingDir, `${++counter}.ndjson`);
    if (o.format === 'xml') await xmlToNdjson(localPath, out, read.records, o.compression);
    else await xlsxToNdjson(localPath, out, read.sheet);
    return { key: o.id, localPath: out, format: 'ndjson', records: '' };
  }
  return { key: o.id, localPath, format: o.format, records: read.records, csv: read.csv, fields: o.fields };
}

async function readable(
  conn: DuckConnection,
  item: LoadItem,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    await conn.all(`SELECT count(*) FROM (${readerSql([item])})`, undefined, { signal });
    return undefined;
  } catch (err) {
    // Only errors about the data mark a payload unreadable; engine errors (memory, disk) propagate.
    if (!isUserQueryError(err)) throw err;
    return firstLine(errorMessage(err));
  }
}

/**
 * Stage `objects` as one view. With `probe`, every payload is checked to be readable first
 * (after a failed attempt); otherwise the view is only bound.
 */
export async function stageBatch(
  conn: DuckConnection,
  store: ObjectStore,
  objects: readonly RawObject[],
  read: ReadOptions,
  stagingDir: string,
  o: { probe: boolean; rowNumbers: boolean; recordType?: JsonRecordType; signal?: AbortSignal },
): Promise<StagedBatch> {
  const malformed: StagedBatch['malformed'] = [];
  const items: LoadItem[] = [];
  for (const obj of objects) {
    if (obj.malformed) {
      malformed.push({ object: obj, reason: obj.malformed });
      continue;
    }
    if (obj.size === 0 || obj.recordCount === 0) continue;
    let item: LoadItem;
    try {
      item = await itemOf(store, obj, read, stagingDir, o.signal);
    } catch (err) {
      if (o.signal?.aborted) throw err;
      malformed.push({ object: obj, reason: `cannot read ${obj.format}: ${firstLine(errorMessage(err))}` });
      continue;
    }
    if (o.probe) {
      const problem = await readable(conn, item, o.signal);
      if (problem) {
        malformed.push({ object: obj, reason: `cannot read ${obj.format}: ${problem}` });
        continue;
      }
    }
    items.push(item);
  }
  if (items.length === 0) return { malformed };
  const relation = `__ingest_batch_${++counter}`;
  // Small batches (API pages) are read once into a table: every later use binds instantly
  // instead of inferring each payload's schema again. Large files stay a view, streamed.
  const kind = isSmallBatch(objects, read.memoryLimitBytes) ? 'TABLE' : 'VIEW';
  const create = (recordType?: string) =>
    conn.run(
      `CREATE OR REPLACE ${kind} ${relation} AS ${readerSql(items, o.rowNumbers, recordType)}`,
      undefined,
      {
        signal: o.signal,
      },
    );
  // JSON pages read into a table reuse the record type inferred for earlier batches when it
  // covers their fields; a value it cannot hold fails the read, and the batch is inferred.
  const cache = kind === 'TABLE' && isDocumentBatch(items) ? o.recordType : undefined;
  const pages = items.map((i) => i.fields);
  const known = cache?.typeFor(pages);
  if (known !== undefined) {
    try {
      await create(known);
      return { relation, malformed, knownType: true };
    } catch (err) {
      if (o.signal?.aborted || !isUserQueryError(err)) throw err;
    }
  }
  await create();
  cache?.learn(pages, await recordColumns(conn, `SELECT * FROM ${relation}`, o.signal));
  return { relation, malformed };
}

/**
 * The raw-zone ledger (`sluice_raw_objects` in the metastore): every payload fetched is
 * recorded here before it is loaded. The table commits are the point of truth for what was
 * loaded; `status` caches it (`stored` → `committed`) and is reconciled from snapshot
 * summaries after a crash.
 */
import type { MetaStore, Row, SqlValue } from '../metastore/index.js';
import { recordSystemRows } from '../system/index.js';
import {
  type Loads,
  type QuarantineLog,
  RAW_OBJECTS,
  rawObjectRow,
  recordLoads,
  recordQuarantine,
} from './history.js';
import type { PayloadFormat } from './spec-common.js';

/** One raw object as the ledger records it. */
export interface RawObject {
  /** Object-store key, also the id: `raw/<source>/<date>/<run>-<seq>.<ext>`. */
  id: string;
  /** `<pipeline>.<task>` that fetched it. */
  task: string;
  /** Stream within the task (a partition value; `''` for a single stream). */
  stream: string;
  /** One fetch of one stream: its payloads share the epoch and are numbered by `seq` from 0. */
  epoch: string;
  seq: number;
  runId: string;
  /** URL, file path or table the bytes came from. */
  sourceUri: string;
  /** File name (files source), for dedupe by name. */
  name?: string;
  /** The request (method, URL, params; secrets removed). */
  request?: unknown;
  /** Where the fetch continues after this payload; undefined after the last one. */
  nextRequest?: unknown;
  headers?: Record<string, string>;
  format: PayloadFormat;
  compression?: 'gzip' | 'zstd';
  size: number;
  /** Records in the payload when the source counted them (0: nothing to load). */
  recordCount?: number;
  /** sha256 of the bytes, hex. */
  checksum: string;
  fetchedAt: Date;
  /** Why the payload cannot be read as records (it is quarantined whole). */
  malformed?: string;
  /**
   * Field paths and value kinds of its records as the source listed them while fetching (JSON
   * pages); kept in memory only, so objects read back from the ledger have none.
   */
  fields?: readonly string[];
  status: 'stored' | 'committed';
  snapshotId?: string;
}

const COLUMNS =
  'id, task, stream, epoch, seq, run_id, source_uri, name, request, next_request, headers, format, compression, size, record_count, checksum, fetched_at, malformed, status, snapshot_id, committed_at';

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : undefined);

function fromRow(r: Row): RawObject {
  return {
    id: String(r.id),
    task: String(r.task),
    stream: String(r.stream),
    epoch: String(r.epoch),
    seq: Number(r.seq),
    runId: String(r.run_id),
    sourceUri: String(r.source_uri ?? ''),
    name: (r.name as string | null) ?? undefined,
    request: parse(r.request),
    nextRequest: parse(r.next_request),
    headers: parse(r.headers) as Record<string, string> | undefined,
    format: r.format as PayloadFormat,
    compression: (r.compression as 'gzip' | 'zstd' | null) ?? undefined,
    size: Number(r.size),
    recordCount: r.record_count === null || r.record_count === undefined ? undefined : Number(r.record_count),
    checksum: String(r.checksum),
    fetchedAt: new Date(Number(r.fetched_at)),
    malformed: (r.malformed as string | null) ?? undefined,
    status: r.status as RawObject['status'],
    snapshotId: (r.snapshot_id as string | null) ?? undefined,
  };
}

/** Filters of `listRawObjects`. */
export interface RawObjectFilter {
  task?: string;
  status?: RawObject['status'];
  /** Only objects fetched at or after this time. */
  since?: Date;
  limit?: number;
}

/** The ledger of one metastore. */
export class Ledger {
  readonly #meta: MetaStore;

  constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  /**
   * Record a stored payload (status `stored`) and its `sluice_system.raw_objects` row, in one
   * transaction. `source` is the source kind (http, files, postgres).
   */
  async record(o: Omit<RawObject, 'status' | 'snapshotId'>, source?: string): Promise<void> {
    const values: SqlValue[] = [
      o.id,
      o.task,
      o.stream,
      o.epoch,
      o.seq,
      o.runId,
      o.sourceUri,
      o.name ?? null,
      json(o.request),
      json(o.nextRequest),
      json(o.headers),
      o.format,
      o.compression ?? null,
      o.size,
      o.recordCount ?? null,
      o.checksum,
      o.fetchedAt.getTime(),
      o.malformed ?? null,
      'stored',
      null,
      null,
    ];
    await this.#meta.transaction(async (tx) => {
      await tx.execute(
        `INSERT INTO sluice_raw_objects (${COLUMNS}) VALUES (${values.map(() => '?').join(', ')})`,
        values,
      );
      await recordSystemRows(tx, RAW_OBJECTS, [rawObjectRow(o, source)]);
    });
  }

  /** Objects of a task not yet known to be committed, in fetch order. */
  async pending(task: string): Promise<RawObject[]> {
    const rows = await this.#meta.query(
      `SELECT ${COLUMNS} FROM sluice_raw_objects WHERE task = ? AND status = 'stored' ORDER BY fetched_at, epoch, seq`,
      [task],
    );
    return rows.map(fromRow);
  }

  /** The last recorded payload of every epoch of a task whose fetch did not reach its end. */
  async openEpochs(task: string): Promise<RawObject[]> {
    const rows = await this.#meta.query(
      `SELECT ${COLUMNS} FROM sluice_raw_objects r WHERE task = ? AND seq = (SELECT max(seq) FROM sluice_raw_objects x WHERE x.task = r.task AND x.epoch = r.epoch) AND next_request IS NOT NULL ORDER BY fetched_at`,
      [task],
    );
    return rows.map(fromRow);
  }

  /** Whether the task already holds a payload with this checksum or name. */
  async seen(task: string, by: 'checksum' | 'name', value: string): Promise<boolean> {
    const rows = await this.#meta.query(
      `SELECT 1 AS hit FROM sluice_raw_objects WHERE task = ? AND ${by === 'name' ? 'name' : 'checksum'} = ? LIMIT 1`,
      [task, value],
    );
    return rows.length > 0;
  }

  /**
   * Mark objects as committed, each by its snapshot (`loads.objects`), and record their
   * `raw_object_loads` rows and the quarantine appends not yet recorded, in one transaction.
   */
  async markCommitted(loads: Loads, quarantine?: QuarantineLog): Promise<void> {
    const now = Date.now();
    const bySnapshot = new Map<string, string[]>();
    for (const o of loads.objects) {
      const key = o.snapshotId ?? 'none';
      bySnapshot.set(key, [...(bySnapshot.get(key) ?? []), o.id]);
    }
    await this.#meta.transaction(async (tx) => {
      for (const [snapshotId, ids] of bySnapshot)
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          await tx.execute(
            `UPDATE sluice_raw_objects SET status = 'committed', snapshot_id = ?, committed_at = ? WHERE id IN (${chunk.map(() => '?').join(', ')})`,
            [snapshotId, now, ...chunk],
          );
        }
      await recordLoads(tx, loads);
      if (quarantine) await recordQuarantine(tx, quarantine);
    });
  }

  /** Ledger rows, newest first. */
  async list(f: RawObjectFilter = {}): Promise<RawObject[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (f.task) {
      where.push('task = ?');
      params.push(f.task);
    }
    if (f.status) {
      where.push('status = ?');
      params.push(f.status);
    }
    if (f.since) {
      where.push('fetched_at >= ?');
      params.push(f.since.getTime());
    }
    const rows = await this.#meta.query(
      `SELECT ${COLUMNS} FROM sluice_raw_objects${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY fetched_at DESC, epoch, seq DESC LIMIT ${Math.max(1, Math.min(f.limit ?? 1000, 100_000))}`,
      params,
    );
    return rows.map(fromRow);
  }

  /** Committed objects of a task fetched at or after `since`, in fetch order (for reprocessing). */
  async committedSince(task: string, since: Date | undefined): Promise<RawObject[]> {
    const rows = await this.#meta.query(
      `SELECT ${COLUMNS} FROM sluice_raw_objects WHERE task = ? AND status = 'committed' AND fetched_at >= ? ORDER BY fetched_at, epoch, seq`,
      [task, since?.getTime() ?? 0],
    );
    return rows.map(fromRow);
  }
}

/** Rows of the raw-zone ledger (for `sluice_system.raw_objects` and the API), newest first. */
export function listRawObjects(meta: MetaStore, filter: RawObjectFilter = {}): Promise<RawObject[]> {
  return new Ledger(meta).list(filter);
}

/**
 * The streaming phase: pgoutput messages from the slot are folded into per-table batches at
 * transaction boundaries and committed (one snapshot per table batch) when the batch is old or
 * big enough. Only after every table of a batch is committed is the state advanced and the
 * slot's flush position confirmed, so a crash replays from the last confirmed position and
 * each table skips the transactions its own snapshot summary says it already holds.
 */
import type { Logger } from '../../observe/index.js';
import type { Table } from '../../table/index.js';
import { BackendError } from '../../util/index.js';
import { type ApplyContext, applyBatch, applyChanges, type SourceRow } from './apply.js';
import { TableBatch } from './batch.js';
import { followRelation, type LakeContext } from './lake.js';
import { decodeFrame, decodePgOutput, formatLsn, type PgOutputMessage, standbyStatus } from './pgoutput.js';
import type { SourceTable } from './source.js';
import type { PgWire } from './wire.js';

/** A replicated table with its lake tables and what they already hold. */
export interface StreamTable {
  source: SourceTable;
  table: Table;
  changes?: Table;
  /** Transactions with a commit LSN up to here are already in `table` (`changes`). */
  skipLsn: bigint;
  skipChangesLsn: bigint;
}

/** What the streaming loop needs. */
export interface StreamOptions {
  lake: LakeContext;
  log: Logger;
  tables: StreamTable[];
  startLsn: bigint;
  batchIntervalMs: number;
  batchMaxChanges: number;
  properties: Record<string, string>;
  /** Persist the new confirmed position (called after every table of a batch is committed). */
  onConfirmed(lsn: bigint): Promise<void>;
  /** After each batch commit: its changes and the source commit times of its first and last transaction. */
  onApplied?(batch: AppliedBatch): void;
  /** Stop once the confirmed position reaches this LSN. */
  stopAtLsn?: bigint;
  /** Current source rows by key, for unchanged TOASTed values no lake row holds (see applyBatch). */
  readSource?: (table: SourceTable, keys: (string | null)[][]) => Promise<Map<string, SourceRow>>;
  signal: AbortSignal;
}

/** One committed batch, as `onApplied` reports it. */
export interface AppliedBatch {
  changes: number;
  firstCommitMs: number;
  lastCommitMs: number;
  committedAtMs: number;
}

const STATUS_INTERVAL_MS = 10_000;

/** Run the streaming loop until aborted (or `stopAtLsn` is reached). Returns the changes applied. */
export async function streamChanges(
  wire: PgWire,
  stream: AsyncGenerator<Buffer>,
  o: StreamOptions,
): Promise<number> {
  const byName = new Map(o.tables.map((t) => [t.source.name, t]));
  const byOid = new Map<number, StreamTable>();
  const batches = new Map<StreamTable, TableBatch>();
  let confirmed = o.startLsn;
  let received = o.startLsn;
  let pending = 0;
  let batchStarted = 0;
  let applied = 0;
  let lastCommitMs = 0;
  let firstCommitMs = 0;
  let tx: { lsn: bigint; commitTimeMs: number } | undefined;
  let lastStatus = Date.now();

  const batchOf = (t: StreamTable) => {
    let b = batches.get(t);
    if (!b) {
      b = new TableBatch();
      b.setColumns(
        t.source.columns.map((c) => c.name),
        t.source.key,
      );
      batches.set(t, b);
    }
    return b;
  };
  const sendStatus = () => {
    wire.sendCopyData(standbyStatus(confirmed));
    lastStatus = Date.now();
  };
  const flush = async () => {
    for (const [t, b] of batches) {
      const read = o.readSource;
      const ctx: ApplyContext = {
        duck: o.lake.duck,
        properties: o.properties,
        signal: o.signal,
        readSource: read && ((keys) => read(t.source, keys)),
      };
      if (b.images.size > 0 || b.truncated) {
        const started = Date.now();
        const keys = await applyBatch(t.table, b, t.source.columns, t.source.key, ctx);
        t.skipLsn = b.lastLsn;
        o.log.debug(
          { table: t.source.name, keys, changes: b.count, ms: Date.now() - started },
          'batch committed',
        );
      }
      if (t.changes && b.changes.length > 0) {
        await applyChanges(t.changes, b, ctx);
        t.skipChangesLsn = b.lastLsn;
      }
    }
    batches.clear();
    applied += pending;
    if (pending > 0)
      o.onApplied?.({ changes: pending, firstCommitMs, lastCommitMs, committedAtMs: Date.now() });
    pending = 0;
    firstCommitMs = 0;
    if (received > confirmed) {
      confirmed = received;
      await o.onConfirmed(confirmed);
      sendStatus();
    }
  };
  const handle = async (m: PgOutputMessage) => {
    switch (m.tag) {
      case 'begin':
        tx = { lsn: m.finalLsn, commitTimeMs: m.commitTimeMs };
        return;
      case 'commit':
        tx = undefined;
        received = m.endLsn;
        lastCommitMs = m.commitTimeMs;
        if (pending > 0 && firstCommitMs === 0) firstCommitMs = m.commitTimeMs;
        if (pending === 0 && received > confirmed) confirmed = received;
        return;
      case 'relation': {
        const t = byName.get(`${m.schema}.${m.name}`);
        if (!t) return;
        byOid.set(m.oid, t);
        const columns = m.columns.map((c) => ({ name: c.name, typeOid: c.typeOid, typmod: c.typmod }));
        const live = tx !== undefined && tx.lsn > t.skipLsn;
        if (live && (await followRelation(o.lake, t.table, t.source, columns, tx?.lsn ?? 0n)))
          o.log.info({ table: t.source.name, lsn: formatLsn(tx?.lsn ?? 0n) }, 'schema evolved');
        t.source.columns = columns;
        batchOf(t).setColumns(
          columns.map((c) => c.name),
          t.source.key,
        );
        return;
      }
      case 'insert':
      case 'update':
      case 'delete':
        return change(m);
      case 'truncate':
        for (const oid of m.oids) {
          const t = byOid.get(oid);
          if (!t || !tx) continue;
          const b = batchOf(t);
          if (tx.lsn > t.skipLsn) b.truncate();
          if (t.changes && tx.lsn > t.skipChangesLsn)
            b.addChange('truncate', formatLsn(tx.lsn), tx.commitTimeMs);
          b.lastLsn = tx.lsn;
          pending++;
        }
        return;
      case 'message':
        if (!m.transactional && m.lsn > received) {
          received = m.lsn;
          if (pending === 0) await flush();
        }
        return;
      default:
        return;
    }
  };
  const change = (m: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>) => {
    const t = byOid.get(m.oid);
    if (!t || !tx) return;
    const b = batchOf(t);
    const lsn = formatLsn(tx.lsn);
    if (tx.lsn > t.skipLsn) {
      if (m.tag === 'insert') b.upsert(m.after);
      else if (m.tag === 'delete') b.delete(m.before);
      else {
        if (m.before && b.keyChanged(m.before, m.after)) b.moveKey(m.before, m.after);
        else b.upsert(m.after);
      }
    }
    if (t.changes && tx.lsn > t.skipChangesLsn) {
      const before = m.tag === 'insert' ? undefined : m.before;
      const after = m.tag === 'delete' ? undefined : m.after;
      b.addChange(m.tag, lsn, tx.commitTimeMs, before, after);
    }
    b.lastLsn = tx.lsn;
    b.count++;
    if (pending++ === 0) batchStarted = Date.now();
  };

  let next: Promise<IteratorResult<Buffer>> | undefined;
  sendStatus();
  for (;;) {
    o.signal.throwIfAborted();
    if (o.stopAtLsn !== undefined && confirmed >= o.stopAtLsn && pending === 0) break;
    next ??= stream.next();
    const waitMs = pending > 0 ? Math.max(1, batchStarted + o.batchIntervalMs - Date.now()) : 1000;
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<'tick'>((resolve) => {
      timer = setTimeout(() => resolve('tick'), waitMs);
    });
    const got = await Promise.race([next, tick]);
    clearTimeout(timer);
    if (got !== 'tick') {
      next = undefined;
      if (got.done)
        throw new BackendError(
          'the PostgreSQL server ended the replication stream',
          'run again: streaming resumes from the last committed LSN',
        );
      const frame = decodeFrame(got.value);
      if (frame.kind === 'keepalive') {
        if (frame.replyRequested) sendStatus();
      } else await handle(decodePgOutput(frame.data));
    }
    // A batch is due after the interval once the stream pauses; while changes keep arriving
    // (catching up) it grows, up to max_changes or five intervals, so commits amortise.
    const age = Date.now() - batchStarted;
    const due = pending > 0 && age >= o.batchIntervalMs && (got === 'tick' || age >= o.batchIntervalMs * 5);
    const caughtUp = o.stopAtLsn !== undefined && received >= o.stopAtLsn;
    if ((pending >= o.batchMaxChanges || due || caughtUp) && tx === undefined) await flush();
    if (Date.now() - lastStatus >= STATUS_INTERVAL_MS) sendStatus();
  }
  return applied;
}

/**
 * One run of an ingest task. First the ledger is reconciled with the table's snapshots (the
 * point of truth), then payloads stored by an interrupted run are loaded from the raw zone,
 * then the source is fetched — continuing interrupted fetches where they stopped — with every
 * payload stored and recorded before it is loaded. Batches commit as they fill (overwrite
 * modes once per run).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openCatalog } from '../catalog/index.js';
import { parseSize } from '../config/index.js';
import { openDuck } from '../duck/index.js';
import type { TaskContext, TaskResult } from '../runtime/tasks.js';
import { InvalidInputError } from '../util/index.js';
import { type BatchContext, loadBatch, quarantineLog, type Totals, tableName } from './batch.js';
import { consumedBy, consumingSnapshots, lastCursor, refKey } from './commit-log.js';
import { Ledger, type RawObject } from './ledger.js';
import { JsonRecordType } from './load/json-schema.js';
import { keySegment, payloadExtension, rawKey, type StoredBytes, storeRaw } from './raw-zone.js';
import { QuarantineSink } from './sink/quarantine.js';
import { TableSink } from './sink/table-sink.js';
import { filesSource } from './sources/files-source.js';
import { httpSource } from './sources/http-source.js';
import { postgresSource } from './sources/postgres-source.js';
import type { FetchedPayload, Source } from './sources/types.js';
import type { IngestSpec, TableSinkSpec } from './spec.js';
import { loadCursor, saveCursor } from './state.js';

/** Payloads written to the raw zone at once while earlier ones are recorded. */
const STORE_AHEAD = 4;

/** The source of a spec. */
function sourceOf(spec: IngestSpec): Source {
  const s = spec.source;
  if (s.http) return httpSource(s.http);
  if (s.files) return filesSource(s.files);
  if (s.postgres) return postgresSource(s.postgres);
  throw new InvalidInputError('the ingest source has no kind');
}

/** The source kind of a spec: `http`, `files`, `postgres`. */
const sourceKind = (spec: IngestSpec): string =>
  Object.keys(spec.source).find((k) => spec.source[k as keyof IngestSpec['source']] !== undefined) ?? '';

/** `--reprocess [--from DATE]` from the task options. */
function reprocessOf(options: Record<string, unknown> | undefined): { from?: Date } | undefined {
  if (!options?.reprocess) return undefined;
  const from = options.from;
  if (from === undefined || from === null || from === '') return {};
  const d = from instanceof Date ? from : new Date(String(from));
  if (Number.isNaN(d.getTime()))
    throw new InvalidInputError(`--from: cannot read "${String(from)}" as a date`, 'use YYYY-MM-DD');
  return { from: d };
}

/** Run an ingest task; the summary counts rows in, written, quarantined, objects and the snapshot. */
export async function runIngest(ctx: TaskContext, spec: IngestSpec): Promise<TaskResult> {
  const cdcSource = spec.source.postgres_cdc;
  if (cdcSource) {
    // Change data capture: the CDC machinery, named after the task, until caught up. Loaded
    // only here, so other ingest tasks do not pay for its modules at start-up.
    const { replicationName, runCdcTask } = await import('./cdc/index.js');
    const name = replicationName(ctx.pipeline, ctx.taskId);
    const namespace = spec.sink.namespace ?? cdcSource.namespace;
    return runCdcTask(ctx, { name, source: { postgres_cdc: { ...cdcSource, namespace } } }, true);
  }
  const { table } = spec.sink;
  if (!table)
    throw new InvalidInputError('the ingest sink has no table', 'give sink: { table: namespace.name }');
  return runTableIngest(ctx, spec, { ...spec.sink, table });
}

async function runTableIngest(
  ctx: TaskContext,
  spec: IngestSpec,
  declaredSink: TableSinkSpec,
): Promise<TaskResult> {
  const { runtime, signal } = ctx;
  const task = `${ctx.pipeline}.${ctx.taskId}`;
  const log = ctx.log.child({ component: 'ingest', task });
  const reprocess = reprocessOf(ctx.options);
  if (reprocess?.from && declaredSink.mode === 'append')
    throw new InvalidInputError(
      '--reprocess --from cannot replay into an append table: the rows loaded since then would be loaded twice',
      'reprocess without --from to rebuild the whole table, or use mode upsert/delete_insert/overwrite_partitions',
    );
  const source = sourceOf(spec);
  const ledger = new Ledger(runtime.meta);
  const tmp = join(runtime.project.dataDir, 'tmp', `ingest-${keySegment(ctx.runId)}-${process.pid}`);
  await mkdir(tmp, { recursive: true });
  const duck = await openDuck({
    memoryLimit: spec.memory_limit,
    tempDir: join(tmp, 'duck'),
    maxConnections: 4,
  });
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log });
  const sinkSpec =
    reprocess && !reprocess.from ? { ...declaredSink, mode: 'overwrite' as const } : declaredSink;
  // A keyed table rebuilt from the raw zone keeps the latest version of each record.
  const sink = new TableSink(catalog, runtime.store, duck, sinkSpec, log, {
    latestPerKey: sinkSpec !== declaredSink && declaredSink.mode === 'upsert',
  });
  const quarantine = new QuarantineSink(catalog, runtime.store, duck, sink.id);
  const totals: Totals = { written: 0, quarantined: 0, objects: 0, bytes: 0, batches: 0, cursor: {} };
  let pages = 0;
  let retries = 0;
  let loading: Promise<void> | undefined;
  try {
    // Reconcile: objects named by committed snapshots are done, whatever the ledger says.
    const sinkSnaps = await sink.snapshots();
    const qSnaps = await quarantine.snapshots();
    const bySink = consumingSnapshots(sinkSnaps, task);
    const consumed = new Set(bySink.keys());
    for (const k of consumedBy(qSnaps, task, true)) consumed.add(k);
    const stored = await ledger.pending(task);
    const done = stored.filter((o) => consumed.has(refKey(o)));
    // Also records quarantine appends of an interrupted run not yet in sluice_system.quarantine.
    await ledger.markCommitted(
      {
        task,
        runId: ctx.runId,
        table: tableName(sink.id),
        objects: done.map((o) => ({ id: o.id, snapshotId: bySink.get(refKey(o)), how: 'reconciled' })),
      },
      await quarantineLog(task, sink.id, quarantine, qSnaps),
    );
    const pending = stored.filter((o) => !consumed.has(refKey(o)));
    totals.cursor = lastCursor(sinkSnaps, task) ?? (await loadCursor(runtime.meta, task))?.cursor ?? {};
    const read = {
      records: spec.source.http?.records ?? spec.source.files?.records ?? '',
      csv: spec.source.files?.csv,
      sheet: spec.source.files?.sheet,
      memoryLimitBytes: parseSize(spec.memory_limit) ?? 1024 ** 3,
    };
    const bc: BatchContext = {
      task,
      runId: ctx.runId,
      duck,
      store: runtime.store,
      ledger,
      sink,
      quarantine,
      read,
      recordType: new JsonRecordType(),
      stagingDir: tmp,
      cursorField: source.cursorField,
      quarantined: consumedBy(qSnaps, task),
      maxBadRatio: spec.max_bad_ratio,
      steps: spec.processors,
      projectDir: runtime.project.dir,
      log,
      signal,
    };
    const once =
      reprocess !== undefined || sinkSpec.mode === 'overwrite' || sinkSpec.mode === 'overwrite_partitions';
    let batch: RawObject[] = [];
    let batchBytes = 0;
    const report = (phase: string) =>
      ctx.progress({
        phase,
        pages,
        rows: totals.written + totals.quarantined,
        bytes: totals.bytes,
        files: totals.objects,
      });
    // One batch loads while the source goes on fetching the next one; commits stay in order
    // because a batch starts only after the previous one committed.
    const flush = async () => {
      await loading;
      if (batch.length === 0) return;
      const objects = batch;
      batch = [];
      batchBytes = 0;
      loading = (async () => {
        report('loading');
        await loadBatch(bc, objects, totals);
        if (source.cursorField) await saveCursor(runtime.meta, task, totals.cursor);
        report('committed');
      })();
      loading.catch(() => {});
    };
    const add = async (o: RawObject) => {
      batch.push(o);
      batchBytes += o.size;
      if (!once && (batch.length >= spec.batch.max_objects || batchBytes >= spec.batch.max_bytes))
        await flush();
    };
    if (reprocess) {
      log.info({ from: reprocess.from }, 'reprocessing from the raw zone');
      for (const o of await ledger.committedSince(task, reprocess.from)) await add(o);
      for (const o of pending) await add(o);
    } else {
      if (pending.length)
        log.info({ objects: pending.length }, 'loading payloads stored by an interrupted run');
      for (const o of pending) await add(o);
      let seq = 0;
      // A resumed run may reuse its run id: a token per attempt keeps raw keys unique.
      const attemptId = `${ctx.runId}.${randomUUID().slice(0, 8)}`;
      const payloads = source.fetch({
        task,
        runId: ctx.runId,
        log,
        signal,
        ledger,
        store: runtime.store,
        projectDir: runtime.project.dir,
        openEpochs: await ledger.openEpochs(task),
        cursor: totals.cursor,
        onRetry: () => {
          retries++;
        },
      });
      // Up to STORE_AHEAD payloads are written to the raw zone at once (their fsyncs overlap,
      // and the source fetches the next page meanwhile); each is recorded in the ledger in fetch
      // order, and only once its bytes are durable, before it is loaded.
      const writing: { p: FetchedPayload; stored: Promise<StoredBytes> }[] = [];
      const recordOldest = async () => {
        const w = writing.shift() as (typeof writing)[number];
        const o = await recordPayload(ctx, task, ledger, w.p, await w.stored, sourceKind(spec));
        pages++;
        if (pages % 10 === 0) report('fetching');
        if (o) await add(o);
      };
      try {
        for await (const p of payloads) {
          const key = rawKey(task, p.fetchedAt, attemptId, seq++, payloadExtension(p.format, p.compression));
          const stored = storeRaw(runtime.store, key, p.body, signal);
          stored.catch(() => {});
          writing.push({ p, stored });
          if (writing.length >= STORE_AHEAD) await recordOldest();
        }
        while (writing.length > 0) await recordOldest();
      } finally {
        // Writes left by a failure are never recorded: unreferenced bytes, like after a crash.
        await Promise.allSettled(writing.map((w) => w.stored));
      }
    }
    await flush();
    await loading;
    report('done');
    return {
      summary: {
        rows_in: totals.written + totals.quarantined,
        written: totals.written,
        quarantined: totals.quarantined,
        objects: totals.objects,
        pages,
        bytes: totals.bytes,
        batches: totals.batches,
        retries,
        table: declaredSink.table,
        snapshot_id: totals.snapshotId,
        quarantine_snapshot_id: totals.quarantineSnapshotId,
        ...(source.cursorField ? { cursor: totals.cursor } : {}),
      },
    };
  } finally {
    await loading?.catch(() => {});
    await duck.close();
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/** Record a payload stored in the raw zone in the ledger; undefined for a duplicate file. */
async function recordPayload(
  ctx: TaskContext,
  task: string,
  ledger: Ledger,
  p: FetchedPayload,
  stored: StoredBytes,
  kind: string,
): Promise<RawObject | undefined> {
  if (p.dedupeByChecksum && (await ledger.seen(task, 'checksum', stored.checksum))) {
    await ctx.runtime.store.delete([stored.key]);
    ctx.log.info({ file: p.name }, 'file skipped: already loaded (same checksum)');
    return undefined;
  }
  const o: Omit<RawObject, 'status' | 'snapshotId'> = {
    id: stored.key,
    task,
    stream: p.stream,
    epoch: p.epoch,
    seq: p.seq,
    runId: ctx.runId,
    sourceUri: p.sourceUri,
    name: p.name,
    request: p.request,
    nextRequest: p.nextRequest,
    headers: p.headers,
    format: p.format,
    compression: p.compression,
    size: stored.size,
    recordCount: p.recordCount,
    checksum: stored.checksum,
    fetchedAt: p.fetchedAt,
    malformed: p.malformed,
    fields: p.fields,
  };
  await ledger.record(o, kind);
  return { ...o, status: 'stored' };
}

/**
 * `runCdc`: set up (checks, publication, slot with an exported snapshot), copy the tables in
 * that snapshot, then stream changes from the slot into the lake until aborted. Every step
 * resumes from what the lake and the metastore say is done.
 */
import { Gauge, type Registry } from 'prom-client';
import { openCatalog } from '../../catalog/index.js';
import { type Duck, openDuck } from '../../duck/index.js';
import type { Runtime } from '../../runtime/index.js';
import type { TaskProgress } from '../../runtime/tasks.js';
import { InvalidInputError, SluiceError } from '../../util/index.js';
import { cdcMarks, ensureChangeTable, ensureDataTable, type LakeContext } from './lake.js';
import { formatLsn, parseLsn } from './pgoutput.js';
import { copyTables } from './snapshot.js';
import { connectSource, describeSource, ensurePublication, readSourceRows, slotInfo } from './source.js';
import type { CdcSpec } from './spec.js';
import { type CdcState, readState, writeState } from './state.js';
import { type AppliedBatch, type StreamTable, streamChanges } from './stream.js';
import { PgServerError, PgWire } from './wire.js';

/** Options of one run. */
export interface RunCdcOptions {
  signal: AbortSignal;
  progress?: (p: TaskProgress) => void;
  /** Stop once every change committed at the source before streaming started is applied. */
  untilCaughtUp?: boolean;
  /** Registry for `sluice_cdc_slot_lag_bytes` and `sluice_cdc_changes_applied_total`. */
  registry?: Registry;
  duck?: Duck;
  /** Called after each streamed batch is committed (lag measurement). */
  onBatch?: (b: AppliedBatch) => void;
}

/** What a run did. */
export interface CdcRunResult {
  snapshotRows: number;
  changes: number;
  lsn: string;
}

/** Raised when the slot is gone or invalidated: changes since the last commit are lost at the source. */
export class SlotLostError extends SluiceError {
  constructor(name: string, slot: string, detail: string) {
    super(
      'cdc_slot_lost',
      `replication slot "${slot}" of CDC "${name}" ${detail}; changes after the last committed LSN can no longer be read`,
      `take a new snapshot: sluice cdc reset <spec file> (drops the slot, the state and the lake tables of "${name}"), then run it again`,
    );
  }
}

function snapshotState(slot: string, publication: string, point: bigint): CdcState {
  return { slot, publication, phase: 'snapshot', consistentLsn: point, lsn: point, copied: [], updatedAt: 0 };
}

/** The slot and publication names of a spec. */
export function namesOf(spec: CdcSpec): { slot: string; publication: string } {
  const src = spec.source.postgres_cdc;
  return { slot: src.slot ?? `sluice_${spec.name}`, publication: src.publication ?? `sluice_${spec.name}` };
}

/** Run change data capture for one spec: snapshot when needed, then stream until aborted. */
export async function runCdc(runtime: Runtime, spec: CdcSpec, o: RunCdcOptions): Promise<CdcRunResult> {
  const src = spec.source.postgres_cdc;
  const { slot, publication } = namesOf(spec);
  const log = runtime.log.child({ component: 'cdc', cdc: spec.name });
  const lagGauge = new Gauge({
    name: 'sluice_cdc_slot_lag_bytes',
    help: 'WAL retained by the CDC replication slot (bytes between the server WAL end and the confirmed flush LSN)',
    labelNames: ['cdc'] as const,
    registers: o.registry ? [o.registry] : [],
  });
  const client = await connectSource(src.url);
  const duck = o.duck ?? (await openDuck({ threads: 2, memoryLimit: '1GB', maxConnections: 4 }));
  let wire: PgWire | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const tables = await describeSource(client, src);
    const lake: LakeContext = {
      catalog: openCatalog({ meta: runtime.meta, store: runtime.store, log }),
      store: runtime.store,
      duck,
      meta: runtime.meta,
      source: spec.name,
    };
    let state = await readState(runtime.meta, spec.name);
    let slotNow = await slotInfo(client, slot);
    if (state?.phase === 'streaming' && !slotNow)
      throw new SlotLostError(spec.name, slot, 'no longer exists');
    if (slotNow) {
      const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
      if (slotNow.database !== db || slotNow.plugin !== 'pgoutput')
        throw new InvalidInputError(
          `replication slot "${slot}" belongs to database "${slotNow.database}" (plugin ${slotNow.plugin}), not to "${db}" with pgoutput`,
          'choose another slot name with `slot:`',
        );
    }
    if (slotNow?.walStatus === 'lost')
      throw new SlotLostError(spec.name, slot, 'was invalidated (wal_status lost)');
    await ensurePublication(client, publication, tables);
    wire = await PgWire.connect({ url: src.url, replication: true, signal: o.signal });
    let snapshotName: string | undefined;
    if (!slotNow) {
      const created = await wire.query(
        `CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput (SNAPSHOT 'export')`,
      );
      const row = created.rows[0] ?? [];
      snapshotName = row[created.fields.indexOf('snapshot_name')] ?? undefined;
      const point = parseLsn(row[created.fields.indexOf('consistent_point')] ?? '0/0');
      log.info({ slot, consistentPoint: formatLsn(point) }, 'replication slot created');
      state = snapshotState(slot, publication, point);
      await writeState(runtime.meta, spec.name, state);
      slotNow = await slotInfo(client, slot);
    } else if (!state) {
      state = snapshotState(slot, publication, slotNow.confirmedFlushLsn ?? 0n);
    }
    const current: CdcState = state;
    const targets: StreamTable[] = [];
    for (const t of tables) {
      const table = await ensureDataTable(lake, src.namespace, t);
      const changes = src.change_stream ? await ensureChangeTable(lake, src.namespace, t) : undefined;
      targets.push({
        source: t,
        table,
        changes,
        skipLsn: cdcMarks(table).lsn ?? 0n,
        skipChangesLsn: changes ? (cdcMarks(changes).lsn ?? 0n) : 0n,
      });
    }
    const properties = {
      'sluice.cdc.source': spec.name,
      'sluice.cdc.slot': slot,
      'sluice.cdc.publication': publication,
    };
    let snapshotRows = 0;
    if (current.phase === 'snapshot') {
      const todo = targets.filter((t) => !current.copied.includes(t.source.name));
      o.progress?.({ phase: 'snapshot', message: `copying ${todo.length} table(s)` });
      if (!snapshotName)
        log.warn(
          'resuming the initial copy without the exported snapshot; the stream replays from the slot to converge',
        );
      snapshotRows = await copyTables(
        todo.map((t) => ({ source: t.source, table: t.table })),
        {
          url: src.url,
          snapshotName,
          chunkRows: src.snapshot.chunk_rows,
          parallel: src.snapshot.parallel,
          properties,
          signal: o.signal,
          onChunk: (_table, rows) => o.progress?.({ phase: 'snapshot', rows }),
          onTableDone: async (name) => {
            current.copied.push(name);
            await writeState(runtime.meta, spec.name, current);
          },
        },
      );
      current.phase = 'streaming';
      await writeState(runtime.meta, spec.name, current);
      for (const t of targets) await t.table.refresh();
      log.info({ rows: snapshotRows }, 'initial snapshot copied');
    }
    const heartbeat = async () => {
      try {
        await client.query("SELECT pg_logical_emit_message(false, 'sluice.cdc.heartbeat', '')");
        const info = await slotInfo(client, slot);
        if (!info) return;
        lagGauge.set({ cdc: spec.name }, info.lagBytes);
        if (info.lagBytes > src.lag_alert_bytes)
          log.error(
            { slot, lagBytes: info.lagBytes, alertBytes: src.lag_alert_bytes },
            'replication slot lag above the alert threshold: the source retains WAL until CDC catches up',
          );
      } catch (err) {
        log.warn({ err }, 'CDC heartbeat failed');
      }
    };
    let stopAtLsn: bigint | undefined;
    if (o.untilCaughtUp) {
      const res = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      stopAtLsn = parseLsn(res.rows[0]?.lsn ?? '0/0');
    }
    await heartbeat();
    timers.push(setInterval(heartbeat, src.heartbeat));
    const start = current.lsn;
    const stream = wire.copyBoth(
      `START_REPLICATION SLOT ${slot} LOGICAL ${formatLsn(start)} (proto_version '1', publication_names '${publication}', messages 'true')`,
    );
    let changes = 0;
    try {
      changes = await streamChanges(wire, stream, {
        lake,
        log,
        tables: targets,
        startLsn: start,
        batchIntervalMs: src.batch.interval,
        batchMaxChanges: src.batch.max_changes,
        properties,
        stopAtLsn,
        readSource: (t, keys) => readSourceRows(client, t, keys),
        signal: o.signal,
        onConfirmed: async (lsn) => {
          current.lsn = lsn;
          await writeState(runtime.meta, spec.name, current);
        },
        onApplied: (b) => {
          o.progress?.({ phase: 'streaming', rows: b.changes });
          o.onBatch?.(b);
        },
      });
    } catch (err) {
      if (
        err instanceof PgServerError &&
        /can no longer get changes|has already been removed|invalidated/i.test(err.message)
      )
        throw new SlotLostError(spec.name, slot, `cannot be read (${err.message})`);
      throw err;
    }
    return { snapshotRows, changes, lsn: formatLsn(current.lsn) };
  } finally {
    for (const t of timers) clearInterval(t);
    wire?.close();
    await client.end().catch(() => {});
    if (!o.duck) await duck.close();
  }
}

/**
 * `sluice cdc status` and `sluice cdc reset`: the slot (lag, WAL status), the confirmed LSN
 * and the last LSN committed to each lake table; and starting over with a new snapshot.
 */
import { openCatalog } from '../../catalog/index.js';
import { openDuck } from '../../duck/index.js';
import type { Runtime } from '../../runtime/index.js';
import { openTable } from '../../table/index.js';
import { cdcMarks, lakeId } from './lake.js';
import { formatLsn } from './pgoutput.js';
import { namesOf } from './runner.js';
import { connectSource, describeSource, slotInfo } from './source.js';
import type { CdcSpec } from './spec.js';
import { deleteState, readState } from './state.js';

/** The status of one replication. */
export interface CdcStatus {
  name: string;
  slot: string;
  publication: string;
  phase: string;
  confirmedLsn: string | null;
  slotExists: boolean;
  walStatus: string | null;
  lagBytes: number | null;
  tables: { source: string; table: string; lsn: string | null }[];
}

/** Status of a replication: its state, the slot on the source and each table's last committed LSN. */
export async function cdcStatus(runtime: Runtime, spec: CdcSpec): Promise<CdcStatus> {
  const src = spec.source.postgres_cdc;
  const { slot, publication } = namesOf(spec);
  const state = await readState(runtime.meta, spec.name);
  const client = await connectSource(src.url);
  const duck = await openDuck({ threads: 1, maxConnections: 1 });
  try {
    const info = await slotInfo(client, slot);
    const tables = await describeSource(client, src);
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
    const rows: CdcStatus['tables'] = [];
    for (const t of tables) {
      const id = lakeId(src.namespace, t);
      const name = `${id.namespace.join('.')}.${id.name}`;
      if (!(await catalog.tableExists(id))) {
        rows.push({ source: t.name, table: name, lsn: null });
        continue;
      }
      const lsn = cdcMarks(await openTable(catalog, runtime.store, duck, id)).lsn;
      rows.push({ source: t.name, table: name, lsn: lsn === undefined ? null : formatLsn(lsn) });
    }
    return {
      name: spec.name,
      slot,
      publication,
      phase: state?.phase ?? 'not started',
      confirmedLsn: state ? formatLsn(state.lsn) : null,
      slotExists: info !== undefined,
      walStatus: info?.walStatus ?? null,
      lagBytes: info?.lagBytes ?? null,
      tables: rows,
    };
  } finally {
    await client.end().catch(() => {});
    await duck.close();
  }
}

/** Drop the slot, the state and the lake tables of a replication: the next run takes a new snapshot. */
export async function resetCdc(runtime: Runtime, spec: CdcSpec): Promise<void> {
  const src = spec.source.postgres_cdc;
  const { slot } = namesOf(spec);
  const client = await connectSource(src.url);
  try {
    if (await slotInfo(client, slot)) await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
    const tables = await describeSource(client, src);
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
    for (const t of tables)
      for (const id of [lakeId(src.namespace, t), lakeId(src.namespace, t, '__changes')])
        if (await catalog.tableExists(id)) await catalog.dropTable(id, { purge: true });
    await deleteState(runtime.meta, spec.name);
  } finally {
    await client.end().catch(() => {});
  }
}

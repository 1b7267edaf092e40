/**
 * The replication state of one CDC source in the metastore (`sluice_state`, scope `cdc`):
 * slot, publication, snapshot progress and the LSN up to which every table is committed —
 * the position the slot is confirmed to and streaming restarts from.
 */
import type { MetaStore } from '../../metastore/index.js';
import { formatLsn, parseLsn } from './pgoutput.js';

const SCOPE = 'cdc';

/** The stored state of one replication. */
export interface CdcState {
  slot: string;
  publication: string;
  phase: 'snapshot' | 'streaming';
  /** The slot's consistent point (where the exported snapshot stands). */
  consistentLsn: bigint;
  /** Every table is committed up to here (end LSN of the last applied transaction or heartbeat). */
  lsn: bigint;
  /** Tables whose initial copy finished. */
  copied: string[];
  updatedAt: number;
}

/** The state of `name`, or undefined before the first run. */
export async function readState(meta: MetaStore, name: string): Promise<CdcState | undefined> {
  const row = (
    await meta.query<{ value: string }>('SELECT value FROM sluice_state WHERE scope = ? AND key = ?', [
      SCOPE,
      name,
    ])
  )[0];
  if (!row) return undefined;
  const v = JSON.parse(row.value) as Omit<CdcState, 'lsn' | 'consistentLsn'> & {
    lsn: string;
    consistentLsn: string;
  };
  return { ...v, lsn: parseLsn(v.lsn), consistentLsn: parseLsn(v.consistentLsn) };
}

/** Store the state of `name`. */
export async function writeState(meta: MetaStore, name: string, s: CdcState): Promise<void> {
  const value = JSON.stringify({
    ...s,
    lsn: formatLsn(s.lsn),
    consistentLsn: formatLsn(s.consistentLsn),
    updatedAt: Date.now(),
  });
  await meta.execute(
    'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, 1) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, version = sluice_state.version + 1',
    [SCOPE, name, value],
  );
}

/** Remove the state of `name` (the next run takes a new snapshot). */
export async function deleteState(meta: MetaStore, name: string): Promise<void> {
  await meta.execute('DELETE FROM sluice_state WHERE scope = ? AND key = ?', [SCOPE, name]);
}

/** Every stored replication name with its state. */
export async function listStates(meta: MetaStore): Promise<{ name: string; state: CdcState }[]> {
  const rows = await meta.query<{ key: string }>(
    'SELECT key FROM sluice_state WHERE scope = ? ORDER BY key',
    [SCOPE],
  );
  const out: { name: string; state: CdcState }[] = [];
  for (const r of rows) {
    const state = await readState(meta, r.key);
    if (state) out.push({ name: r.key, state });
  }
  return out;
}

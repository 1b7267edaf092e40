/**
 * The metastore outbox of system table rows (migration 5). Areas insert rows in their own
 * transactions; the flusher claims a batch (claim id + lease), appends it to the Iceberg
 * table with the claim id in the snapshot summary, then deletes it.
 */
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import type { SystemTable } from './definition.js';
import { encodeRows } from './rows.js';

/** Rows per INSERT statement (well under SQLite's and PostgreSQL's parameter limits). */
const INSERT_CHUNK = 250;

function isStore(db: SqlRunner | MetaStore): db is MetaStore {
  return typeof (db as MetaStore).transaction === 'function';
}

/**
 * Record rows of a system table. Pass an open metastore transaction to record them
 * atomically with the caller's own writes; with the MetaStore itself they are inserted in
 * one transaction of their own. Rows reach the Iceberg table on the next flush.
 * @throws InvalidInputError naming table, row and column when a row does not fit the
 * definition (a required column missing, a value of the wrong type, an unknown column);
 * nothing is recorded then.
 */
export async function recordSystemRows<Row>(
  db: SqlRunner | MetaStore,
  table: SystemTable<Row>,
  rows: readonly Row[],
): Promise<number> {
  const payloads = encodeRows(table as SystemTable, rows);
  if (payloads.length === 0) return 0;
  const write = async (tx: SqlRunner) => {
    const now = Date.now();
    await tx.execute(
      'INSERT INTO sluice_system_definitions (hash, table_name, definition, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING',
      [
        table.hash,
        table.name,
        JSON.stringify({ name: table.name, columns: table.columns, partitionBy: table.partitionBy }),
        now,
      ],
    );
    for (let i = 0; i < payloads.length; i += INSERT_CHUNK) {
      const chunk = payloads.slice(i, i + INSERT_CHUNK);
      await tx.execute(
        `INSERT INTO sluice_system_outbox (table_name, definition_hash, payload, created_at) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((p) => [table.name, table.hash, p, now]),
      );
    }
  };
  if (isStore(db)) await db.transaction(write);
  else await write(db);
  return payloads.length;
}

/** A claim of outbox rows by one flush. */
export interface OutboxClaim {
  claimId: string;
  claimUntil: number;
  rows: number;
  minId: number;
  maxId: number;
}

/** Rows of a claim, in id order. */
export interface OutboxRow {
  id: number;
  definitionHash: string;
  payload: string;
}

/** Tables with rows waiting in the outbox. */
export async function pendingTables(meta: SqlRunner): Promise<string[]> {
  const rows = await meta.query<{ table_name: string }>(
    'SELECT DISTINCT table_name FROM sluice_system_outbox ORDER BY table_name',
  );
  return rows.map((r) => r.table_name);
}

/** Claims of a table not yet deleted (in progress, or left by a crashed flush). */
export async function openClaims(meta: SqlRunner, table: string): Promise<OutboxClaim[]> {
  const rows = await meta.query<{ claim_id: string; u: number; n: number; lo: number; hi: number }>(
    `SELECT claim_id, MAX(claim_until) AS u, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi
     FROM sluice_system_outbox WHERE table_name = ? AND claim_id IS NOT NULL GROUP BY claim_id ORDER BY MIN(id)`,
    [table],
  );
  return rows.map((r) => ({
    claimId: r.claim_id,
    claimUntil: Number(r.u),
    rows: Number(r.n),
    minId: Number(r.lo),
    maxId: Number(r.hi),
  }));
}

/** Move an expired claim to a new claim id; false when its lease is still live or it is gone. */
export async function takeOverClaim(
  meta: SqlRunner,
  table: string,
  from: string,
  to: string,
  leaseMs: number,
): Promise<boolean> {
  const now = Date.now();
  const r = await meta.execute(
    'UPDATE sluice_system_outbox SET claim_id = ?, claim_until = ? WHERE table_name = ? AND claim_id = ? AND claim_until < ?',
    [to, now + leaseMs, table, from, now],
  );
  return r.rowCount > 0;
}

/** Claim up to `limit` unclaimed rows of a table, oldest first; returns the claim (rows 0 when none). */
export async function claimRows(
  meta: MetaStore,
  table: string,
  claimId: string,
  leaseMs: number,
  limit: number,
): Promise<OutboxClaim> {
  return meta.transaction(async (tx) => {
    const [top] = await tx.query<{ hi: number | null }>(
      `SELECT MAX(id) AS hi FROM (SELECT id FROM sluice_system_outbox WHERE table_name = ? AND claim_id IS NULL ORDER BY id LIMIT ?) AS batch`,
      [table, limit],
    );
    const until = Date.now() + leaseMs;
    const none = { claimId, claimUntil: until, rows: 0, minId: 0, maxId: 0 };
    if (top?.hi === null || top?.hi === undefined) return none;
    await tx.execute(
      'UPDATE sluice_system_outbox SET claim_id = ?, claim_until = ? WHERE table_name = ? AND claim_id IS NULL AND id <= ?',
      [claimId, until, table, top.hi],
    );
    const [c] = await tx.query<{ n: number; lo: number | null; hi: number | null }>(
      'SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM sluice_system_outbox WHERE claim_id = ?',
      [claimId],
    );
    return { ...none, rows: Number(c?.n ?? 0), minId: Number(c?.lo ?? 0), maxId: Number(c?.hi ?? 0) };
  });
}

/** The rows of a claim. */
export async function claimedRows(meta: SqlRunner, claimId: string): Promise<OutboxRow[]> {
  const rows = await meta.query<{ id: number; definition_hash: string; payload: string }>(
    'SELECT id, definition_hash, payload FROM sluice_system_outbox WHERE claim_id = ? ORDER BY id',
    [claimId],
  );
  return rows.map((r) => ({ id: Number(r.id), definitionHash: r.definition_hash, payload: r.payload }));
}

/** Extend a claim's lease; false when another flush took it over. */
export async function renewClaim(meta: SqlRunner, claimId: string, leaseMs: number): Promise<boolean> {
  const r = await meta.execute('UPDATE sluice_system_outbox SET claim_until = ? WHERE claim_id = ?', [
    Date.now() + leaseMs,
    claimId,
  ]);
  return r.rowCount > 0;
}

/** Give a claim's rows back unclaimed (when the flush failed before appending them). */
export async function releaseClaim(meta: SqlRunner, claimId: string): Promise<void> {
  await meta.execute(
    'UPDATE sluice_system_outbox SET claim_id = NULL, claim_until = NULL WHERE claim_id = ?',
    [claimId],
  );
}

/** Delete the rows of a committed claim. */
export async function deleteClaim(meta: SqlRunner, claimId: string): Promise<number> {
  return (await meta.execute('DELETE FROM sluice_system_outbox WHERE claim_id = ?', [claimId])).rowCount;
}

/** Stored definitions by hash. */
export async function storedDefinitions(
  meta: SqlRunner,
  hashes: readonly string[],
): Promise<{ hash: string; definition: string; createdAt: number }[]> {
  if (hashes.length === 0) return [];
  const rows = await meta.query<{ hash: string; definition: string; created_at: number }>(
    `SELECT hash, definition, created_at FROM sluice_system_definitions WHERE hash IN (${hashes.map(() => '?').join(', ')}) ORDER BY created_at, hash`,
    [...hashes],
  );
  return rows.map((r) => ({ hash: r.hash, definition: r.definition, createdAt: Number(r.created_at) }));
}

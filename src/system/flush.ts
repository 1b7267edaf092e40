/**
 * Flushing the outbox into the Iceberg tables of `sluice_system`, exactly once:
 * 1. claim a batch of a table's rows (claim id, lease) in the metastore;
 * 2. stage them as NDJSON and append them in one snapshot whose summary carries the claim id
 *    and the outbox id range (`sluice.system.claim`, `sluice.system.outbox-ids`);
 * 3. delete the claimed rows.
 * A flush that dies leaves its claim behind; once the lease expires the next flush takes it
 * over and looks for the claim id in the table's snapshot summaries: found means step 2
 * happened, so the rows are only deleted; not found means they are appended again.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type JdbcCatalog, openCatalog } from '../catalog/index.js';
import { type Duck, openDuck, sqlString } from '../duck/index.js';
import type { Runtime } from '../runtime/index.js';
import {
  defaultPartitionFieldName,
  icebergToDuckdbType,
  openTable,
  parsePrimitive,
  quoteIdent,
  type Table,
} from '../table/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import {
  parseStoredDefinition,
  SYSTEM_NAMESPACE,
  type SystemColumnDef,
  type SystemTable,
  systemSchema,
} from './definition.js';
import {
  claimedRows,
  claimRows,
  deleteClaim,
  type OutboxClaim,
  openClaims,
  pendingTables,
  releaseClaim,
  renewClaim,
  storedDefinitions,
  takeOverClaim,
} from './outbox.js';
import { mergeColumns, schemaChangesFor } from './schema-sync.js';

/** What flushing needs of a runtime: the metastore, the object store and a logger. */
export type SystemRuntime = Pick<Runtime, 'meta' | 'store' | 'log'>;

/** Snapshot summary key holding the claim id of a flush. */
export const CLAIM_SUMMARY_KEY = 'sluice.system.claim';
/** Snapshot summary key holding the outbox id range (`first-last`) of a flush. */
export const OUTBOX_IDS_SUMMARY_KEY = 'sluice.system.outbox-ids';

/** Default lease of a claim: a flush holding rows longer than this may be taken over. */
export const DEFAULT_CLAIM_LEASE_MS = 5 * 60_000;
/** Default rows flushed per table per flush. */
export const DEFAULT_FLUSH_ROWS = 100_000;

/** A small DuckDB pool for flushing (history rows are few and narrow). */
export function openFlushDuck(): Promise<Duck> {
  return openDuck({ threads: 1, memoryLimit: '512MB', maxConnections: 2 });
}

/** A step of a flush, for logs and metrics. */
export interface FlushProgress {
  table: string;
  stage: 'claimed' | 'committed' | 'deleted' | 'recovered';
  claimId: string;
  rows: number;
}

/** Options of `flushSystemTables`. */
export interface FlushOptions {
  signal?: AbortSignal;
  /** DuckDB pool to write with (default: a small one opened for this flush). */
  duck?: Duck;
  /** Lease of a claim (default 5 min). */
  leaseMs?: number;
  /** Rows per table per flush (default 100,000). */
  maxRowsPerTable?: number;
  /** Called after each step. */
  onProgress?: (p: FlushProgress) => void | Promise<void>;
}

/** What one flush did for a table. */
export interface TableFlush {
  table: string;
  /** Rows appended by this flush (recovered claims included). */
  appendedRows: number;
  /** Rows of crashed flushes found already committed, deleted without appending. */
  alreadyCommittedRows: number;
  /** Snapshots committed. */
  snapshots: bigint[];
  /** Set when the table could not be flushed; its rows stay in the outbox. */
  error?: Error;
}

interface FlushContext {
  runtime: SystemRuntime;
  catalog: JdbcCatalog;
  duck: Duck;
  leaseMs: number;
  maxRows: number;
  o: FlushOptions;
}

const idOf = (name: string) => ({ namespace: [SYSTEM_NAMESPACE], name });

async function loadTable(ctx: FlushContext, name: string): Promise<Table | undefined> {
  if (!(await ctx.catalog.tableExists(idOf(name)))) return undefined;
  return openTable(ctx.catalog, ctx.runtime.store, ctx.duck, idOf(name));
}

/** Create the table (and namespace) or evolve its schema to take `columns`. */
async function ensureTable(
  ctx: FlushContext,
  latest: SystemTable,
  columns: readonly SystemColumnDef[],
): Promise<Table> {
  let table = await loadTable(ctx, latest.name);
  if (!table) {
    if (!(await ctx.catalog.namespaceExists([SYSTEM_NAMESPACE])))
      await ctx.catalog.createNamespace([SYSTEM_NAMESPACE]).catch(async (err) => {
        if (!(await ctx.catalog.namespaceExists([SYSTEM_NAMESPACE]))) throw err;
      });
    const schema = systemSchema(columns);
    const fields = latest.partitionBy.map((p, i) => {
      const source = schema.fields.find((f) => f.name === p.column);
      if (!source) throw new InvalidInputError(`partition column "${p.column}" is not a column`);
      const name = p.name ?? defaultPartitionFieldName(p.column, p.transform);
      return { 'source-id': source.id, 'field-id': 1000 + i, name, transform: p.transform };
    });
    try {
      await ctx.catalog.createTable(idOf(latest.name), {
        schema,
        partitionSpec: { 'spec-id': 0, fields },
        properties: { 'sluice.system-table': 'true' },
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
    table = (await loadTable(ctx, latest.name)) as Table;
  }
  const changes = schemaChangesFor(table, columns);
  if (changes.length > 0) await table.evolveSchema(changes);
  return table;
}

function castColumn(c: SystemColumnDef): string {
  const col = quoteIdent(c.name);
  if (parsePrimitive(c.type).kind === 'binary') return `unhex(${col}) AS ${col}`;
  return `CAST(${col} AS ${icebergToDuckdbType(c.type)}) AS ${col}`;
}

function committedClaim(table: Table | undefined, claimId: string): bigint | undefined {
  return table?.snapshots().find((s) => s.summary[CLAIM_SUMMARY_KEY] === claimId)?.['snapshot-id'];
}

/** Append a claim's rows in one snapshot, then delete them from the outbox. */
async function flushClaim(ctx: FlushContext, name: string, claim: OutboxClaim, out: TableFlush) {
  const { meta, store } = ctx.runtime;
  const rows = await claimedRows(meta, claim.claimId);
  if (rows.length === 0) return;
  const hashes = [...new Set(rows.map((r) => r.definitionHash))];
  const defs = (await storedDefinitions(meta, hashes)).map((d) => parseStoredDefinition(d.definition));
  if (defs.length < hashes.length)
    throw new InvalidInputError(
      `system table ${SYSTEM_NAMESPACE}.${name}: rows refer to unknown definitions`,
    );
  const staging = await store.stagingDir({ signal: ctx.o.signal });
  let appending = false;
  try {
    const columns = mergeColumns(defs);
    const table = await ensureTable(ctx, defs.at(-1) as SystemTable, columns);
    const file = join(staging, 'rows.ndjson');
    await writeFile(file, `${rows.map((r) => r.payload).join('\n')}\n`);
    const types = columns.map((c) => `${sqlString(c.name)}: 'VARCHAR'`).join(', ');
    const select = `SELECT ${columns.map(castColumn).join(', ')} FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = {${types}})`;
    if (!(await renewClaim(meta, claim.claimId, ctx.leaseMs))) return;
    const first = rows[0]?.id ?? 0;
    const last = rows.at(-1)?.id ?? 0;
    appending = true;
    const result = await table.append(select, {
      signal: ctx.o.signal,
      properties: {
        [CLAIM_SUMMARY_KEY]: claim.claimId,
        [OUTBOX_IDS_SUMMARY_KEY]: `${first}-${last}`,
        'sluice.system.rows': String(rows.length),
      },
    });
    out.appendedRows += rows.length;
    out.snapshots.push(result.snapshot['snapshot-id']);
    await ctx.o.onProgress?.({ table: name, stage: 'committed', claimId: claim.claimId, rows: rows.length });
  } catch (err) {
    // Before the append nothing can have been committed: give the rows back for the next flush.
    // After it started, the claim stays until its lease expires and the summary tells.
    if (!appending) await releaseClaim(meta, claim.claimId).catch(() => {});
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await deleteClaim(meta, claim.claimId);
  await ctx.o.onProgress?.({ table: name, stage: 'deleted', claimId: claim.claimId, rows: rows.length });
}

async function flushTable(ctx: FlushContext, name: string): Promise<TableFlush> {
  const { meta } = ctx.runtime;
  const out: TableFlush = { table: name, appendedRows: 0, alreadyCommittedRows: 0, snapshots: [] };
  const claims = await openClaims(meta, name);
  if (claims.some((c) => c.claimUntil >= Date.now())) return out;
  for (const old of claims) {
    ctx.o.signal?.throwIfAborted();
    const claim = { ...old, claimId: randomUUID() };
    if (!(await takeOverClaim(meta, name, old.claimId, claim.claimId, ctx.leaseMs))) return out;
    const table = await loadTable(ctx, name);
    if (committedClaim(table, old.claimId) !== undefined) {
      out.alreadyCommittedRows += await deleteClaim(meta, claim.claimId);
      await ctx.o.onProgress?.({ table: name, stage: 'recovered', claimId: old.claimId, rows: old.rows });
      continue;
    }
    await flushClaim(ctx, name, claim, out);
  }
  ctx.o.signal?.throwIfAborted();
  const claim = await claimRows(meta, name, randomUUID(), ctx.leaseMs, ctx.maxRows);
  if (claim.rows === 0) return out;
  await ctx.o.onProgress?.({ table: name, stage: 'claimed', claimId: claim.claimId, rows: claim.rows });
  await flushClaim(ctx, name, claim, out);
  return out;
}

/**
 * Move the outbox's rows into the system tables: per table one append snapshot (plus one
 * per crashed flush recovered), creating the namespace and tables on first use and adding
 * the columns definitions gained. A table that fails keeps its rows for the next flush and
 * reports the error; the other tables are flushed regardless.
 */
export async function flushSystemTables(runtime: SystemRuntime, o: FlushOptions = {}): Promise<TableFlush[]> {
  const duck = o.duck ?? (await openFlushDuck());
  const ctx: FlushContext = {
    runtime,
    catalog: openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log }),
    duck,
    leaseMs: o.leaseMs ?? DEFAULT_CLAIM_LEASE_MS,
    maxRows: Math.max(1, Math.floor(o.maxRowsPerTable ?? DEFAULT_FLUSH_ROWS)),
    o,
  };
  const log = runtime.log.child({ component: 'system-tables' });
  const results: TableFlush[] = [];
  try {
    for (const name of await pendingTables(runtime.meta)) {
      o.signal?.throwIfAborted();
      try {
        results.push(await flushTable(ctx, name));
      } catch (err) {
        if (o.signal?.aborted) throw err;
        log.error({ err, table: name }, 'system table flush failed; rows stay in the outbox');
        results.push({
          table: name,
          appendedRows: 0,
          alreadyCommittedRows: 0,
          snapshots: [],
          error: err as Error,
        });
      }
    }
  } finally {
    if (!o.duck) await duck.close();
  }
  return results;
}

/**
 * Optimistic commits: read the current metadata, check the requirements, apply the updates,
 * write a new metadata file, then swap the pointers in one metastore transaction (the JDBC
 * catalog's `UPDATE ... WHERE metadata_location = <expected>`). A lost race re-reads and
 * re-checks, so a real conflict surfaces as "expected X, found Y" and no commit is lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
// The module itself, not the auth index: it is free of the catalog (no import cycle).
import { type AuditSurface, recordAudit } from '../auth/audit.js';
import { announceTrigger, type MetaStore, type SqlRunner } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import type { ObjectStore } from '../storage/index.js';
import { SYSTEM_NAMESPACE } from '../system/definition.js';
import {
  appendMetadataLog,
  applyUpdates,
  checkRequirements,
  type LoadedTable,
  type TableIdentifier,
  type TableMetadata,
  type TableRequirement,
  type TableUpdate,
} from '../table/index.js';
import { ConflictError, currentActor, InvalidInputError } from '../util/index.js';
import { CommitFailedError, NoSuchTableError } from './errors.js';
import { requireNamespace } from './jdbc-namespaces.js';
import { insertTable, selectTable, swapPointer } from './jdbc-sql.js';
import {
  discardMetadata,
  nextMetadataVersion,
  readTableMetadata,
  rememberMetadata,
  writeTableMetadata,
} from './metadata-io.js';
import { formatIdentifier, namespaceToString, validateIdentifier } from './names.js';

/** One table's part of a (multi-table) commit. */
export interface TableChange {
  identifier: TableIdentifier;
  requirements: TableRequirement[];
  updates: TableUpdate[];
}

/** What the commit loop needs from its catalog. */
export interface CommitContext {
  meta: MetaStore;
  store: ObjectStore;
  catalog: string;
  log: Logger | undefined;
  maxAttempts: number;
  defaultLocation(id: TableIdentifier): string;
}

function remember(ctx: CommitContext, prepared: readonly Prepared[]): void {
  for (const p of prepared)
    if (p.written !== undefined) rememberMetadata(ctx.store, p.written, p.result.metadata);
}

interface Prepared {
  id: TableIdentifier;
  /** The pointer read (undefined: the commit creates the table). */
  base: string | undefined;
  /** The metadata file written (undefined: nothing changed). */
  written: string | undefined;
  result: LoadedTable;
  /** The main snapshot before the commit (null: none, or a new table). */
  fromSnapshot: bigint | null;
}

class LostRace extends Error {}

function failed(err: unknown): never {
  if (err instanceof ConflictError && !(err instanceof CommitFailedError))
    throw new CommitFailedError(err.message, undefined, { cause: err });
  throw err;
}

async function prepareCreate(ctx: CommitContext, change: TableChange): Promise<Prepared> {
  const { identifier: id, requirements } = change;
  if (!requirements.some((r) => r.type === 'assert-create')) {
    throw new NoSuchTableError(`table "${formatIdentifier(id)}" does not exist`);
  }
  await requireNamespace(ctx.meta, ctx.catalog, id.namespace);
  try {
    checkRequirements(undefined, requirements);
  } catch (err) {
    failed(err);
  }
  const updates = change.updates.some((u) => u.action === 'set-location')
    ? change.updates
    : [{ action: 'set-location' as const, location: ctx.defaultLocation(id) }, ...change.updates];
  const md = applyUpdates(undefined, updates);
  const written = await writeTableMetadata(ctx.store, md, 0);
  return {
    id,
    base: undefined,
    written,
    result: { identifier: id, metadata: md, metadataLocation: written },
    fromSnapshot: null,
  };
}

async function prepare(ctx: CommitContext, change: TableChange): Promise<Prepared> {
  const id = change.identifier;
  const row = await selectTable(ctx.meta, ctx.catalog, id.namespace, id.name);
  if (!row) return prepareCreate(ctx, change);
  const base = row.metadata_location;
  if (!base)
    throw new InvalidInputError(`table "${formatIdentifier(id)}" has no metadata location in the catalog`);
  const current = await readTableMetadata(ctx.store, base);
  try {
    checkRequirements(current, change.requirements);
  } catch (err) {
    failed(err);
  }
  if (change.updates.length === 0) {
    return {
      id,
      base,
      written: undefined,
      result: { identifier: id, metadata: current, metadataLocation: base },
      fromSnapshot: null,
    };
  }
  let next: TableMetadata = applyUpdates(current, change.updates);
  next = appendMetadataLog(next, { 'metadata-file': base, 'timestamp-ms': current['last-updated-ms'] });
  const written = await writeTableMetadata(ctx.store, next, nextMetadataVersion(base, current));
  return {
    id,
    base,
    written,
    result: { identifier: id, metadata: next, metadataLocation: written },
    fromSnapshot: current['current-snapshot-id'] ?? null,
  };
}

/** More catalog row changes made in the same transaction as a commit's pointer swaps. */
export type AlsoInTransaction = (tx: SqlRunner) => Promise<void>;

/** Swap every pointer in one transaction; LostRace if any moved. */
async function swap(ctx: CommitContext, prepared: Prepared[], also?: AlsoInTransaction): Promise<void> {
  await ctx.meta.transaction(async (tx) => {
    await also?.(tx);
    for (const p of prepared) {
      const { namespace, name } = p.id;
      let ok: boolean;
      if (p.base === undefined) ok = await insertTable(tx, ctx.catalog, namespace, name, p.written as string);
      else if (p.written === undefined) {
        // Requirements-only entries: lock and re-check the pointer so the whole commit stays atomic.
        const { rowCount } = await tx.execute(
          `UPDATE iceberg_tables SET metadata_location = metadata_location
           WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?`,
          [ctx.catalog, namespaceToString(namespace), name, p.base],
        );
        ok = rowCount === 1;
      } else ok = await swapPointer(tx, ctx.catalog, namespace, name, p.base, p.written);
      if (!ok) throw new LostRace();
    }
    await auditCommits(tx, prepared);
  });
}

/**
 * One `commit` audit row per table changed, in the commit's own transaction, naming the
 * actor of the call chain (a user's request or statement, a pipeline's task).
 */
async function auditCommits(tx: SqlRunner, prepared: Prepared[]): Promise<void> {
  await auditCatalogChange(
    tx,
    prepared
      .filter((p) => p.written !== undefined)
      .map((p) => {
        const md = p.result.metadata;
        const snapshotId = md['current-snapshot-id'];
        const snapshot = md.snapshots?.find((s) => s['snapshot-id'] === snapshotId);
        return {
          action: p.base === undefined ? 'create' : 'commit',
          id: p.id,
          detail: {
            snapshot_id: snapshotId === null || snapshotId === undefined ? null : String(snapshotId),
            operation: snapshotId === p.fromSnapshot ? 'metadata' : snapshot?.summary?.operation,
          },
        };
      }),
  );
}

/**
 * Audit rows for catalog changes (create, commit, rename, drop of tables and views) as the
 * actor of the call chain, in `tx` when it is a transaction. The platform's own tables are
 * left out: their flushes would otherwise audit themselves forever.
 */
export async function auditCatalogChange(
  tx: SqlRunner | MetaStore,
  changes: { action: string; id: TableIdentifier; detail?: Record<string, unknown> }[],
): Promise<void> {
  const audited = changes.filter((c) => c.id.namespace[0] !== SYSTEM_NAMESPACE);
  if (audited.length === 0) return;
  const actor = currentActor();
  await recordAudit(
    tx,
    audited.map((c) => ({
      principal: actor,
      surface: actor.surface as AuditSurface,
      action: c.action,
      resource: `table:${formatIdentifier(c.id)}`,
      outcome: 'ok' as const,
      detail: { ...actor.detail, ...c.detail },
    })),
  );
}

/**
 * Announce each table whose main branch moved to a new snapshot as a trigger event (after the
 * commit; a failed notification is logged, the commit stands).
 */
async function announceSnapshots(ctx: CommitContext, prepared: Prepared[]): Promise<void> {
  for (const p of prepared) {
    const snapshot = p.result.metadata['current-snapshot-id'];
    if (p.written === undefined || snapshot === null || snapshot === undefined || snapshot === p.fromSnapshot)
      continue;
    const name = formatIdentifier(p.id);
    await announceTrigger(ctx.meta, { kind: 'table', name, id: `${name}@${snapshot}` }).catch((err) =>
      ctx.log?.warn({ err, table: name }, 'could not announce the commit to pipelines'),
    );
  }
}

/**
 * Commit changes to one or more tables atomically, retrying lost races with jittered backoff.
 * `pending` (writes of files the new metadata refers to) runs while the metadata files are
 * written; the pointers are swapped only after it resolved.
 * @throws CommitFailedError (a ConflictError) when a requirement fails or retries run out.
 */
export async function commitChanges(
  ctx: CommitContext,
  changes: TableChange[],
  also?: AlsoInTransaction,
  pending?: Promise<unknown>,
): Promise<LoadedTable[]> {
  const seen = new Set<string>();
  for (const c of changes) {
    const key = formatIdentifier(validateIdentifier(c.identifier));
    if (seen.has(key)) throw new InvalidInputError(`table "${key}" appears twice in one commit`);
    seen.add(key);
  }
  for (let attempt = 1; ; attempt++) {
    const prepared: Prepared[] = [];
    try {
      for (const change of changes) prepared.push(await prepare(ctx, change));
      await pending;
    } catch (err) {
      await Promise.all(prepared.map((p) => p.written && discardMetadata(ctx.store, p.written)));
      throw err;
    }
    if (prepared.every((p) => p.written === undefined) && changes.length === 1 && !also)
      return prepared.map((p) => p.result);
    try {
      await swap(ctx, prepared, also);
      remember(ctx, prepared);
      ctx.log?.debug({ tables: [...seen], attempt }, 'catalog commit');
      await announceSnapshots(ctx, prepared);
      return prepared.map((p) => p.result);
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
    await Promise.all(prepared.map((p) => p.written && discardMetadata(ctx.store, p.written)));
    if (attempt >= ctx.maxAttempts) {
      throw new CommitFailedError(
        `commit to ${[...seen].map((t) => `"${t}"`).join(', ')} lost ${attempt} races with concurrent commits`,
        'retry the commit later',
      );
    }
    ctx.log?.debug({ tables: [...seen], attempt }, 'catalog commit lost a race; retrying');
    await sleep(Math.random() * Math.min(1000, 10 * 2 ** attempt));
  }
}

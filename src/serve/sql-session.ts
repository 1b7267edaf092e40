/**
 * An engine session for an authenticated caller of a SQL surface (HTTP SQL, PostgreSQL wire):
 * the per-table policy as the engine's access hook, and one audit row per statement
 * (user, statement hash, tables read and written, rows returned, outcome).
 */
import {
  type AuditSurface,
  type AuthStore,
  mayWriteSomething,
  type Principal,
  recordAudit,
  type SqlPolicyOptions,
  sqlAccessHook,
  statementHash,
} from '../auth/index.js';
import type {
  Engine,
  EngineSession,
  ExportedFile,
  PreparedShape,
  QueryResult,
  RunOptions,
  SessionUser,
} from '../engine/index.js';
import type { MetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { InvalidInputError, PermissionError, withActor } from '../util/index.js';

/** Where a SQL session comes from, for its policy and audit rows. */
export interface UserSessionOptions {
  store: AuthStore;
  policy: SqlPolicyOptions;
  surface: AuditSurface;
  remote?: string;
  /** Audit rows go here (the metastore outbox of sluice_system.audit). */
  audit: MetaStore;
  log?: Logger;
}

/** Open `principal`'s engine session under the policy, audited. */
export async function openUserSession(
  engine: Engine,
  principal: Principal,
  o: UserSessionOptions,
  user?: Partial<SessionUser>,
): Promise<EngineSession> {
  let tables: { read: string[]; written: string[] } = { read: [], written: [] };
  const access = sqlAccessHook(principal, o.store, {
    ...o.policy,
    onChecked: (s) => {
      tables = { read: s.read, written: s.written };
    },
  });
  const readOnly = user?.readOnly === true || !(await mayWriteSomething(principal, o.store));
  const session = await engine.openSession({ name: principal.name, readOnly }, { access });
  const record = (sql: string, outcome: 'ok' | 'denied' | 'failed', detail: Record<string, unknown>) =>
    recordAudit(o.audit, [
      {
        principal,
        surface: o.surface,
        action: 'query',
        resource: tables.written[0] ? `table:${tables.written[0]}` : undefined,
        outcome,
        remote: o.remote,
        detail: { statement: statementHash(sql), read: tables.read, written: tables.written, ...detail },
      },
    ]).catch((err: unknown) => o.log?.warn({ err }, 'writing an audit row failed'));
  /** Run as the principal; a failure or refusal is recorded before it is thrown. */
  async function runAudited<T>(sql: string, run: () => Promise<T>): Promise<T> {
    tables = { read: [], written: [] };
    try {
      return await withActor(
        {
          name: principal.name,
          via: principal.via,
          surface: o.surface,
          detail: { statement: statementHash(sql) },
        },
        run,
      );
    } catch (err) {
      const denied = err instanceof PermissionError;
      await record(sql, denied ? 'denied' : 'failed', denied ? { reason: err.message.split('\n')[0] } : {});
      throw err;
    }
  }

  return {
    user: session.user,
    describe: (sql: string): Promise<PreparedShape> => session.describe(sql),
    close: () => session.close(),
    async run(sql: string, ro?: RunOptions): Promise<QueryResult> {
      const result = await runAudited(sql, () => session.run(sql, ro));
      return audited(result, (rows) => record(sql, 'ok', rows));
    },
    async exportParquet(sql: string, ro?: RunOptions): Promise<ExportedFile> {
      if (!session.exportParquet) throw new InvalidInputError('this SQL engine cannot write Parquet files');
      const exportParquet = session.exportParquet.bind(session);
      const file = await runAudited(sql, () => exportParquet(sql, ro));
      await record(sql, 'ok', { rowsReturned: file.rows, format: 'parquet' });
      return file;
    },
  };
}

/** The result, counting the rows the client pulls; `done` runs once when it is closed. */
function audited(
  result: QueryResult,
  done: (detail: Record<string, unknown>) => Promise<unknown>,
): QueryResult {
  let rows = 0;
  let recorded = false;
  const finish = async () => {
    if (recorded) return;
    recorded = true;
    await done(
      result.rowsChanged !== undefined ? { rowsChanged: result.rowsChanged } : { rowsReturned: rows },
    );
  };
  return {
    get columns() {
      return result.columns;
    },
    get statementType() {
      return result.statementType;
    },
    get rowsChanged() {
      return result.rowsChanged;
    },
    async *batches() {
      try {
        for await (const batch of result.batches()) {
          rows += batch.length;
          yield batch;
        }
      } finally {
        await finish();
      }
    },
    async close() {
      await result.close();
      await finish();
    },
  };
}

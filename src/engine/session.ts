/** One client's session: its own DuckDB connection (search path, settings, temp objects). */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { StatementType } from '../duck/node-api.js';
import { InvalidInputError } from '../util/index.js';
import { checkAccess, refuseSystemWrite } from './access.js';
import { planStatement, queryKeyword, type StatementPlan } from './classify.js';
import { engineError, SqlError } from './errors.js';
import { type ExportedFile, exportedFile, newExportPath } from './export.js';
import { mentionsOf } from './lake.js';
import { splitStatements } from './lexer.js';
import { type StatementControl, StreamedResult, SummaryResult } from './results.js';
import type {
  AccessHook,
  EngineSession,
  PreparedShape,
  QueryResult,
  RunOptions,
  SessionOptions,
  SessionUser,
} from './types.js';
import { runWrite, targetsLake, type WriteContext } from './writes.js';

/** What sessions share: the engine's admission, views and write path. */
export interface SessionHost extends WriteContext {
  begin(sql: string, o: RunOptions): Promise<StatementControl>;
  /** Connection that (re)builds views, shared by sessions. */
  admin: DuckDBConnection;
  /** Whether COPY ... TO may write local files (embedded use by the file's owner). */
  allowCopy: boolean;
  /** Where exported result files go while clients read them (DuckDB may write there). */
  exportDir: string;
  forget(session: Session): void;
}

/** DuckDB's errors for a file that does not exist (any more). */
const MISSING_FILE = /No files found that match|No such file or directory|Cannot open file/i;

/** A session of the engine. */
export class Session implements EngineSession {
  readonly user: SessionUser;
  readonly #conn: DuckDBConnection;
  readonly #host: SessionHost;
  readonly #access: AccessHook | undefined;
  #current: QueryResult | undefined;
  /** The statement being started: DuckDB runs one statement per connection at a time. */
  #starting: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(user: SessionUser, conn: DuckDBConnection, host: SessionHost, o: SessionOptions = {}) {
    this.user = Object.freeze({ ...user });
    this.#conn = conn;
    this.#host = host;
    this.#access = o.access;
  }

  /** The statement as it runs after the access hook's checks (masked reads rewritten). */
  async #checked(sql: string, plan: StatementPlan): Promise<{ sql: string; plan: StatementPlan }> {
    refuseSystemWrite(plan);
    if (!this.#access) return { sql, plan };
    const checked = await checkAccess(this.#conn, this.#host.views, this.#access, sql, plan);
    this.#access.checked?.({ sql, read: checked.read, written: checked.written });
    return checked;
  }

  run(sql: string, o: RunOptions = {}): Promise<QueryResult> {
    const started = this.#starting.then(() => this.#run(sql, o));
    this.#starting = started.catch(() => undefined);
    return started;
  }

  /** Before a statement: the session is open and the previous result released. Answers the statements of `sql`. */
  async #next(sql: string): Promise<string[]> {
    if (this.#closed) throw new InvalidInputError('the SQL session is closed');
    await this.#current?.close();
    this.#current = undefined;
    return splitStatements(sql);
  }

  async #run(sql: string, o: RunOptions): Promise<QueryResult> {
    const statements = await this.#next(sql);
    if (statements.length === 0) return new SummaryResult('EMPTY');
    if (statements.length > 1)
      throw new InvalidInputError(
        `expected one SQL statement, got ${statements.length}`,
        'run statements one at a time',
      );
    const planned = planStatement(sql, this.user.readOnly, { allowCopy: this.#host.allowCopy });
    const ctl = this.#interruptible(await this.#host.begin(sql, o));
    const interrupt = () => this.#conn.interrupt();
    try {
      await this.#host.views.sync(this.#host.admin, mentionsOf(sql), ctl.signal);
      ctl.signal.throwIfAborted();
      const { sql: text, plan } = await this.#checked(sql, planned);
      if (plan.kind !== 'duck' && targetsLake(this.#host, plan)) {
        const result = await runWrite(this.#host, plan, o.params, ctl.signal, o);
        ctl.done();
        return result;
      }
      const values = (o.params ?? []) as DuckDBValue[];
      const raw = await this.#stream(text, values, ctl.signal);
      const statementType = plan.kind === 'duck' ? plan.statementType : plan.kind.toUpperCase();
      if (plan.kind !== 'duck') {
        // A write of the session's own temporary table: DuckDB reports the count.
        const rows = (await raw.getRows()) as unknown[][];
        ctl.done();
        const n = rows[0]?.[0];
        return new SummaryResult(
          statementType,
          typeof n === 'bigint' || typeof n === 'number' ? Number(n) : undefined,
        );
      }
      const result = new StreamedResult(raw, statementType, sql, ctl, interrupt);
      this.#current = result;
      return result;
    } catch (err) {
      ctl.done();
      throw engineError(
        err,
        sql,
        ctl.abortReason() ?? (ctl.signal.aborted ? { cancelled: true } : undefined),
      );
    }
  }

  exportParquet(sql: string, o: RunOptions = {}): Promise<ExportedFile> {
    const started = this.#starting.then(() => this.#exportParquet(sql, o));
    this.#starting = started.catch(() => undefined);
    return started;
  }

  async #exportParquet(sql: string, o: RunOptions): Promise<ExportedFile> {
    const statements = await this.#next(sql);
    if (statements.length !== 1)
      throw new InvalidInputError(
        `expected one query to export, got ${statements.length} statements`,
        'send one SELECT',
      );
    const { query, keyword } = queryKeyword(sql);
    if (!query)
      throw new SqlError(
        `only a query (SELECT, WITH, VALUES, FROM, TABLE) can be downloaded as Parquet, not ${keyword}`,
        sql,
        '0A000',
        undefined,
        'run it on its own, then download the rows of a SELECT',
      );
    const planned = planStatement(sql, this.user.readOnly);
    const path = await newExportPath(this.#host.exportDir, 'parquet');
    const ctl = this.#interruptible(await this.#host.begin(sql, o));
    try {
      await this.#host.views.sync(this.#host.admin, mentionsOf(sql), ctl.signal);
      ctl.signal.throwIfAborted();
      const { sql: text } = await this.#checked(sql, planned);
      const body = splitStatements(text)[0] ?? text;
      // DuckDB parses and binds the query alone first: errors point into the user's text, and
      // only a complete single SELECT gets wrapped into the COPY below.
      const prepared = await this.#conn.prepare(body);
      const kind = prepared.statementType;
      prepared.destroySync();
      if (kind !== StatementType.SELECT)
        throw new SqlError('only a query can be downloaded as Parquet', sql, '0A000');
      const copy = `COPY (\n${body}\n) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`;
      const raw = await this.#stream(copy, (o.params ?? []) as DuckDBValue[], ctl.signal);
      const n = ((await raw.getRows()) as unknown[][])[0]?.[0];
      ctl.done();
      return exportedFile(path, typeof n === 'bigint' || typeof n === 'number' ? Number(n) : 0);
    } catch (err) {
      ctl.done();
      await exportedFile(path, 0).remove();
      throw engineError(
        err,
        sql,
        ctl.abortReason() ?? (ctl.signal.aborted ? { cancelled: true } : undefined),
      );
    }
  }

  /**
   * Start a statement in DuckDB. When a file a view reads has gone (the read cache evicted a
   * remote table's file), rebuild the views, which fetches it again, and start once more.
   */
  async #stream(sql: string, values: DuckDBValue[], signal: AbortSignal) {
    const start = () => this.#conn.stream(sql, values.length ? values : undefined);
    try {
      return await start();
    } catch (err) {
      if (signal.aborted || !MISSING_FILE.test(String(err))) throw err;
      this.#host.views.invalidate();
      await this.#host.views.sync(this.#host.admin, mentionsOf(sql), signal);
      return start();
    }
  }

  /**
   * Interrupt the connection when the statement is aborted, and keep interrupting until it
   * ends: an interrupt that arrives before DuckDB starts executing would otherwise be lost.
   */
  #interruptible(ctl: StatementControl): StatementControl {
    let timer: NodeJS.Timeout | undefined;
    const interrupt = () => {
      this.#conn.interrupt();
      timer ??= setInterval(() => this.#conn.interrupt(), 25);
    };
    if (ctl.signal.aborted) interrupt();
    else ctl.signal.addEventListener('abort', interrupt, { once: true });
    return {
      signal: ctl.signal,
      abortReason: ctl.abortReason,
      done: () => {
        clearInterval(timer);
        ctl.signal.removeEventListener('abort', interrupt);
        ctl.done();
      },
    };
  }

  async describe(sql: string): Promise<PreparedShape> {
    if (this.#closed) throw new InvalidInputError('the SQL session is closed');
    const planned = planStatement(sql, this.user.readOnly, { allowCopy: this.#host.allowCopy });
    await this.#host.views.sync(this.#host.admin, mentionsOf(sql));
    const { sql: text, plan } = await this.#checked(sql, planned);
    if (plan.kind !== 'duck' && targetsLake(this.#host, plan)) return { columns: [], paramTypes: [] };
    let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>;
    try {
      prepared = await this.#conn.prepare(text);
    } catch (err) {
      throw engineError(err, sql);
    }
    try {
      const columns = Array.from({ length: prepared.columnCount }, (_, i) => ({
        name: prepared.columnName(i),
        type: prepared.columnType(i),
      }));
      const paramTypes = Array.from({ length: prepared.parameterCount }, (_, i) => {
        try {
          return prepared.parameterType(i + 1);
        } catch {
          return undefined;
        }
      });
      return { columns, paramTypes };
    } finally {
      prepared.destroySync();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#current?.close();
    this.#conn.closeSync();
    this.#host.forget(this);
  }
}

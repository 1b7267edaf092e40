/**
 * The query engine: one DuckDB instance whose catalog shows every lake table as
 * `namespace.table`, sessions with their own connections, admission limits and timeouts.
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
// Not the catalog barrel: it loads the REST catalog's HTTP app, which queries do not need.
import { DEFAULT_CATALOG_NAME, openCatalog } from '../catalog/jdbc-catalog.js';
import type { Project } from '../config/project.js';
import { projectPath } from '../config/resolve.js';
import { Duck } from '../duck/index.js';
import { DuckDBInstance } from '../duck/node-api.js';
import type { Runtime } from '../runtime/index.js';
import { BackendError, InvalidInputError } from '../util/index.js';
import { engineError } from './errors.js';
import { exportDir, removeStaleExports } from './export.js';
import { LakeViews } from './lake.js';
import { QuerySlots } from './limits.js';
import type { StatementControl } from './results.js';
import { Session, type SessionHost } from './session.js';
import type { Engine, EngineSession, RunOptions, SessionOptions, SessionUser } from './types.js';
import type { WriteContext } from './writes.js';

/** Settings of an engine; unset ones come from the project's `engine:` section. */
export interface EngineOptions {
  /** Default statement timeout in ms (0 = none). */
  statementTimeoutMs?: number;
  /** Memory for all running statements together, in bytes. */
  memoryLimitBytes?: number;
  maxConcurrentQueries?: number;
  queueSize?: number;
  threads?: number;
  /** Where big sorts and joins spill. */
  tempDir?: string;
  /**
   * `lake`: statements read only the lake's files (servers); `all`: also any local file the
   * process can read, e.g. `SELECT * FROM 'data.csv'` (the embedded CLI).
   */
  fileAccess?: 'lake' | 'all';
  /** The JDBC-catalog name (default "sluice"). */
  catalogName?: string;
  /**
   * Properties of the lake tables statements create (`CREATE TABLE ... AS`), by table, e.g.
   * a deploy's `write.data.path` for its staging tables.
   */
  newTableProperties?: WriteContext['newTableProperties'];
}

/** Directories DuckDB may touch when file access is limited to the lake. */
function lakeDirectories(runtime: Runtime, tempDir: string): string[] {
  const { project } = runtime;
  const dirs = [tempDir, project.config.storage.cache?.dir ?? join(project.dataDir, 'cache')];
  if (runtime.store.url.startsWith('file:')) dirs.push(fileURLToPath(runtime.store.url));
  return dirs.map((d) => (d.endsWith('/') ? d : `${d}/`));
}

class DuckEngine implements Engine, SessionHost {
  readonly views: LakeViews;
  readonly duck: Duck;
  readonly catalog: ReturnType<typeof openCatalog>;
  readonly store: Runtime['store'];
  readonly admin: DuckDBConnection;
  readonly allowCopy: boolean;
  readonly exportDir: string;
  readonly newTableProperties: WriteContext['newTableProperties'];
  readonly #instance: DuckDBInstance;
  readonly #slots: QuerySlots;
  readonly #timeoutMs: number;
  readonly #sessions = new Set<Session>();
  #closed = false;

  constructor(
    runtime: Runtime,
    instance: DuckDBInstance,
    admin: DuckDBConnection,
    o: Required<
      Pick<
        EngineOptions,
        'statementTimeoutMs' | 'maxConcurrentQueries' | 'queueSize' | 'catalogName' | 'fileAccess' | 'tempDir'
      >
    > &
      Pick<EngineOptions, 'newTableProperties'>,
  ) {
    this.newTableProperties = o.newTableProperties;
    this.#instance = instance;
    this.admin = admin;
    this.allowCopy = o.fileAccess === 'all';
    this.exportDir = exportDir(o.tempDir);
    this.store = runtime.store;
    this.duck = new Duck(instance, o.maxConcurrentQueries);
    this.catalog = openCatalog({
      meta: runtime.meta,
      store: runtime.store,
      log: runtime.log,
      name: o.catalogName,
    });
    this.views = new LakeViews(runtime.meta, runtime.store, o.catalogName);
    this.#slots = new QuerySlots(o.maxConcurrentQueries, o.queueSize);
    this.#timeoutMs = o.statementTimeoutMs;
  }

  async openSession(user: SessionUser, o?: SessionOptions): Promise<EngineSession> {
    if (this.#closed) throw new InvalidInputError('the SQL engine is closed');
    const conn = await this.#instance.connect();
    await conn.run('SET errors_as_json = true');
    await conn.run("SET TimeZone = 'UTC'");
    const session = new Session(user, conn, this, o);
    this.#sessions.add(session);
    return session;
  }

  forget(session: Session): void {
    this.#sessions.delete(session);
  }

  async begin(sql: string, o: RunOptions): Promise<StatementControl> {
    const controller = new AbortController();
    const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
    let reason: { timeoutMs?: number; cancelled?: boolean } | undefined;
    const onCancel = () => {
      reason ??= { cancelled: true };
      controller.abort(o.signal?.reason);
    };
    if (o.signal?.aborted) onCancel();
    o.signal?.addEventListener('abort', onCancel, { once: true });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            reason ??= { timeoutMs };
            controller.abort(new Error('statement timeout'));
          }, timeoutMs)
        : undefined;
    let release: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onCancel);
      release?.();
    };
    try {
      release = await this.#slots.acquire(controller.signal);
    } catch (err) {
      done();
      throw engineError(err, sql, reason);
    }
    return { signal: controller.signal, abortReason: () => reason, done };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) await s.close();
    this.admin.closeSync();
    await this.duck.close();
  }
}

function memorySetting(bytes: number): string {
  return `${Math.max(1, Math.floor(bytes / 1024))}KiB`;
}

/** A DuckDB instance started for an engine, with its admin connection. */
export interface StartedDuck {
  instance: DuckDBInstance;
  admin: DuckDBConnection;
  tempDir: string;
}

function engineOpenError(err: unknown): BackendError {
  return new BackendError(
    `cannot open the SQL engine: ${err instanceof Error ? err.message : String(err)}`,
    'check engine.memoryLimit, engine.threads and engine.tempDir in sluice.yaml',
    { cause: err },
  );
}

/**
 * Start the DuckDB instance of a project's engine with the configured limits. DuckDB starts
 * on its own threads, so a caller can open the metastore meanwhile and then pass the
 * promise to `openEngine`.
 */
export async function startDuck(project: Project, options: EngineOptions = {}): Promise<StartedDuck> {
  const cfg = project.config.engine;
  const tempDir =
    options.tempDir ?? (cfg.tempDir ? projectPath(project.dir, cfg.tempDir) : join(project.dataDir, 'tmp'));
  const memory = options.memoryLimitBytes ?? cfg.memoryLimit;
  const threads = options.threads ?? cfg.threads;
  const config: Record<string, string> = { temp_directory: tempDir };
  if (memory) config.memory_limit = memorySetting(memory);
  if (threads) config.threads = String(threads);
  try {
    await mkdir(tempDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', config);
    return { instance, admin: await instance.connect(), tempDir };
  } catch (err) {
    throw engineOpenError(err);
  }
}

/**
 * Open the query engine of a project: a DuckDB instance with the configured limits, showing
 * the catalog's tables. `started` is an instance begun with `startDuck` and the same options.
 * @throws BackendError when DuckDB rejects a setting.
 */
export async function openEngine(
  runtime: Runtime,
  options: EngineOptions = {},
  started?: Promise<StartedDuck>,
): Promise<Engine> {
  const cfg = runtime.project.config.engine;
  const { instance, admin, tempDir } = await (started ?? startDuck(runtime.project, options));
  await removeStaleExports(exportDir(tempDir));
  if ((options.fileAccess ?? 'lake') === 'lake') {
    try {
      const dirs = lakeDirectories(runtime, tempDir);
      await admin.run(
        `SET allowed_directories = [${dirs.map((d) => `'${d.replace(/'/g, "''")}'`).join(', ')}]`,
      );
      await admin.run('SET enable_external_access = false');
    } catch (err) {
      admin.closeSync();
      instance.closeSync();
      throw engineOpenError(err);
    }
  }
  return new DuckEngine(runtime, instance, admin, {
    statementTimeoutMs: options.statementTimeoutMs ?? cfg.statementTimeoutMs,
    maxConcurrentQueries: options.maxConcurrentQueries ?? cfg.maxConcurrentQueries,
    queueSize: options.queueSize ?? cfg.queueSize,
    catalogName: options.catalogName ?? DEFAULT_CATALOG_NAME,
    fileAccess: options.fileAccess ?? 'lake',
    tempDir,
    newTableProperties: options.newTableProperties,
  });
}

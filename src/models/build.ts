/**
 * Build models on the lake through the SQL engine, in ref order with bounded parallelism.
 * Each model build is one statement, so one Iceberg commit: readers never see a half-built
 * model and the previous snapshot stays for time travel and rollback.
 *
 * - `table`: `CREATE OR REPLACE TABLE schema.model AS <select>`.
 * - `view`: `CREATE OR REPLACE VIEW schema.model AS <select>`, a catalog view every engine
 *   connection (HTTP SQL, pgwire, `sluice sql`) shows; readers see the tables it reads as of
 *   their statement.
 * - `incremental`: the first build (or `--full-refresh`) creates the table; later builds
 *   render with `is_incremental()` true and `INSERT INTO ... BY NAME` (append) or, with a
 *   `unique_key`, `INSERT OR REPLACE INTO ... BY NAME` (merge by the key).
 * - `ephemeral`: nothing is built; models that ref it get it as a CTE.
 * - seeds: `CREATE OR REPLACE TABLE schema.seed AS SELECT * FROM read_csv(...)`.
 *
 * Columns tagged PII in schema.yml set the table property `sluice.pii.columns` before the
 * data lands (a first build creates the table empty, tags it, then fills it), so no reader
 * without the `pii` privilege ever sees those columns unmasked.
 */
import { join } from 'node:path';
import { TABLE_PROPERTIES } from '../auth/index.js';
import { openCatalog, viewSchema } from '../catalog/index.js';
import { sqlString } from '../duck/index.js';
import { type Engine, type EngineSession, splitStatements } from '../engine/index.js';
import type { Runtime } from '../runtime/index.js';
import { currentSchema } from '../table/index.js';
import { errorMessage, InvalidInputError } from '../util/index.js';
import { Compiler, relationOf } from './compile.js';
import { buildOrder, selectNodes } from './select.js';
import { firstSnapshotSql, mergeSnapshotSql } from './snapshots.js';
import type { ModelNode, ModelsProject } from './types.js';

/** Options of a build. */
export interface BuildOptions {
  /** `--select` expression (default: every model and seed). */
  select?: string | string[];
  /** Rebuild incremental models from scratch. */
  fullRefresh?: boolean;
  /** Models built at once (default 4). */
  threads?: number;
  signal?: AbortSignal;
  /** Called when a node starts and when it ends. */
  onEvent?: (e: { name: string; status: 'started' | NodeResult['status']; result?: NodeResult }) => void;
}

/** The outcome of one node of a build. */
export interface NodeResult {
  name: string;
  kind: ModelNode['kind'];
  materialized: string;
  /** `schema.name`, or undefined for ephemeral models. */
  relation?: string;
  status: 'success' | 'error' | 'skipped';
  rows?: number;
  ms: number;
  error?: string;
  /** The Iceberg snapshot the build committed. */
  snapshotId?: string;
  /** Whether an incremental model was built incrementally. */
  incremental?: boolean;
}

function idOf(node: ModelNode) {
  return { namespace: [node.schema], name: node.name };
}

async function drain(
  session: EngineSession,
  sql: string,
  o: { signal?: AbortSignal; replaceKey?: string[]; properties?: Record<string, string> },
) {
  const result = await session.run(sql, {
    signal: o.signal,
    replaceKey: o.replaceKey,
    properties: o.properties,
    timeoutMs: 0,
  });
  for await (const _ of result.batches()) {
    // Writes return no rows; reading finishes the statement.
  }
  return result.rowsChanged;
}

/** Statements of one node's build. */
async function buildNode(
  ctx: {
    runtime: Runtime;
    project: ModelsProject;
    compiler: Compiler;
    catalog: ReturnType<typeof openCatalog>;
  },
  session: EngineSession,
  node: ModelNode,
  o: BuildOptions,
): Promise<Partial<NodeResult>> {
  const relation = relationOf(node);
  if (node.kind === 'seed') {
    const file = sqlString(join(ctx.project.dir, node.path));
    const select = `SELECT * FROM read_csv(${file}, header = true, auto_detect = true)`;
    await tagPii(ctx, session, node, select, o);
    const rows = await drain(session, `CREATE OR REPLACE TABLE ${relation} AS ${select}`, o);
    return { rows };
  }
  const m = node.config.materialized;
  if (m === 'ephemeral') return {};
  for (const hook of node.config.preHooks) await runHook(session, ctx.compiler.hook(hook, node), o);
  const built = await materialize(ctx, session, node, o);
  for (const hook of node.config.postHooks) await runHook(session, ctx.compiler.hook(hook, node), o);
  return built;
}

/** A snapshot: the first build creates the table, later builds are one MERGE each. */
async function buildSnapshot(
  ctx: { compiler: Compiler; catalog: ReturnType<typeof openCatalog> },
  session: EngineSession,
  node: ModelNode,
  exists: boolean,
  o: BuildOptions,
): Promise<Partial<NodeResult>> {
  const relation = relationOf(node);
  const select = ctx.compiler.compile(node, { isIncremental: false });
  const described = await session.describe(`SELECT * FROM (${select}) AS src`);
  const columns = described.columns.map((c) => c.name);
  const startedAt = new Date().toISOString().replace('T', ' ').replace('Z', '');
  if (!exists || o.fullRefresh)
    return {
      rows: await drain(
        session,
        `CREATE OR REPLACE TABLE ${relation} AS\n${firstSnapshotSql(node, select, columns, startedAt)}`,
        o,
      ),
      incremental: false,
    };
  return {
    rows: await drain(session, mergeSnapshotSql(node, relation, select, columns, startedAt), o),
    incremental: true,
  };
}

/** Run a hook's statements through the engine, one at a time. */
async function runHook(session: EngineSession, sql: string, o: BuildOptions): Promise<void> {
  for (const statement of splitStatements(sql)) await drain(session, statement, o);
}

/** The statements building a model. */
async function materialize(
  ctx: { compiler: Compiler; catalog: ReturnType<typeof openCatalog> },
  session: EngineSession,
  node: ModelNode,
  o: BuildOptions,
): Promise<Partial<NodeResult>> {
  const relation = relationOf(node);
  const m = node.config.materialized;
  const exists = await ctx.catalog.tableExists(idOf(node));
  if (m === 'view') {
    // A model that was a table before becomes a view: the table goes (its files stay for rollback).
    if (exists) await ctx.catalog.dropTable(idOf(node));
    const select = ctx.compiler.compile(node, { isIncremental: false });
    // PII tags of the YAML go on the view itself, so its readers see them masked.
    const pii = piiProperty(node);
    await drain(session, `CREATE OR REPLACE VIEW ${relation} AS\n${select}`, {
      ...o,
      properties: pii ? { [TABLE_PROPERTIES.piiColumns]: pii } : undefined,
    });
    return { incremental: false };
  }
  if (await ctx.catalog.viewExists(idOf(node))) await ctx.catalog.dropView(idOf(node));
  if (m === 'snapshot') return buildSnapshot(ctx, session, node, exists, o);
  const incremental = m === 'incremental' && exists && !o.fullRefresh;
  const select = ctx.compiler.compile(node, { isIncremental: incremental });
  await tagPii(ctx, session, node, incremental ? undefined : select, o);
  if (!incremental)
    return {
      rows: await drain(session, `CREATE OR REPLACE TABLE ${relation} AS\n${select}`, o),
      incremental,
    };
  const key = node.config.uniqueKey;
  const sql = key?.length
    ? `INSERT OR REPLACE INTO ${relation} BY NAME\n${select}`
    : `INSERT INTO ${relation} BY NAME\n${select}`;
  return { rows: await drain(session, sql, { ...o, replaceKey: key }), incremental };
}

/** `col:method,...` of the columns schema.yml tags PII, or undefined when none is. */
function piiProperty(node: ModelNode): string | undefined {
  const tagged = node.columns.filter((c) => c.pii);
  if (!tagged.length) return undefined;
  return tagged.map((c) => (c.pii === 'default' ? c.name : `${c.name}:${c.pii}`)).join(',');
}

/**
 * Set `sluice.pii.columns` from schema.yml before the build writes data: a table that does not
 * exist yet is first created empty from `select`. Without PII columns in YAML, properties set
 * by hand (`sluice tables set-pii`) are left alone.
 */
async function tagPii(
  ctx: { catalog: ReturnType<typeof openCatalog> },
  session: EngineSession,
  node: ModelNode,
  select: string | undefined,
  o: BuildOptions,
): Promise<void> {
  const value = piiProperty(node);
  if (!value) return;
  const id = idOf(node);
  if (select && !(await ctx.catalog.tableExists(id)))
    await drain(session, `CREATE TABLE ${relationOf(node)} AS SELECT * FROM (${select}) LIMIT 0`, o);
  const loaded = await ctx.catalog.loadTable(id);
  if (loaded.metadata.properties[TABLE_PROPERTIES.piiColumns] === value) return;
  await ctx.catalog.commitTable(
    id,
    [],
    [{ action: 'set-properties', updates: { [TABLE_PROPERTIES.piiColumns]: value } }],
  );
}

/** @throws InvalidInputError when a column tagged PII in YAML is not a column of the built table */
function assertPiiColumns(node: ModelNode, columns: readonly string[]): void {
  const known = new Set(columns.map((c) => c.toLowerCase()));
  const missing = node.columns.filter((c) => c.pii && !known.has(c.name.toLowerCase())).map((c) => c.name);
  if (missing.length)
    throw new InvalidInputError(
      `column ${missing.map((c) => `"${c}"`).join(', ')} tagged pii in YAML is not a column of ${relationOf(node)}`,
      `columns: ${[...known].join(', ')}`,
    );
}

/** For each node, the length of the longest chain of selected nodes from it downstream (itself 1). */
function chainHeights(
  project: ModelsProject,
  order: readonly string[],
  selected: Set<string>,
): Map<string, number> {
  const height = new Map<string, number>();
  // In reverse build order, every node's dependents are done before the node itself.
  for (const name of [...order].reverse()) {
    const node = project.nodes.get(name) as ModelNode;
    const h = height.get(name) ?? 1;
    height.set(name, h);
    for (const r of node.refs) if (selected.has(r) && (height.get(r) ?? 1) < h + 1) height.set(r, h + 1);
  }
  return height;
}

/**
 * Build the selected models and seeds; a failure skips only the nodes downstream of it.
 * @throws InvalidInputError for a bad selector (before anything is built).
 */
export async function buildModels(
  runtime: Runtime,
  engine: Engine,
  project: ModelsProject,
  o: BuildOptions = {},
): Promise<NodeResult[]> {
  const selected = selectNodes(project, o.select);
  const order = buildOrder(project, selected);
  const ctx = {
    runtime,
    project,
    compiler: new Compiler(project),
    catalog: openCatalog({ meta: runtime.meta, store: runtime.store }),
  };
  const results = new Map<string, NodeResult>();
  // Nodes with the longest chain of models downstream start first: the chain's end then does
  // not wait alone while other work could have run beside it.
  const height = chainHeights(project, order, selected);
  const pending = [...order].sort((a, b) => (height.get(b) ?? 0) - (height.get(a) ?? 0));
  const running = new Map<string, Promise<void>>();
  const threads = Math.max(1, o.threads ?? 4);
  const sessions: EngineSession[] = [];
  const failedUpstream = (node: ModelNode) =>
    node.refs.find((r) => selected.has(r) && results.get(r) && results.get(r)?.status !== 'success');
  const ready = (node: ModelNode) => node.refs.every((r) => !selected.has(r) || results.has(r));

  const start = (node: ModelNode) => {
    o.onEvent?.({ name: node.name, status: 'started' });
    const begun = Date.now();
    const run = (async () => {
      const session =
        sessions.pop() ?? (await engine.openSession({ name: `models:${project.name}`, readOnly: false }));
      const base = {
        name: node.name,
        kind: node.kind,
        materialized: node.kind === 'seed' ? 'seed' : node.config.materialized,
        relation: node.config.materialized === 'ephemeral' ? undefined : relationOf(node),
      };
      let result: NodeResult;
      try {
        const done = await buildNode(ctx, session, node, o);
        let snapshotId: string | undefined;
        if (base.relation && base.materialized !== 'view') {
          const loaded = await ctx.catalog.loadTable(idOf(node));
          assertPiiColumns(
            node,
            currentSchema(loaded.metadata).fields.map((f) => f.name),
          );
          const id = loaded.metadata['current-snapshot-id'];
          snapshotId = id === undefined || id === null ? undefined : String(id);
        } else if (base.materialized === 'view') {
          const view = await ctx.catalog.loadView(idOf(node));
          assertPiiColumns(node, viewSchema(view.metadata)?.fields.map((f) => f.name) ?? []);
        }
        result = { ...base, ...done, status: 'success', ms: Date.now() - begun, snapshotId };
      } catch (err) {
        result = {
          ...base,
          status: 'error',
          ms: Date.now() - begun,
          error: `${node.path}: ${errorMessage(err)}`,
        };
      } finally {
        sessions.push(session);
      }
      results.set(node.name, result);
      o.onEvent?.({ name: node.name, status: result.status, result });
    })();
    running.set(node.name, run);
    run.finally(() => running.delete(node.name));
  };

  /** `on-run-start` / `on-run-end` SQL, through one session. */
  const runHooks = async (hooks: string[]) => {
    if (hooks.length === 0) return;
    const session =
      sessions.pop() ?? (await engine.openSession({ name: `models:${project.name}`, readOnly: false }));
    try {
      for (const hook of hooks) await runHook(session, ctx.compiler.hook(hook), o);
    } catch (err) {
      throw new InvalidInputError(`dbt_project.yml hook failed: ${errorMessage(err)}`);
    } finally {
      sessions.push(session);
    }
  };
  try {
    await runHooks(project.onRunStart);
    while (pending.length || running.size) {
      o.signal?.throwIfAborted();
      for (let i = 0; i < pending.length && running.size < threads; ) {
        const node = project.nodes.get(pending[i] as string) as ModelNode;
        const failed = failedUpstream(node);
        if (failed) {
          pending.splice(i, 1);
          const result: NodeResult = {
            name: node.name,
            kind: node.kind,
            materialized: node.kind === 'seed' ? 'seed' : node.config.materialized,
            relation: node.config.materialized === 'ephemeral' ? undefined : relationOf(node),
            status: 'skipped',
            ms: 0,
            error: `skipped: upstream ${failed} did not build`,
          };
          results.set(node.name, result);
          o.onEvent?.({ name: node.name, status: 'skipped', result });
          i = 0;
          continue;
        }
        if (ready(node)) {
          pending.splice(i, 1);
          start(node);
          continue;
        }
        i++;
      }
      if (running.size) await Promise.race(running.values());
    }
    await runHooks(project.onRunEnd);
  } finally {
    await Promise.allSettled(running.values());
    for (const s of sessions) await s.close();
  }
  return order.map((n) => results.get(n) as NodeResult);
}

/**
 * Blue-green deploy. The selected models and seeds are built into staging namespaces
 * (`<schema>__staging_<deploy id>`), their tests run there, and a health check reads every
 * staged relation. Only then does the deploy prepare, for each production table, a snapshot
 * holding the staged rows (a new metadata file nobody points to yet), and switch every
 * production table and view to its new state in ONE metastore transaction: readers see the
 * old state of all of them or the new state of all of them, never a mix. A failure at any
 * step leaves production untouched (no snapshot added); the previous snapshots stay in each
 * table's history for time travel and rollback. Staging namespaces are dropped afterwards,
 * and leftovers of an interrupted deploy are dropped by the next one.
 */
import { randomBytes } from 'node:crypto';
import {
  type AlsoInTransaction,
  deleteView,
  insertView,
  type JdbcCatalog,
  openCatalog,
  swapViewPointer,
  type TableChange,
  viewSchema,
} from '../catalog/index.js';
import { deleteTable } from '../catalog/jdbc-sql.js';
import { openDuck } from '../duck/index.js';
import { type EngineSession, openEngine } from '../engine/index.js';
import type { Runtime } from '../runtime/index.js';
import {
  applyUpdates,
  currentSchema,
  type LoadedTable,
  openTable,
  quoteIdent,
  type TableCatalog,
  type TableIdentifier,
  TableIO,
  type TableRequirement,
  type TableUpdate,
} from '../table/index.js';
import { Table } from '../table/table.js';
import { ConflictError, errorMessage } from '../util/index.js';
import { type BuildOptions, buildModels, type NodeResult } from './build.js';
import { Compiler, relationOf } from './compile.js';
import { buildOrder, selectNodes } from './select.js';
import { runTests, type TestResult } from './tests.js';
import type { ModelNode, ModelsProject } from './types.js';

/** Marks staging namespaces: `<schema>__staging_<deploy id>`. */
export const STAGING_MARK = '__staging_';

/** A relation the health check read. */
export interface HealthCheck {
  relation: string;
  ok: boolean;
  rows?: number;
  error?: string;
}

/** What a deploy did. */
export interface DeployResult {
  ok: boolean;
  deployId: string;
  /** Builds into the staging namespaces (`relation` is the staged one). */
  models: NodeResult[];
  tests: TestResult[];
  health: HealthCheck[];
  /** Production relations switched in the deploy's one transaction (empty when it failed). */
  switched: {
    relation: string;
    kind: 'table' | 'view';
    snapshotId: string | null;
    previousSnapshotId: string | null;
  }[];
  /** Why the deploy stopped before switching, when it did. */
  error?: string;
}

/** Options of a deploy. */
export interface DeployOptions extends BuildOptions {
  /** Called between the steps (for progress output and crash tests). */
  onStep?: (step: 'staged' | 'tested' | 'healthy' | 'prepared' | 'switched') => void;
}

/**
 * Build into staging, test, health-check, then switch production in one transaction.
 * @throws InvalidInputError for a bad selector (before anything is built).
 */
export async function deployModels(
  runtime: Runtime,
  project: ModelsProject,
  o: DeployOptions = {},
): Promise<DeployResult> {
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
  const selected = buildOrder(project, selectNodes(project, o.select))
    .map((n) => project.nodes.get(n) as ModelNode)
    .filter((n) => n.kind === 'seed' || n.config.materialized !== 'ephemeral');
  const deployId = randomBytes(4).toString('hex');
  const stagingOf = (schema: string) => `${schema}${STAGING_MARK}${deployId}`;
  await dropStaging(catalog, project, undefined);
  const staged = stagedProject(project, new Set(selected.map((n) => n.name)), stagingOf);
  const result: DeployResult = { ok: false, deployId, models: [], tests: [], health: [], switched: [] };
  const engine = await openEngine(runtime, { fileAccess: 'all' });
  try {
    const session = await engine.openSession({ name: `deploy:${project.name}`, readOnly: false });
    try {
      await seedIncrementals(catalog, session, selected, stagingOf, o);
      result.models = await buildModels(runtime, engine, staged, o);
      o.onStep?.('staged');
      if (result.models.some((m) => m.status !== 'success'))
        return { ...result, error: 'a model did not build' };
      const built = result.models.map((m) => m.name);
      result.tests = await runTests(engine, staged, { select: built, signal: o.signal });
      o.onStep?.('tested');
      if (result.tests.some((t) => t.status === 'fail' || t.status === 'error'))
        return { ...result, error: 'a test failed' };
      result.health = await healthCheck(session, staged, selected);
      o.onStep?.('healthy');
      if (result.health.some((h) => !h.ok)) return { ...result, error: 'the health check failed' };
    } finally {
      await session.close();
    }
    result.switched = await switchProduction(runtime, catalog, project, selected, stagingOf, o);
    o.onStep?.('switched');
    return { ...result, ok: true };
  } catch (err) {
    return { ...result, error: errorMessage(err) };
  } finally {
    await engine.close();
    await dropStaging(catalog, project, deployId).catch((err) =>
      runtime.log.warn({ err, deployId }, 'could not drop the staging namespaces of a deploy'),
    );
  }
}

/** The project with the selected nodes landing in their staging namespaces (refs follow). */
function stagedProject(
  project: ModelsProject,
  selected: Set<string>,
  stagingOf: (schema: string) => string,
): ModelsProject {
  const nodes = new Map<string, ModelNode>();
  for (const [name, node] of project.nodes)
    nodes.set(name, selected.has(name) ? { ...node, schema: stagingOf(node.schema) } : node);
  return { ...project, nodes };
}

/** Incremental models and snapshots start from production's rows in staging, so they build incrementally. */
async function seedIncrementals(
  catalog: JdbcCatalog,
  session: EngineSession,
  selected: ModelNode[],
  stagingOf: (schema: string) => string,
  o: BuildOptions,
): Promise<void> {
  if (o.fullRefresh) return;
  for (const node of selected) {
    const m = node.config.materialized;
    if (node.kind !== 'model' || (m !== 'incremental' && m !== 'snapshot')) continue;
    if (!(await catalog.tableExists({ namespace: [node.schema], name: node.name }))) continue;
    const target = `${quoteIdent(stagingOf(node.schema))}.${quoteIdent(node.name)}`;
    const result = await session.run(`CREATE TABLE ${target} AS SELECT * FROM ${relationSql(node)}`, {
      signal: o.signal,
      timeoutMs: 0,
    });
    for await (const _ of result.batches()) {
      // Reading finishes the statement.
    }
  }
}

function relationSql(node: ModelNode): string {
  return `${quoteIdent(node.schema)}.${quoteIdent(node.name)}`;
}

/** Every staged relation answers a full read (views run their query over the staged tables). */
async function healthCheck(
  session: EngineSession,
  staged: ModelsProject,
  selected: ModelNode[],
): Promise<HealthCheck[]> {
  const out: HealthCheck[] = [];
  for (const node of selected) {
    const s = staged.nodes.get(node.name) as ModelNode;
    const relation = relationOf(s);
    try {
      const result = await session.run(`SELECT count(*) FROM ${relationSql(s)}`, { timeoutMs: 0 });
      let rows = 0;
      for await (const batch of result.batches()) rows = Number(batch[0]?.[0] ?? 0);
      out.push({ relation, ok: true, rows });
    } catch (err) {
      out.push({ relation, ok: false, error: errorMessage(err) });
    }
  }
  return out;
}

/**
 * A catalog for the table layer that records a table's commit instead of making it: the
 * table's metadata moves on in memory, and `changes()` is the commit to make later.
 */
class StagingCatalog implements TableCatalog {
  readonly #base: LoadedTable;
  readonly #creates: TableUpdate[] | undefined;
  readonly #requirements: TableRequirement[] = [];
  readonly #updates: TableUpdate[] = [];
  #loaded: LoadedTable;

  constructor(base: LoadedTable, creates?: TableUpdate[]) {
    this.#base = base;
    this.#loaded = base;
    this.#creates = creates;
  }

  async loadTable(): Promise<LoadedTable> {
    return this.#loaded;
  }

  async commitTable(
    _id: TableIdentifier,
    requirements: TableRequirement[],
    updates: TableUpdate[],
  ): Promise<LoadedTable> {
    if (this.#requirements.length === 0) this.#requirements.push(...requirements);
    this.#updates.push(...updates);
    this.#loaded = { ...this.#loaded, metadata: applyUpdates(this.#loaded.metadata, updates) };
    return this.#loaded;
  }

  change(): TableChange {
    if (this.#creates)
      return {
        identifier: this.#base.identifier,
        requirements: [{ type: 'assert-create' }],
        updates: [...this.#creates, ...this.#updates],
      };
    return { identifier: this.#base.identifier, requirements: this.#requirements, updates: this.#updates };
  }
}

/** Updates creating an empty table with the staged table's columns (REST "create transaction" style). */
function creationUpdates(staged: LoadedTable, location: string): TableUpdate[] {
  const md = staged.metadata;
  return [
    { action: 'assign-uuid', uuid: crypto.randomUUID() },
    { action: 'upgrade-format-version', 'format-version': 2 },
    { action: 'add-schema', schema: currentSchema(md), 'last-column-id': md['last-column-id'] },
    { action: 'set-current-schema', 'schema-id': -1 },
    { action: 'add-spec', spec: { 'spec-id': 0, fields: [] } },
    { action: 'set-default-spec', 'spec-id': -1 },
    { action: 'add-sort-order', 'sort-order': { 'order-id': 0, fields: [] } },
    { action: 'set-default-sort-order', 'sort-order-id': -1 },
    { action: 'set-location', location },
  ];
}

/**
 * Prepare every production table's new snapshot (data files written, metadata not yet
 * pointed to), then swap all pointers, and the views', in one metastore transaction.
 */
async function switchProduction(
  runtime: Runtime,
  catalog: JdbcCatalog,
  project: ModelsProject,
  selected: ModelNode[],
  stagingOf: (schema: string) => string,
  o: DeployOptions,
): Promise<DeployResult['switched']> {
  const compiler = new Compiler(project);
  for (const schema of new Set(selected.map((n) => n.schema)))
    if (!(await catalog.namespaceExists([schema]))) await catalog.createNamespace([schema]);
  const duck = await openDuck();
  const io = new TableIO(runtime.store);
  const changes: TableChange[] = [];
  const viewSteps: AlsoInTransaction[] = [];
  const switched: DeployResult['switched'] = [];
  try {
    for (const node of selected) {
      const prod: TableIdentifier = { namespace: [node.schema], name: node.name };
      const stagedId: TableIdentifier = { namespace: [stagingOf(node.schema)], name: node.name };
      const isView = node.kind === 'model' && node.config.materialized === 'view';
      const prodTable = (await catalog.tableExists(prod)) ? await catalog.loadTable(prod) : undefined;
      const prodView = (await catalog.viewExists(prod)) ? await catalog.loadView(prod) : undefined;
      const previousSnapshotId = prodTable ? snapshotOf(prodTable) : null;
      if (isView) {
        const sql = compiler.compile(node, { isIncremental: false });
        const schema = viewSchema((await catalog.loadView(stagedId)).metadata);
        const written = await catalog.stageView(prod, {
          sql,
          schema: schema ?? { type: 'struct', 'schema-id': 0, fields: [] },
        });
        viewSteps.push(
          viewSwitch(catalog.name, prod, written, prodTable !== undefined, prodView?.metadataLocation),
        );
        switched.push({ relation: relationOf(node), kind: 'view', snapshotId: null, previousSnapshotId });
        continue;
      }
      if (prodView)
        viewSteps.push(async (tx) => {
          await deleteView(tx, catalog.name, prod);
        });
      const stagedTable = await openTable(catalog, runtime.store, duck, stagedId);
      const source = stagedTable.scanSql(await stagedTable.planScan({ signal: o.signal }));
      const staging = prodTable
        ? new StagingCatalog(prodTable)
        : newStagingCatalog(catalog, prod, stagedTable.loaded);
      const table = new Table({ id: prod, catalog: staging, io, duck, loaded: await staging.loadTable() });
      await table.replace(source, { signal: o.signal });
      changes.push(staging.change());
      switched.push({
        relation: relationOf(node),
        kind: 'table',
        snapshotId: String(table.metadata['current-snapshot-id']),
        previousSnapshotId,
      });
    }
    o.onStep?.('prepared');
    await catalog.commitTransaction(changes, async (tx) => {
      for (const step of viewSteps) await step(tx);
    });
    return switched;
  } finally {
    await duck.close();
  }
}

function snapshotOf(t: LoadedTable): string | null {
  const id = t.metadata['current-snapshot-id'];
  return id === undefined || id === null || id === -1n ? null : String(id);
}

function newStagingCatalog(catalog: JdbcCatalog, prod: TableIdentifier, staged: LoadedTable): StagingCatalog {
  const creates = creationUpdates(staged, catalog.defaultTableLocation(prod));
  return new StagingCatalog(
    { identifier: prod, metadata: applyUpdates(undefined, creates), metadataLocation: '' },
    creates,
  );
}

/** The step pointing a production view at its new version (replacing a table of that name). */
function viewSwitch(
  catalog: string,
  prod: TableIdentifier,
  written: string,
  replacesTable: boolean,
  current: string | undefined,
): AlsoInTransaction {
  return async (tx) => {
    if (replacesTable) await deleteTable(tx, catalog, prod.namespace, prod.name);
    const ok = current
      ? await swapViewPointer(tx, catalog, prod, current, written)
      : await insertView(tx, catalog, prod, written);
    if (!ok)
      throw new ConflictError(
        `view ${prod.namespace.join('.')}.${prod.name} changed while the deploy ran`,
        'deploy again',
      );
  };
}

/**
 * Drop the staging namespaces of this deploy (`deployId`), or of every earlier deploy of the
 * project's schemas (undefined): their tables with their files, their views.
 */
async function dropStaging(catalog: JdbcCatalog, project: ModelsProject, deployId: string | undefined) {
  const schemas = new Set([...project.nodes.values()].map((n) => n.schema));
  for (const ns of await catalog.listNamespaces()) {
    const name = ns.join('.');
    const at = name.indexOf(STAGING_MARK);
    if (at <= 0 || !schemas.has(name.slice(0, at))) continue;
    if (deployId !== undefined && name.slice(at + STAGING_MARK.length) !== deployId) continue;
    for (const v of await catalog.listViews(ns)) await catalog.dropView(v);
    for (const t of await catalog.listTables(ns)) await catalog.dropTable(t, { purge: true });
    await catalog.dropNamespace(ns).catch(() => undefined);
  }
}

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
 *
 * Rows are written once. A staging table writes its data files into its production table's
 * data directory (`<data>/deploy-<id>/`, through `write.data.path`), and starts as a fork of
 * the production table (its schemas, field ids and current snapshot), so incremental models
 * build on production's rows without copying them. The switch registers the staged files in
 * a new production snapshot: only a manifest and a manifest list are written. Staging tables
 * carry `gc.enabled=false` (their files are production's); dropping them deletes the files
 * under `deploy-<id>/` that production does not reference, then the staging table's own
 * location.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { TABLE_PROPERTIES } from '../auth/index.js';
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
import { writeTableMetadata } from '../catalog/metadata-io.js';
import { openDuck } from '../duck/index.js';
import { type EngineSession, openEngine } from '../engine/index.js';
import type { Runtime } from '../runtime/index.js';
import {
  applyUpdates,
  creationUpdates,
  currentSchema,
  currentSnapshot,
  dataDir,
  type LiveEntry,
  type LoadedTable,
  openTable,
  quoteIdent,
  reachableFiles,
  schemasEquivalent,
  specById,
  type TableCatalog,
  type TableContext,
  type TableIdentifier,
  TableIO,
  type TableMetadata,
  type TableRequirement,
  type TableUpdate,
} from '../table/index.js';
import { Table } from '../table/table.js';
import { commitSnapshot } from '../table/table-commit.js';
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
  /** Called (and awaited) between the steps, for progress output and tests. */
  onStep?: (
    step: 'staged' | 'tested' | 'healthy' | 'prepared' | 'switched',
    deployId: string,
  ) => void | Promise<void>;
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
  const io = new TableIO(runtime.store);
  await dropStaging(catalog, io, project, undefined);
  const staged = stagedProject(project, new Set(selected.map((n) => n.name)), stagingOf);
  const result: DeployResult = { ok: false, deployId, models: [], tests: [], health: [], switched: [] };
  const dataPaths = new Map<string, string>();
  const engine = await openEngine(runtime, {
    fileAccess: 'all',
    newTableProperties: (id) => {
      const path = dataPaths.get(formatId(id));
      return path ? stagingProperties(path) : undefined;
    },
  });
  try {
    await forkProduction(catalog, runtime, selected, stagingOf, deployId, dataPaths);
    const session = await engine.openSession({ name: `deploy:${project.name}`, readOnly: false });
    try {
      result.models = await buildModels(runtime, engine, staged, o);
      await o.onStep?.('staged', deployId);
      if (result.models.some((m) => m.status !== 'success'))
        return { ...result, error: 'a model did not build' };
      const built = result.models.map((m) => m.name);
      result.tests = await runTests(engine, staged, { select: built, signal: o.signal });
      await o.onStep?.('tested', deployId);
      if (result.tests.some((t) => t.status === 'fail' || t.status === 'error'))
        return { ...result, error: 'a test failed' };
      result.health = await healthCheck(session, staged, selected);
      await o.onStep?.('healthy', deployId);
      if (result.health.some((h) => !h.ok)) return { ...result, error: 'the health check failed' };
    } finally {
      await session.close();
    }
    result.switched = await switchProduction(runtime, catalog, project, selected, stagingOf, deployId, o);
    await o.onStep?.('switched', deployId);
    return { ...result, ok: true };
  } catch (err) {
    return { ...result, error: errorMessage(err) };
  } finally {
    await engine.close();
    await dropStaging(catalog, io, project, deployId).catch((err) =>
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

/** Properties of a staging table whose data files go to `dataPath`, under a production table. */
function stagingProperties(dataPath: string): Record<string, string> {
  return { 'write.data.path': dataPath, 'gc.enabled': 'false' };
}

function formatId(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

/** A node that builds a lake table (not a view). */
function buildsTable(node: ModelNode): boolean {
  return node.kind === 'seed' || node.config.materialized !== 'view';
}

/**
 * Where each staging table writes its data (`<production data dir>/deploy-<id>`, keyed by the
 * staged `ns.name` in `dataPaths`), and the staging tables of existing production tables,
 * created as forks of them: production's schemas and field ids, its current snapshot (whose
 * files stay production's), its own location for metadata. Incremental models and snapshots
 * then build on production's rows, and every staged file can join production unchanged.
 */
async function forkProduction(
  catalog: JdbcCatalog,
  runtime: Runtime,
  selected: ModelNode[],
  stagingOf: (schema: string) => string,
  deployId: string,
  dataPaths: Map<string, string>,
): Promise<void> {
  for (const node of selected.filter(buildsTable)) {
    const prod: TableIdentifier = { namespace: [node.schema], name: node.name };
    const stagedId: TableIdentifier = { namespace: [stagingOf(node.schema)], name: node.name };
    const loaded = (await catalog.tableExists(prod)) ? await catalog.loadTable(prod) : undefined;
    const data = loaded ? dataDir(loaded.metadata) : `${catalog.defaultTableLocation(prod)}/data`;
    const dataPath = `${data}/deploy-${deployId}`;
    dataPaths.set(formatId(stagedId), dataPath);
    if (!loaded) continue;
    const md = loaded.metadata;
    const current = currentSnapshot(md);
    const { 'write.metadata.path': _, ...properties } = md.properties;
    const fork: TableMetadata = {
      ...md,
      'table-uuid': randomUUID(),
      location: catalog.defaultTableLocation(stagedId),
      'last-updated-ms': Date.now(),
      properties: { ...properties, ...stagingProperties(dataPath) },
      'current-snapshot-id': current ? current['snapshot-id'] : null,
      snapshots: current ? [current] : [],
      refs: current ? { main: { 'snapshot-id': current['snapshot-id'], type: 'branch' } } : {},
      'snapshot-log': [],
      'metadata-log': [],
      statistics: [],
      'partition-statistics': [],
    };
    if (!(await catalog.namespaceExists(stagedId.namespace)))
      await catalog.createNamespace(stagedId.namespace);
    await catalog.registerTable(stagedId, await writeTableMetadata(runtime.store, fork, 0));
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

/**
 * Updates creating an empty production table with the staged table's columns (REST "create
 * transaction" style): a table of its own (new uuid, its location), none of staging's properties.
 */
function productionCreation(staged: LoadedTable, location: string): TableUpdate[] {
  return creationUpdates({ ...staged.metadata, 'table-uuid': randomUUID(), location, properties: {} });
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
  deployId: string,
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
        const stagedView = (await catalog.loadView(stagedId)).metadata;
        const schema = viewSchema(stagedView);
        const written = await catalog.stageView(prod, {
          sql,
          schema: schema ?? { type: 'struct', 'schema-id': 0, fields: [] },
          properties: piiOf(stagedView.properties),
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
      const stagedTable = await catalog.loadTable(stagedId);
      const staging = prodTable
        ? new StagingCatalog(prodTable)
        : newStagingCatalog(catalog, prod, stagedTable);
      const ctx = { id: prod, catalog: staging, io, duck, loaded: await staging.loadTable() };
      const snapshotId =
        (await registerStagedFiles(ctx, stagedTable, o.signal)) ??
        (await copyStagedRows(ctx, await openTable(catalog, runtime.store, duck, stagedId), o.signal));
      // The PII tags of the YAML switch with the rows they mask.
      const pii = piiOf(stagedTable.metadata.properties);
      if (pii && pii[PII] !== ctx.loaded.metadata.properties[PII])
        await staging.commitTable(prod, [], [{ action: 'set-properties', updates: pii }]);
      changes.push(staging.change());
      switched.push({ relation: relationOf(node), kind: 'table', snapshotId, previousSnapshotId });
    }
    await o.onStep?.('prepared', deployId);
    await catalog.commitTransaction(changes, async (tx) => {
      for (const step of viewSteps) await step(tx);
    });
    return switched;
  } finally {
    await duck.close();
  }
}

/**
 * Commit (into `ctx`'s staging catalog) a production snapshot holding the staged table's live
 * data files as they are: files production already has stay, the others are added, production
 * files the staged table no longer has are removed. Returns the snapshot id, or undefined when
 * the files cannot be taken over (delete files, or a partition spec production lacks), and the
 * rows must be copied.
 */
async function registerStagedFiles(
  ctx: TableContext,
  staged: LoadedTable,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const smd = staged.metadata;
  const snapshot = currentSnapshot(smd);
  const manifests = snapshot ? await ctx.io.manifestList(snapshot, signal) : [];
  if (manifests.some((m) => m.content !== 0)) return undefined;
  const live = await ctx.io.liveEntries(manifests, signal);
  const pmd = ctx.loaded.metadata;
  const prodSnapshot = currentSnapshot(pmd);
  const prodLive = prodSnapshot
    ? await ctx.io.liveEntries(await ctx.io.manifestList(prodSnapshot, signal), signal)
    : [];
  const path = (e: LiveEntry) => e.entry.data_file.file_path;
  const inProd = new Set(prodLive.map(path));
  const inStaged = new Set(live.map(path));
  const added = live.filter((e) => !inProd.has(path(e)));
  const removed = prodLive.filter((e) => !inStaged.has(path(e)));
  const specIds = new Set(added.map((e) => e.manifest.partition_spec_id));
  const specId = specIds.size === 0 ? smd['default-spec-id'] : [...specIds][0];
  if (specIds.size > 1 || specId === undefined) return undefined;
  const spec = specById(smd, specId);
  const prodSpec = pmd['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!prodSpec || JSON.stringify(prodSpec.fields) !== JSON.stringify(spec.fields)) return undefined;
  const schema = currentSchema(smd);
  const evolve = !schemasEquivalent(schema, currentSchema(pmd));
  const result = await commitSnapshot(ctx, {
    operation: removed.length > 0 ? 'overwrite' : 'append',
    added: added.map((e) => e.entry.data_file),
    schema,
    spec,
    removed,
    baseSnapshotId: prodSnapshot ? prodSnapshot['snapshot-id'] : null,
    newSchema: evolve
      ? {
          lastColumnId: smd['last-column-id'],
          baseSchemaId: pmd['current-schema-id'],
          baseLastColumnId: pmd['last-column-id'],
        }
      : undefined,
    signal,
  });
  return String(result.snapshot['snapshot-id']);
}

/** The fallback of `registerStagedFiles`: production's rows replaced by a copy of the staged ones. */
async function copyStagedRows(ctx: TableContext, staged: Table, signal?: AbortSignal): Promise<string> {
  const source = staged.scanSql(await staged.planScan({ signal }));
  const table = new Table(ctx);
  await table.replace(source, { signal });
  return String(table.metadata['current-snapshot-id']);
}

const PII = TABLE_PROPERTIES.piiColumns;

/** The PII property a build set on a staged table or view, if any. */
function piiOf(properties: Record<string, string>): Record<string, string> | undefined {
  const value = properties[PII];
  return value === undefined ? undefined : { [PII]: value };
}

function snapshotOf(t: LoadedTable): string | null {
  const id = t.metadata['current-snapshot-id'];
  return id === undefined || id === null || id === -1n ? null : String(id);
}

function newStagingCatalog(catalog: JdbcCatalog, prod: TableIdentifier, staged: LoadedTable): StagingCatalog {
  const creates = productionCreation(staged, catalog.defaultTableLocation(prod));
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
 * project's schemas (undefined): their views, and their tables with their files. A staging
 * table's data files lie under its production table (`write.data.path`): those production
 * does not reference (a failed or interrupted deploy, rows a later statement replaced) are
 * deleted; those it does are production's now and stay.
 */
async function dropStaging(
  catalog: JdbcCatalog,
  io: TableIO,
  project: ModelsProject,
  deployId: string | undefined,
) {
  const schemas = new Set([...project.nodes.values()].map((n) => n.schema));
  for (const ns of await catalog.listNamespaces()) {
    const name = ns.join('.');
    const at = name.indexOf(STAGING_MARK);
    if (at <= 0 || !schemas.has(name.slice(0, at))) continue;
    if (deployId !== undefined && name.slice(at + STAGING_MARK.length) !== deployId) continue;
    for (const v of await catalog.listViews(ns)) await catalog.dropView(v);
    for (const t of await catalog.listTables(ns)) {
      // Unreadable metadata must not block every later deploy: its files then wait for orphan removal.
      await deleteUnusedStagedFiles(catalog, io, t, { namespace: [name.slice(0, at)], name: t.name }).catch(
        () => undefined,
      );
      await catalog.dropTable(t, { purge: true });
    }
    await catalog.dropNamespace(ns).catch(() => undefined);
  }
}

/** Delete the files under a staging table's `write.data.path` that its production table does not reference. */
async function deleteUnusedStagedFiles(
  catalog: JdbcCatalog,
  io: TableIO,
  stagedId: TableIdentifier,
  prod: TableIdentifier,
): Promise<void> {
  const md = (await catalog.loadTable(stagedId)).metadata;
  const dataPath = md.properties['write.data.path'];
  if (!dataPath || md.properties['gc.enabled'] !== 'false' || !/\/deploy-[0-9a-f]+\/?$/.test(dataPath))
    return;
  const prefix = `${io.keyOf(dataPath.replace(/\/+$/, ''))}/`;
  const keys: string[] = [];
  for await (const obj of io.store.list(prefix)) keys.push(obj.key);
  if (keys.length === 0) return;
  const used = new Set<string>();
  if (await catalog.tableExists(prod)) {
    const { metadata } = await catalog.loadTable(prod);
    for (const f of await reachableFiles({ io }, metadata.snapshots)) used.add(io.keyOf(f));
  }
  const unused = keys.filter((k) => !used.has(k));
  for (let i = 0; i < unused.length; i += 1000) await io.store.delete(unused.slice(i, i + 1000));
}

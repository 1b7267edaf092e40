/**
 * Deploy: build the selected models, run their tests, and if a model fails or an `error`
 * test fails, put every table the deploy changed back on the snapshot it had before (tables
 * the deploy created are dropped). The previous builds stay the current ones for readers
 * after a failed deploy; the failed builds remain in the tables' history for inspection.
 */
import { openCatalog } from '../catalog/index.js';
import { openDuck } from '../duck/index.js';
import type { Runtime } from '../runtime/index.js';
import { openTable } from '../table/index.js';
import type { BuildOptions, NodeResult } from './build.js';
import { relationOf } from './compile.js';
import { buildOrder, selectNodes } from './select.js';
import { buildAndTest } from './task.js';
import type { TestResult } from './tests.js';
import type { ModelsProject } from './types.js';

/** What a deploy did. */
export interface DeployResult {
  ok: boolean;
  models: NodeResult[];
  tests: TestResult[];
  /** Tables put back on their previous snapshot (or dropped when the deploy created them). */
  rolledBack: { relation: string; snapshotId: string | null }[];
}

/**
 * Build, test, and roll back on failure.
 * @throws InvalidInputError for a bad selector (before anything is built).
 */
export async function deployModels(
  runtime: Runtime,
  project: ModelsProject,
  o: BuildOptions = {},
): Promise<DeployResult> {
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
  const before = new Map<string, bigint | null>();
  for (const name of buildOrder(project, selectNodes(project, o.select))) {
    const node = project.nodes.get(name);
    if (!node || (node.kind === 'model' && node.config.materialized === 'ephemeral')) continue;
    const id = { namespace: [node.schema], name: node.name };
    if (!(await catalog.tableExists(id))) before.set(name, null);
    else {
      const current = (await catalog.loadTable(id)).metadata['current-snapshot-id'];
      before.set(name, current === undefined || current === null || current === -1n ? null : BigInt(current));
    }
  }
  const { models, tests } = await buildAndTest(runtime, project, { ...o, test: true });
  const ok =
    models.every((m) => m.status === 'success') &&
    tests.every((t) => t.status !== 'fail' && t.status !== 'error');
  const rolledBack: DeployResult['rolledBack'] = [];
  if (ok) return { ok, models, tests, rolledBack };
  const duck = await openDuck();
  try {
    for (const m of models) {
      if (m.status !== 'success' || !before.has(m.name)) continue;
      const node = project.nodes.get(m.name);
      if (!node) continue;
      const id = { namespace: [node.schema], name: node.name };
      const previous = before.get(m.name) ?? null;
      if (previous === null) await catalog.dropTable(id);
      else
        await (await openTable(catalog, runtime.store, duck, id)).rollbackTo(previous, {
          restoreSchema: true,
        });
      rolledBack.push({
        relation: relationOf(node),
        snapshotId: previous === null ? null : String(previous),
      });
    }
  } finally {
    await duck.close();
  }
  return { ok, models, tests, rolledBack };
}

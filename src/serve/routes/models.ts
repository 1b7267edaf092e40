/**
 * `GET /api/v1/models`: the lineage graph of the project's SQL models (a dbt project):
 * models, seeds and sources with columns, descriptions and tests, the edges between them,
 * and the snapshot each model's table is at (its latest build).
 */
import { Hono } from 'hono';
import { openCatalog } from '../../catalog/index.js';
import { Compiler, lineageOf, loadModelsProject, modelsDirOf } from '../../models/index.js';
import { errorMessage } from '../../util/index.js';
import type { ServeContext } from '../app.js';

/** The route; `?dir=` names the directory of dbt_project.yml relative to the project. */
export function modelRoutes(ctx: ServeContext): Hono {
  const app = new Hono();
  const catalog = openCatalog({ meta: ctx.runtime.meta, store: ctx.runtime.store });
  app.get('/models', async (c) => {
    const dir = modelsDirOf(ctx.runtime.project.dir, c.req.query('dir'));
    // The relations of the environment the server runs with (`sluice --env prod serve`), as the CLI's.
    const project = loadModelsProject(dir, { environment: ctx.runtime.project.environment });
    const graph = lineageOf(project);
    const compiler = new Compiler(project);
    const nodes = [];
    for (const node of graph.nodes) {
      let build: { snapshotId: string; builtAt: string } | null = null;
      const [schema, name] = node.relation?.split('.') ?? [];
      const id = { namespace: [schema ?? ''], name: name ?? '' };
      if (node.kind !== 'source' && schema && name && (await catalog.tableExists(id))) {
        const { metadata } = await catalog.loadTable(id);
        const current = metadata.snapshots?.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
        if (current)
          build = {
            snapshotId: String(current['snapshot-id']),
            builtAt: new Date(Number(current['timestamp-ms'])).toISOString(),
          };
      }
      // The SQL a build runs (full refresh), or why it does not compile.
      let compiled: { sql?: string; error?: string } | undefined;
      const model = node.kind === 'model' ? project.nodes.get(node.name) : undefined;
      if (model) {
        try {
          compiled = { sql: compiler.compile(model) };
        } catch (err) {
          compiled = { error: errorMessage(err) };
        }
      }
      nodes.push({ ...node, build, ...(compiled ? { compiled } : {}) });
    }
    return c.json({ ...graph, nodes });
  });
  return app;
}

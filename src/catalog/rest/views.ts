/**
 * The view routes of the Iceberg REST catalog: list, load, exists and drop, backed by the
 * views the engine and `sluice models` create (`CREATE VIEW`). Creating and replacing views
 * through REST is not served yet.
 */
import type { Context, Hono } from 'hono';
import type { TableIdentifier } from '../../table/index.js';
import { NoSuchViewError } from '../errors.js';
import { formatIdentifier, validateIdentifier } from '../names.js';
import { UnsupportedOperationError } from './errors.js';
import { decodeNamespace, noContent, paginate, sendJson } from './http.js';
import type { RestDeps } from './types.js';

/** Register the view routes under `base` (`/v1` or `/v1/<prefix>`). */
export function viewRoutes(app: Hono, base: string, deps: RestDeps): void {
  const { catalog, authorize } = deps;
  const viewPath = `${base}/namespaces/:namespace/views/:view`;
  const views = () => {
    const { listViews, viewExists, loadView, dropView } = catalog;
    if (!listViews || !viewExists || !loadView || !dropView)
      throw new UnsupportedOperationError('this catalog does not serve views');
    return {
      listViews: listViews.bind(catalog),
      viewExists: viewExists.bind(catalog),
      loadView: loadView.bind(catalog),
      dropView: dropView.bind(catalog),
    };
  };
  const idOf = (c: Context): TableIdentifier =>
    validateIdentifier({
      namespace: decodeNamespace(c.req.param('namespace')),
      name: c.req.param('view') ?? '',
    });

  app.get(`${base}/namespaces/:namespace/views`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    await authorize(c.req.raw, 'table:list', { namespace });
    const page = paginate(c, await views().listViews(namespace), (t) => t.name);
    return sendJson(c, { identifiers: page.items, 'next-page-token': page.next });
  });

  app.get(viewPath, async (c) => {
    const id = idOf(c);
    await authorize(c.req.raw, 'table:read', { namespace: id.namespace, table: id.name });
    if (c.req.method === 'HEAD') {
      if (await views().viewExists(id)) return noContent();
      throw new NoSuchViewError(`view "${formatIdentifier(id)}" does not exist`);
    }
    const loaded = await views().loadView(id);
    return sendJson(c, {
      'metadata-location': loaded.metadataLocation,
      metadata: loaded.metadata,
      config: {},
    });
  });

  app.delete(viewPath, async (c) => {
    const id = idOf(c);
    await authorize(c.req.raw, 'table:drop', { namespace: id.namespace, table: id.name });
    await views().dropView(id);
    return noContent();
  });
}

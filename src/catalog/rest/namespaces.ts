/** Namespace routes of the Iceberg REST catalog. */
import type { Hono } from 'hono';
import { NoSuchNamespaceError } from '../errors.js';
import { UnprocessableError } from './errors.js';
import { decodeNamespace, noContent, paginate, readBody, sendJson } from './http.js';
import { createNamespaceRequest, updatePropertiesRequest } from './schemas.js';
import type { RestDeps } from './types.js';

/** Register the namespace routes under `base` (`/v1` or `/v1/<prefix>`). */
export function namespaceRoutes(app: Hono, base: string, deps: RestDeps): void {
  const { catalog, authorize } = deps;

  app.get(`${base}/namespaces`, async (c) => {
    const raw = c.req.query('parent');
    const parent = raw ? decodeNamespace(raw) : [];
    await authorize(c.req.raw, 'namespace:list', parent.length ? { namespace: parent } : {});
    const all = await catalog.listNamespaces(parent);
    const page = paginate(c, all, (ns) => ns.join('\u001f'));
    return sendJson(c, { namespaces: page.items, 'next-page-token': page.next });
  });

  app.post(`${base}/namespaces`, async (c) => {
    const body = await readBody(c, createNamespaceRequest, 'CreateNamespaceRequest');
    await authorize(c.req.raw, 'namespace:create', { namespace: body.namespace });
    await catalog.createNamespace(body.namespace, body.properties ?? {});
    const properties = await catalog.loadNamespaceProperties(body.namespace);
    return sendJson(c, { namespace: body.namespace, properties });
  });

  // Hono answers HEAD with the GET route; the spec wants 204 without a body for HEAD.
  app.get(`${base}/namespaces/:namespace`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    await authorize(c.req.raw, 'namespace:read', { namespace });
    if (c.req.method === 'HEAD') {
      if (await catalog.namespaceExists(namespace)) return noContent();
      throw new NoSuchNamespaceError(`namespace "${namespace.join('.')}" does not exist`);
    }
    const properties = await catalog.loadNamespaceProperties(namespace);
    return sendJson(c, { namespace, properties });
  });

  app.delete(`${base}/namespaces/:namespace`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    await authorize(c.req.raw, 'namespace:drop', { namespace });
    await catalog.dropNamespace(namespace);
    return noContent();
  });

  app.post(`${base}/namespaces/:namespace/properties`, async (c) => {
    const namespace = decodeNamespace(c.req.param('namespace'));
    const body = await readBody(c, updatePropertiesRequest, 'UpdateNamespacePropertiesRequest');
    await authorize(c.req.raw, 'namespace:update', { namespace });
    const removals = body.removals ?? [];
    const updates = body.updates ?? {};
    const both = removals.filter((k) => Object.hasOwn(updates, k));
    if (both.length) {
      throw new UnprocessableError(
        `properties ${both.map((k) => `"${k}"`).join(', ')} are in both "removals" and "updates"`,
        'list a key in one of them only',
      );
    }
    const result = await catalog.updateNamespaceProperties(namespace, removals, updates);
    return sendJson(c, result);
  });
}

/**
 * The Iceberg REST catalog server (OpenAPI "Apache Iceberg REST Catalog API"), as a Hono
 * sub-app. Mounted at `/iceberg`, clients use the base URL `http://host:port/iceberg`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../../observe/index.js';
import type { StorageOptions } from '../../storage/index.js';
import type { Catalog } from '../../table/index.js';
import { NotFoundError } from '../../util/index.js';
import type { CatalogExtensions } from '../jdbc-catalog.js';
import { errorBody, icebergErrorInfo } from './errors.js';
import { sendJson } from './http.js';
import { namespaceRoutes } from './namespaces.js';
import { tableRoutes } from './tables.js';
import type { Authorize, RestDeps } from './types.js';
import { viewRoutes } from './views.js';

export type { CatalogAction, CatalogResource } from './types.js';

/** Largest request body accepted (bytes). */
export const REST_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** Options of `createIcebergRestApp`. */
export interface IcebergRestOptions {
  catalog: Catalog & Partial<CatalogExtensions>;
  log?: Logger;
  /** Path prefix announced in /v1/config (`/v1/<prefix>/namespaces`); none by default. */
  prefix?: string;
  /** Authorization hook; the default allows everything. */
  authorize?: Authorize;
  /** Request body limit in bytes (default 10 MiB); larger bodies get 413. */
  bodyLimitBytes?: number;
  /** The `config` map of LoadTableResult: FileIO settings clients need (see `restTableConfig`). */
  tableConfig?: Record<string, string>;
}

const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'DELETE /v1/{prefix}/namespaces/{namespace}',
  'POST /v1/{prefix}/namespaces/{namespace}/properties',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/register',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics',
  'POST /v1/{prefix}/tables/rename',
  'POST /v1/{prefix}/transactions/commit',
  'GET /v1/{prefix}/namespaces/{namespace}/views',
  'GET /v1/{prefix}/namespaces/{namespace}/views/{view}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/views/{view}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/views/{view}',
];

/**
 * Table config for clients of an S3 store: endpoint, path-style access and region (never
 * credentials: clients bring their own). Empty for local stores.
 */
export function restTableConfig(
  storage: Pick<StorageOptions, 'url' | 'endpoint' | 'region' | 'forcePathStyle'>,
): Record<string, string> {
  if (!storage.url.startsWith('s3:')) return {};
  const out: Record<string, string> = {};
  if (storage.endpoint) out['s3.endpoint'] = storage.endpoint;
  if (storage.forcePathStyle ?? Boolean(storage.endpoint)) out['s3.path-style-access'] = 'true';
  if (storage.region) out['client.region'] = storage.region;
  return out;
}

/** The Iceberg REST catalog routes over `catalog`. */
export function createIcebergRestApp(o: IcebergRestOptions): Hono {
  const log = o.log?.child({ component: 'iceberg-rest' });
  const deps: RestDeps = {
    catalog: o.catalog,
    log,
    authorize: o.authorize ?? (async () => {}),
    tableConfig: { ...(o.tableConfig ?? {}) },
  };
  const maxSize = o.bodyLimitBytes ?? REST_BODY_LIMIT_BYTES;
  const base = o.prefix ? `/v1/${encodeURIComponent(o.prefix)}` : '/v1';
  const app = new Hono();

  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: (c) =>
        sendJson(
          c,
          errorBody({
            status: 413,
            type: 'BadRequestException',
            message: `request body over ${maxSize} bytes`,
            expected: true,
          }),
          413,
        ),
    }),
  );

  app.onError((err, c) => {
    const commit =
      c.req.method === 'POST' &&
      /\/namespaces\/[^/]+\/tables\/[^/]+$|\/transactions\/commit$/.test(c.req.path);
    const info = icebergErrorInfo(err, { commit });
    if (info.expected) log?.debug({ err, method: c.req.method, path: c.req.path }, 'catalog request failed');
    else log?.error({ err, method: c.req.method, path: c.req.path }, 'catalog request failed unexpectedly');
    return sendJson(c, errorBody(info), info.status);
  });

  app.get('/v1/config', async (c) => {
    await deps.authorize(c.req.raw, 'config:read', {});
    const warehouse = c.req.query('warehouse');
    const known = [o.catalog.name, o.catalog.warehouse, `${o.catalog.warehouse}/`];
    if (warehouse && !known.includes(warehouse)) {
      const err = new NotFoundError(
        `warehouse "${warehouse}" is not served here`,
        `use "${o.catalog.name}" or "${o.catalog.warehouse}", or leave warehouse unset`,
      );
      return sendJson(c, errorBody({ ...icebergErrorInfo(err), type: 'NoSuchWarehouseException' }), 404);
    }
    return sendJson(c, {
      defaults: { warehouse: o.catalog.warehouse },
      overrides: o.prefix ? { prefix: o.prefix } : {},
      endpoints: ENDPOINTS,
    });
  });

  namespaceRoutes(app, base, deps);
  tableRoutes(app, base, deps);
  viewRoutes(app, base, deps);

  app.all('*', (c) => {
    const err = new NotFoundError(`no Iceberg REST route for ${c.req.method} ${c.req.path}`);
    return sendJson(c, errorBody({ ...icebergErrorInfo(err), type: 'NotFoundException' }), 404);
  });
  return app;
}

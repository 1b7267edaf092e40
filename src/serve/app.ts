import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AuthStore, authorize, createAuthenticator, type ResourceKind } from '../auth/index.js';
import { createBusApp, type EventBus } from '../bus/index.js';
import { createIcebergRestApp, openCatalog, restTableConfig } from '../catalog/index.js';
import type { Engine } from '../engine/index.js';
import type { Metrics } from '../observe/index.js';
import type { Runtime } from '../runtime/index.js';
import { runtimeHealth } from '../runtime/index.js';
import { PermissionError, packageVersion } from '../util/index.js';
import { type AuthVariables, auditChanges, authenticate, principalOf, remoteAddressOf } from './auth.js';
import { httpErrorInfo } from './errors.js';
import { EventStreamHub } from './event-stream.js';
import { coreOpenApi, openApiDocument } from './openapi.js';
import { rateLimit } from './rate-limit.js';
import { authRoutes } from './routes/auth.js';
import { infoRoutes } from './routes/info.js';
import { liveOpenApiPaths } from './routes/live-openapi.js';
import { modelRoutes } from './routes/models.js';
import { modelOpenApiPaths, modelOpenApiSchemas } from './routes/models-openapi.js';
import { monitorRoutes } from './routes/monitors.js';
import { monitorOpenApiPaths, monitorOpenApiSchemas } from './routes/monitors-openapi.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { pipelineOpenApiPaths, pipelineOpenApiSchemas } from './routes/pipelines-openapi.js';
import { sqlRoutes } from './routes/sql.js';
import { sqlOpenApi } from './routes/sql-openapi.js';
import { streamRoutes } from './routes/stream.js';
import { tableRoutes } from './routes/tables.js';
import { openUserSession } from './sql-session.js';
import { serveUi } from './ui.js';

/** Everything the HTTP surfaces share, bound once when the server starts. */
export interface ServeContext {
  runtime: Runtime;
  metrics: Metrics;
  /** When the process started serving (for /api/v1/health). */
  startedAt: Date;
  /** The SQL engine behind POST /api/v1/sql (absent: that route answers 503). */
  engine?: Engine;
  /** The event bus, when this server serves the Nakadi API (/event-types, /subscriptions). */
  bus?: EventBus;
  /** Live updates behind GET /api/v1/stream (default: a hub of this app, never closed). */
  stream?: EventStreamHub;
}

/** Largest request body the platform API accepts unless a route sets its own limit. */
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * The HTTP application: platform API under /api/v1, Iceberg REST catalog under /iceberg,
 * Prometheus metrics at /metrics. Other surfaces (event bus, UI) mount their own sub-apps here.
 */
export function createApp(ctx: ServeContext): Hono {
  const { runtime, metrics } = ctx;
  const log = runtime.log.child({ component: 'http' });
  const app = new Hono<{ Variables: AuthVariables }>();
  const authStore = new AuthStore(runtime.meta);
  const authConfig = runtime.project.config.auth;

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // routePath is the matched pattern (/api/v1/tables/:name), keeping label cardinality bounded.
    const route = c.req.routePath || 'unmatched';
    metrics.httpDuration
      .labels(c.req.method, route, String(c.res.status))
      .observe((performance.now() - started) / 1000);
  });

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: DEFAULT_BODY_LIMIT_BYTES,
      onError: (c) =>
        c.json(
          {
            error: {
              code: 'payload_too_large',
              message: `request body over ${DEFAULT_BODY_LIMIT_BYTES} bytes`,
            },
          },
          413,
        ),
    }),
  );

  app.onError((err, c) => {
    const info = httpErrorInfo(err);
    metrics.httpErrors.labels(c.req.routePath || 'unmatched', info.code).inc();
    if (info.expected) log.debug({ err, path: c.req.path }, 'request failed');
    else log.error({ err, method: c.req.method, path: c.req.path }, 'request failed unexpectedly');
    return c.json({ error: { code: info.code, message: info.message } }, info.status as 400);
  });

  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  // Every surface but health checks, the web UI's files and the event bus (which has its own
  // Nakadi-style authorization) needs a caller: a token, a JWT, a password, or loopback trust.
  const authn = createAuthenticator(authStore, { required: authConfig.required, jwt: authConfig.jwt });
  const guarded = authenticate(authn, { skip: (path) => path === '/api/v1/health', audit: runtime.meta });
  const limited = rateLimit(authConfig.rateLimit);
  for (const path of ['/api/*', '/iceberg/*', '/metrics']) {
    app.use(path, guarded);
    app.use(path, limited);
  }
  app.use('/iceberg/*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
      await requireWrite(c, authStore, 'namespace', namespaceOfPath(c.req.path));
    await next();
  });
  app.use('/api/v1/pipelines/*', async (c, next) => {
    if (c.req.method !== 'GET') await requireWrite(c, authStore, 'pipeline', c.req.path.split('/')[4] ?? '*');
    await next();
  });
  app.use(
    '/iceberg/*',
    auditChanges(runtime.meta, (method, path) =>
      method === 'POST' && /\/tables\/[^/]+$/.test(path) ? 'commit' : 'catalog_change',
    ),
  );
  app.use(
    '/api/v1/tables/*',
    auditChanges(runtime.meta, () => 'rollback'),
  );
  app.use(
    '/api/v1/runs/*',
    auditChanges(runtime.meta, (_m, path) =>
      /\/runs$/.test(path) ? 'trigger' : `run_${path.split('/').at(-1)}`,
    ),
  );
  app.use('/api/v1/runs/*', async (c, next) => {
    if (c.req.method !== 'GET') await requireWrite(c, authStore, 'pipeline', '*');
    await next();
  });

  app.get('/api/v1/health', async (c) => {
    const backends = await runtimeHealth(runtime, 3000);
    const ready = backends.every((b) => b.ok);
    return c.json(
      {
        status: ready ? 'ok' : 'degraded',
        live: true,
        ready,
        startedAt: ctx.startedAt.toISOString(),
        project: runtime.project.config.name,
        backends,
      },
      ready ? 200 : 503,
    );
  });

  app.route(
    '/iceberg',
    createIcebergRestApp({
      catalog: openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log }),
      log: runtime.log,
      tableConfig: restTableConfig(runtime.project.config.storage),
    }),
  );

  app.get('/metrics', async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': metrics.registry.contentType });
  });

  if (ctx.bus) app.route('/', createBusApp(ctx.bus));
  app.route('/api/v1', infoRoutes(ctx));
  app.route('/api/v1', pipelineRoutes(ctx));
  app.route('/api/v1', modelRoutes(ctx));
  app.route('/api/v1', monitorRoutes(ctx));
  app.route('/api/v1', streamRoutes(ctx.stream ?? new EventStreamHub(runtime, metrics.registry)));
  app.route(
    '/api/v1',
    tableRoutes(openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log }), authStore),
  );
  const openApi = openApiDocument(
    [
      coreOpenApi,
      sqlOpenApi,
      { paths: pipelineOpenApiPaths, schemas: pipelineOpenApiSchemas },
      { paths: modelOpenApiPaths, schemas: modelOpenApiSchemas },
      { paths: monitorOpenApiPaths, schemas: monitorOpenApiSchemas },
      { paths: liveOpenApiPaths },
    ],
    { version: packageVersion() },
  );
  app.get('/api/v1/openapi.json', (c) => c.json(openApi));
  app.route('/api/v1', authRoutes(authStore, runtime.meta));
  if (ctx.engine)
    app.route(
      '/api/v1',
      sqlRoutes({
        engine: ctx.engine,
        openSession: (c, o) =>
          openUserSession(
            ctx.engine as Engine,
            principalOf(c),
            {
              store: authStore,
              policy: authConfig,
              surface: 'http',
              remote: remoteAddressOf(c),
              audit: runtime.meta,
              log,
            },
            o,
          ),
      }),
    );
  else
    app.post('/api/v1/sql', (c) =>
      c.json({ error: { code: 'backend_unavailable', message: 'this server runs no SQL engine' } }, 503),
    );
  app.get('*', serveUi());
  return app as unknown as Hono;
}

/** The namespace an Iceberg REST path names (`.../namespaces/{ns}/...`), else `*`. */
function namespaceOfPath(path: string): string {
  const m = /\/namespaces\/([^/]+)/.exec(path);
  return m
    ? decodeURIComponent(m[1] as string)
        .split('\u001f')
        .join('.')
    : '*';
}

/** @throws PermissionError unless the caller may change `kind` `name` (write on data, run on pipelines) */
async function requireWrite(c: Context, store: AuthStore, kind: ResourceKind, name: string): Promise<void> {
  const principal = principalOf(c);
  const { grants } = await store.snapshot();
  const privilege = kind === 'pipeline' ? 'run' : 'write';
  const decision = authorize(principal, grants, { kind, name, privilege });
  if (!decision.allowed) throw new PermissionError(decision.reason);
}

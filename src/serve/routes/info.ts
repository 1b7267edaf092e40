import { Hono } from 'hono';
import { packageVersion, redactText } from '../../util/index.js';
import type { ServeContext } from '../app.js';

/** Body of `GET /api/v1/info`: what is being served, without probing any backend. */
export interface ServerInfo {
  project: string;
  version: string;
  node: string;
  startedAt: string;
  /** Server clock at the time of the answer, so clients compute uptime without clock skew. */
  now: string;
  uptimeSeconds: number;
  backends: { name: 'metastore' | 'storage'; url: string }[];
}

/** Routes answering `GET /info` (mounted under /api/v1). */
export function infoRoutes(ctx: ServeContext): Hono {
  const { config } = ctx.runtime.project;
  const app = new Hono();
  app.get('/info', (c) => {
    const now = new Date();
    const info: ServerInfo = {
      project: config.name,
      version: packageVersion(),
      node: process.version,
      startedAt: ctx.startedAt.toISOString(),
      now: now.toISOString(),
      uptimeSeconds: Math.max(0, (now.getTime() - ctx.startedAt.getTime()) / 1000),
      backends: [
        { name: 'metastore', url: redactText(config.metastore.url) },
        { name: 'storage', url: redactText(config.storage.url) },
      ],
    };
    return c.json(info);
  });
  return app;
}

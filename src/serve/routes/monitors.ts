/**
 * `GET /api/v1/monitors`: the monitor rules of the project (`monitors/*.yaml`) with their
 * schedule and their ok/firing state per dimension value.
 */
import { Hono } from 'hono';
import { MonitorService } from '../../monitor/index.js';
import type { ServeContext } from '../app.js';

export function monitorRoutes(ctx: ServeContext): Hono {
  const app = new Hono();
  // Reads rules and states only: no engine is opened here.
  const monitors = new MonitorService(ctx.runtime);
  app.get('/monitors', async (c) => c.json({ monitors: await monitors.overview() }));
  return app;
}

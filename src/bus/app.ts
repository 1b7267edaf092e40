/**
 * The Nakadi-compatible HTTP API as a Hono app, mounted at the root of the server:
 * /event-types, /subscriptions and /registry. Every error is Problem JSON.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { EventBus } from './bus.js';
import { type BusEnv, remoteOf } from './http.js';
import { problemFromError, problemResponse } from './problem.js';
import { eventTypeRoutes } from './routes-event-types.js';
import { eventRoutes } from './routes-events.js';
import { subscriptionRoutes } from './routes-subscriptions.js';

/** Paths the bus owns. */
export const BUS_PATHS = [
  '/event-types',
  '/event-types/*',
  '/subscriptions',
  '/subscriptions/*',
  '/registry/*',
];

/** Largest body of a non-publishing bus request (event types, cursors, subscriptions). */
const CONTROL_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** The bus API: authentication, routes, Problem JSON errors. */
export function createBusApp(bus: EventBus): Hono<BusEnv> {
  const app = new Hono<BusEnv>();
  for (const path of BUS_PATHS) {
    app.use(path, async (c, next) => {
      c.set('subject', await bus.auth.authenticate(c.req.header('authorization'), remoteOf(c)));
      if (
        !/\/events$/.test(c.req.path) ||
        c.req.method !== 'POST' ||
        c.req.path.startsWith('/subscriptions/')
      ) {
        return bodyLimit({
          maxSize: CONTROL_BODY_LIMIT_BYTES,
          onError: (cc) => problemResponse(cc, 413, `request body over ${CONTROL_BODY_LIMIT_BYTES} bytes`),
        })(c, next);
      }
      await next();
    });
  }
  app.route('/', eventTypeRoutes(bus));
  app.route('/', eventRoutes(bus));
  app.route('/', subscriptionRoutes(bus));
  for (const path of BUS_PATHS) {
    app.all(path, (c) => problemResponse(c, 404, `no route for ${c.req.method} ${c.req.path}`));
  }
  app.onError((err, c) => {
    const p = problemFromError(err);
    if (p.expected) bus.log.debug({ err, path: c.req.path }, 'bus request failed');
    else bus.log.error({ err, method: c.req.method, path: c.req.path }, 'bus request failed unexpectedly');
    return problemResponse(c, p.status, p.detail);
  });
  return app;
}

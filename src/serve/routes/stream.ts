/** `GET /api/v1/stream`: live platform changes as Server-Sent Events (see ../event-stream.ts). */
import { Hono } from 'hono';
import { type EventStreamHub, parseTopics } from '../event-stream.js';

/** Routes mounted under /api/v1. */
export function streamRoutes(hub: EventStreamHub): Hono {
  const app = new Hono();
  app.get('/stream', (c) => hub.open(parseTopics(c.req.query('topics'))));
  return app;
}

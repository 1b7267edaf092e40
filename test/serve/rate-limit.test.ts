import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { httpErrorInfo } from '../../src/serve/errors.js';
import { rateLimit } from '../../src/serve/rate-limit.js';

test('each caller gets its own bucket; over the limit → 429 with Retry-After', async () => {
  let clock = 0;
  const app = new Hono<{ Variables: { principal: { name: string } } }>();
  app.onError((err, c) => {
    const info = httpErrorInfo(err);
    return c.json({ error: { code: info.code, message: info.message } }, info.status as 400);
  });
  app.use('*', async (c, next) => {
    c.set('principal', { name: c.req.header('x-user') ?? 'anon' });
    await next();
  });
  app.use('*', rateLimit({ perSecond: 2, burst: 3, now: () => clock }));
  app.get('/x', (c) => c.text('ok'));
  const hit = (user: string) => app.request('/x', { headers: { 'x-user': user } });

  const first = await Promise.all([hit('ann'), hit('ann'), hit('ann'), hit('ann')]);
  assert.deepEqual(
    first.map((r) => r.status),
    [200, 200, 200, 429],
  );
  const limited = first[3] as Response;
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
  assert.equal((await hit('bob')).status, 200, 'another caller is not limited');
  clock += 500; // one token back at 2/s
  assert.equal((await hit('ann')).status, 200);
  assert.equal((await hit('ann')).status, 429);
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadProject } from '../../src/config/index.js';
import { openEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { loadMonitors, MonitorService } from '../../src/monitor/index.js';
import { createMetrics, silentLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { createApp } from '../../src/serve/index.js';
import { runCli } from '../helpers/cli.js';
import { projectDir } from '../orchestrator/helpers.js';

interface Hook {
  path: string;
  body: Record<string, unknown>;
}

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Noon of the day after the data's last day: the latest bucket is a complete day. */
const NOW = Date.parse('2026-11-21T12:00:00Z');

/** A rule on shop.orders: rows per partner per day, firing under 5. */
function rule(name: string, extra = ''): string {
  return `name: ${name}
table: shop.orders
time: ts
dimension: partner
measure: count
bucket: day
window: 14
severity: critical
condition: { below: 5 }
alerts:
  - webhook: "\${HOOK}/${name}"
${extra}`;
}

/** The metastore a suite runs on: sluice.yaml lines, and how to drop it afterwards. */
interface Backend {
  sluiceYaml: string;
  close(): Promise<void>;
}

const sqlite = async (): Promise<Backend> => ({ sluiceYaml: '', close: async () => undefined });

async function postgres(): Promise<Backend> {
  const { createTestDatabase } = await import('../helpers/postgres.js');
  const db = await createTestDatabase();
  return { sluiceYaml: `metastore: { url: "${db.url}", poolMax: 4 }\n`, close: () => db.drop() };
}

monitorSuite('monitor rules on SQLite', sqlite, { cli: true });
monitorSuite('monitor rules on PostgreSQL', postgres, { cli: false });

function monitorSuite(label: string, backend: () => Promise<Backend>, o: { cli: boolean }) {
  describe(label, () => {
    const hooks: Hook[] = [];
    let meta: Backend;
    let http: Server;
    let dir: string;
    let runtime: Runtime;
    let engine: Engine;
    const opened: { runtime: Runtime; service: MonitorService }[] = [];
    const received = (path: string) => hooks.filter((h) => h.path === `/${path}`).map((h) => h.body);

    /** Another server's view of the same project: its own runtime on the same metastore. */
    async function evaluator(): Promise<MonitorService> {
      const r = await openRuntime(await loadProject(dir, { env: {} }), silentLogger);
      const service = new MonitorService(r, { engine, now: () => NOW });
      opened.push({ runtime: r, service });
      return service;
    }

    async function sql(text: string): Promise<void> {
      const s = await engine.openSession({ name: 'test', readOnly: false });
      try {
        const result = await s.run(text);
        for await (const _ of result.batches()) {
          // drain
        }
      } finally {
        await s.close();
      }
    }

    before(async () => {
      http = createServer((req, res) => {
        let text = '';
        req.on('data', (d) => (text += d));
        req.on('end', () => {
          hooks.push({ path: req.url ?? '', body: JSON.parse(text) });
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      process.env.HOOK = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      meta = await backend();
      dir = projectDir({ 'monitors/orders.yaml': rule('orders') }, meta.sluiceYaml);
      runtime = await openRuntime(await loadProject(dir, { env: {} }), silentLogger);
      engine = await openEngine(runtime);
      // 10 days, 10 orders a day for partners a and b; on the last day b has 2.
      await sql(`CREATE TABLE shop.orders AS
      SELECT TIMESTAMP '2026-11-11 08:00:00' + INTERVAL (d) DAY + INTERVAL (i) MINUTE AS ts, p AS partner, 10.0 AS amount
      FROM range(10) t(d), range(10) u(i), (VALUES ('a'), ('b')) v(p)
      WHERE NOT (p = 'b' AND d = 9 AND i >= 2)`);
    });
    after(async () => {
      delete process.env.HOOK;
      for (const o of opened) {
        await o.service.stop();
        await o.runtime.close();
      }
      await engine?.close();
      await runtime?.close();
      await meta?.close();
      await new Promise((r) => http?.close(r));
    });

    test('a rule over a real table fires a webhook once on the transition and once on resolution', async () => {
      const service = await evaluator();
      const [first] = await service.tick();
      assert.deepEqual(
        first?.verdicts.map((v) => [v.value, v.state, v.measured]),
        [
          ['a', 'ok', 10],
          ['b', 'firing', 2],
        ],
      );
      await waitUntil(() => received('orders').length >= 1);
      // Not due again within the hour; a forced check sees no change: nothing more is sent.
      assert.deepEqual(await service.tick(), []);
      const again = await service.checkNow('orders');
      assert.deepEqual(again[0]?.transitions, []);
      assert.equal(await service.deliver(), 0);
      const fired = received('orders');
      assert.equal(fired.length, 1);
      assert.equal(fired[0]?.event, 'firing');
      assert.equal(fired[0]?.value, 'b');
      assert.equal(fired[0]?.severity, 'critical');
      assert.equal(fired[0]?.measured, 2);
      assert.equal(fired[0]?.expected, '>= 5');
      assert.match(String(fired[0]?.text), /monitor orders is firing for partner=b: latest 2 < 5/);

      // The missing orders arrive: b resolves, once.
      await sql(
        `INSERT INTO shop.orders SELECT TIMESTAMP '2026-11-20 09:00:00' + INTERVAL (i) MINUTE, 'b', 1.0 FROM range(8) t(i)`,
      );
      const resolved = await service.checkNow('orders');
      assert.deepEqual(
        resolved[0]?.transitions.map((t) => [t.value, t.event]),
        [['b', 'resolved']],
      );
      assert.equal(await service.deliver(), 1);
      await service.checkNow('orders');
      assert.equal(await service.deliver(), 0);
      assert.deepEqual(
        received('orders').map((b) => [b.event, b.value, b.measured]),
        [
          ['firing', 'b', 2],
          ['resolved', 'b', 10],
        ],
      );
    });

    test('two evaluators on the same metastore fire once', async () => {
      const write = (name: string, text: string) => fs.writeFileSync(`${dir}/monitors/${name}.yaml`, text);
      // Every partner under 100 a day: both values fire.
      await write('twice', rule('twice').replace('below: 5', 'below: 100'));
      const [s1, s2] = [await evaluator(), await evaluator()];
      const ticks = await Promise.all([s1.tick(), s2.tick(), s1.tick(), s2.tick()]);
      const checked = ticks.flat().filter((r) => r.monitor.name === 'twice');
      assert.equal(checked.length, 1, 'the due check is claimed by one evaluator');
      // Forced checks at once on both: each transition is made (and notified) by one of them.
      await write('forced', rule('forced').replace('below: 5', 'below: 100'));
      const forced = await Promise.all([s1.checkNow('forced'), s2.checkNow('forced')]);
      assert.equal(forced.flatMap((r) => r.flatMap((c) => c.transitions)).length, 2);
      await Promise.all([s1.deliver(), s2.deliver()]);
      await waitUntil(() => received('twice').length >= 2 && received('forced').length >= 2);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        received('twice')
          .map((b) => b.value)
          .sort(),
        ['a', 'b'],
      );
      assert.deepEqual(
        received('forced')
          .map((b) => b.value)
          .sort(),
        ['a', 'b'],
      );
    });

    test('state survives a restart: a value still firing is not notified again', async () => {
      const before = received('twice').length;
      const last = opened.pop();
      await last?.service.stop();
      await last?.runtime.close();
      const restarted = await evaluator();
      const rules = await restarted.overview();
      const twice = rules.find((m) => m.name === 'twice');
      assert.equal(twice?.state, 'firing');
      assert.deepEqual(
        twice?.states.map((s) => [s.value, s.state]),
        [
          ['a', 'firing'],
          ['b', 'firing'],
        ],
      );
      assert.equal(twice?.condition, 'below 100');
      const [result] = await restarted.checkNow('twice');
      assert.deepEqual(result?.transitions, []);
      assert.equal(await restarted.deliver(), 0);
      assert.equal(received('twice').length, before);
    });

    test('GET /api/v1/monitors lists the rules with their states, without target URLs', async () => {
      const app = createApp({ runtime, metrics: createMetrics(), startedAt: new Date() });
      const res = await app.request('/api/v1/monitors');
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.doesNotMatch(text, /127\.0\.0\.1/);
      const body = JSON.parse(text) as { monitors: { name: string; state: string; alerts: unknown[] }[] };
      const orders = body.monitors.find((m) => m.name === 'orders');
      assert.equal(orders?.state, 'ok');
      assert.deepEqual(orders?.alerts, [{ on: ['firing', 'resolved'], kind: 'webhook' }]);
      const spec = (await (await app.request('/api/v1/openapi.json')).json()) as {
        paths: Record<string, unknown>;
      };
      assert.ok(spec.paths['/api/v1/monitors']);
    });

    test('a check that fails is shown with its error and retried within a minute', async () => {
      const write = (name: string, text: string) => fs.writeFileSync(`${dir}/monitors/${name}.yaml`, text);
      await write('missing', rule('missing').replace('shop.orders', 'shop.nowhere'));
      const service = await evaluator();
      const [result] = (await service.tick()).filter((r) => r.monitor.name === 'missing');
      assert.match(String(result?.error), /nowhere/);
      const missing = (await service.overview()).find((m) => m.name === 'missing');
      assert.match(String(missing?.error), /nowhere/);
      assert.equal(missing?.nextCheckAt, new Date(NOW + 60_000).toISOString());
      fs.rmSync(`${dir}/monitors/missing.yaml`);
    });

    test('sluice monitors check exits 1 while a value fires and prints why', {
      skip: !o.cli && 'the CLI runs once, on SQLite',
    }, async () => {
      const res = await runCli(['monitors', 'check', 'twice', '--dry-run'], {
        cwd: dir,
        env: { HOOK: 'http://127.0.0.1:9' },
      });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stdout, /twice\s+a\s+firing\s+>= 100\s+latest 10 < 100/);
    });
  });
}

describe('monitor rule files', () => {
  test('a bad rule file gives file:line', async () => {
    const dir = projectDir({
      'monitors/good.yaml': rule('good'),
      'monitors/bad.yaml': `name: bad
table: shop.orders
time: ts
bucket: week
condition: { below: 5, above: 10 }
schedule: "not cron"
`,
    });
    await assert.rejects(loadMonitors(dir, { HOOK: 'http://x' }), (err: Error) => {
      assert.match(err.message, /monitors\/bad\.yaml:4:\d+: .*bucket/);
      assert.match(
        err.message,
        /monitors\/bad\.yaml:5:\d+: .*exactly one of anomaly, below, above, freshness or drop/,
      );
      assert.match(err.message, /monitors\/bad\.yaml:6:\d+: .*invalid cron expression "not cron"/);
      return true;
    });
    const dup = projectDir({ 'monitors/a.yaml': rule('same'), 'monitors/b.yml': rule('same') });
    await assert.rejects(
      loadMonitors(dup, { HOOK: 'http://x' }),
      /monitors\/b\.yml: monitor "same" is already defined in monitors\/a\.yaml/,
    );
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cdcTaskSchema, replicationName, resetCdc } from '../../src/ingest/cdc/index.js';
import { ingestSpecSchema } from '../../src/ingest/index.js';
import { runCli } from '../helpers/cli.js';
import { assertLakeEqualsSource, cdcSuite, pgExec, testSpec } from './cdc-helpers.js';
import { tableSnapshots } from './helpers.js';

describe('ingest with a postgres_cdc source', () => {
  const s = cdcSuite(async (url) => {
    await pgExec(
      url,
      `INSERT INTO orders SELECT g, g * 1.5, now(), jsonb_build_object('g', g), ARRAY['t' || g], NULL, g
         FROM generate_series(1, 60) g;
       INSERT INTO line_items SELECT g % 20, g, 'sku' || g, g, ARRAY[g] FROM generate_series(1, 40) g;
       INSERT INTO events SELECT 'e' || g, 'k', now(), NULL FROM generate_series(1, 10) g;`,
    );
  });

  // The options of the cdc task tests (parsed: durations in ms, defaults filled in).
  const source = (url: string) => testSpec(url).source.postgres_cdc;

  test('a pipeline run snapshots, later runs apply inserts, updates and deletes', async () => {
    const proj = join(s.dir, 'proj');
    mkdirSync(join(proj, 'pipelines'), { recursive: true });
    writeFileSync(
      join(proj, 'pipelines', 'mirror.yaml'),
      `name: mirror
tasks:
  - id: shop
    ingest:
      source:
        postgres_cdc: ${JSON.stringify(source(s.db.url))}
      sink: { namespace: mirror }
`,
    );
    const run = () => runCli(['--project', proj, 'run', 'mirror'], { timeoutMs: 120_000 });
    const first = await run();
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    await assertLakeEqualsSource(s.runtime, s.db.url, 'mirror');

    await pgExec(
      s.db.url,
      `INSERT INTO orders (id, qty) VALUES (500, 1), (501, 2);
       UPDATE orders SET qty = qty * 10, note = 'changed' WHERE id % 7 = 0;
       DELETE FROM orders WHERE id BETWEEN 10 AND 19;
       DELETE FROM line_items WHERE order_id = 3;
       UPDATE line_items SET price = 0 WHERE line > 30;
       UPDATE events SET kind = 'z' WHERE event_id = 'e2';
       DELETE FROM events WHERE event_id = 'e3';`,
    );
    const second = await run();
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
    await assertLakeEqualsSource(s.runtime, s.db.url, 'mirror');
    // The second run streamed the changes: the slot named after the task exists and the
    // commits carry the LSN (no second snapshot).
    const name = replicationName('mirror', 'shop');
    assert.equal(name, 'mirror_shop');
    const slots = await pgExec(
      s.db.url,
      `SELECT 1 FROM pg_replication_slots WHERE slot_name = 'sluice_mirror_shop'`,
    );
    assert.equal(slots.rowCount, 1);
    const snaps = await tableSnapshots(s.runtime, 'mirror.orders');
    assert.ok(snaps.some((x) => x.summary['sluice.cdc.lsn'] !== undefined));
    await resetCdc(s.runtime, cdcTaskSchema.parse({ name, source: { postgres_cdc: source(s.db.url) } }));
  });

  test('table-sink options are refused for postgres_cdc, and a table sink needs a table', () => {
    const bad = ingestSpecSchema.safeParse({
      source: { postgres_cdc: { url: 'postgres://u@h/db', tables: ['orders'] } },
      sink: { table: 'shop.orders', mode: 'upsert', key: ['id'] },
      processors: [{ filter: 'id > 0' }],
    });
    assert.equal(bad.success, false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.ok(
      messages.some((m) => /^sink\.table: postgres_cdc writes one lake table per source table/.test(m)),
    );
    assert.ok(messages.some((m) => /^sink\.mode: sink\.mode does not apply to postgres_cdc/.test(m)));
    assert.ok(messages.some((m) => /^processors: processors do not apply/.test(m)));
    const ok = ingestSpecSchema.parse({
      source: { postgres_cdc: { url: 'postgres://u@h/db', tables: ['orders'] } },
    });
    assert.equal(ok.source.postgres_cdc?.namespace, 'cdc');
    const noTable = ingestSpecSchema.safeParse({
      source: { files: { path: 'in', glob: '*.csv' } },
      sink: {},
    });
    assert.equal(noTable.success, false);
    assert.match(String(noTable.error?.issues[0]?.message), /the sink needs a table/);
    assert.equal(replicationName('Daily-Sync', '2nd.step'), 'daily_sync_2nd_step');
    assert.equal(replicationName('9p', 't'), 'p_9p_t');
    assert.ok(replicationName('x'.repeat(80), 'y').length <= 56);
  });
});

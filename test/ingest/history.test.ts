import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Engine, type EngineSession, openEngine } from '../../src/engine/index.js';
import { listRawObjects } from '../../src/ingest/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { query } from '../engine/helpers.js';
import { type IngestEnv, openIngestEnv, runSpec, tableSnapshots } from './helpers.js';
import { type MockApi, makeRecords, startMockApi } from './mock-api.js';

describe('ingest history in sluice_system', () => {
  let env: IngestEnv;
  let api: MockApi;
  let engine: Engine;
  let sql: EngineSession;
  const records = makeRecords(110, { badEvery: 25 });

  before(async () => {
    env = await openIngestEnv();
    api = await startMockApi({ records });
    engine = await openEngine(env.runtime);
    sql = await engine.openSession({ name: 'reader', readOnly: true });
  });
  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
  });

  const spec = () => ({
    source: {
      http: {
        url: `${api.url}/v1/page`,
        records: 'data.items',
        params: { region: 'eu' },
        paginate: { style: 'page', size_param: 'per_page', size: 20 },
      },
    },
    sink: { table: 'hist.items', schema: { amount: 'double' } },
    batch: { max_objects: 3 },
  });

  test('raw objects, the commits that consumed them and quarantine appends are queryable with SQL', async () => {
    const summary = await runSpec(env, spec(), { pipeline: 'hist', taskId: 'fetch', runId: 'run-1' });
    assert.equal(summary.objects, 6);
    await flushSystemTables(env.runtime);

    const ledger = await listRawObjects(env.runtime.meta, { task: 'hist.fetch' });
    const fetched = await query(
      sql,
      `SELECT object_id, source, run_id, size, checksum, json_extract_string(request, '$.url') AS url,
              json_extract_string(response_headers, '$."content-type"') AS ctype, record_count
       FROM sluice_system.raw_objects WHERE task = 'hist.fetch' ORDER BY seq`,
    );
    assert.equal(fetched.length, 6);
    assert.deepEqual(fetched.map((r) => r[0]).sort(), ledger.map((o) => o.id).sort());
    for (const [id, source, runId, size, checksum, url, ctype] of fetched) {
      const o = ledger.find((x) => x.id === id);
      assert.equal(source, 'http');
      assert.equal(runId, 'run-1');
      assert.equal(size, o?.size);
      assert.equal(checksum, o?.checksum);
      assert.match(String(url), /\/v1\/page\?.*region=eu/);
      assert.match(String(ctype), /json/);
    }
    // "What did we fetch today?"
    const [[today]] = (await query(
      sql,
      `SELECT count(*) FROM sluice_system.raw_objects WHERE fetched_at >= current_date`,
    )) as [[number]];
    assert.equal(today, 6);

    // "Which raw objects fed snapshot X?" — each batch of 3 pages is one commit.
    const snaps = (await tableSnapshots(env.runtime, 'hist.items')).filter(
      (s) => s.summary['sluice.ingest.task'] === 'hist.fetch',
    );
    assert.equal(snaps.length, 2);
    for (const s of snaps) {
      const fed = await query(
        sql,
        `SELECT r.seq FROM sluice_system.raw_object_loads l JOIN sluice_system.raw_objects r USING (object_id)
         WHERE l.snapshot_id = ${s['snapshot-id']} AND l.table_name = 'hist.items' ORDER BY r.seq`,
      );
      assert.equal(fed.length, 3);
      assert.equal(s.summary['sluice.raw-objects'], `${ledger[0]?.epoch}:${fed[0]?.[0]}-${fed[2]?.[0]}`);
    }
    const loads = await query(sql, `SELECT DISTINCT how, run_id FROM sluice_system.raw_object_loads`);
    assert.deepEqual(loads, [['loaded', 'run-1']]);

    // Quarantine summary matches the quarantine table, one row per append.
    const bad = records.filter((r) => typeof r.amount !== 'number').length;
    const [[n, appends, qtable]] = (await query(
      sql,
      `SELECT sum(records), count(*), any_value(quarantine_table) FROM sluice_system.quarantine WHERE task = 'hist.fetch'`,
    )) as [[number, number, string]];
    assert.equal(n, bad);
    assert.equal(qtable, 'hist.items__quarantine');
    const [[inTable]] = (await query(sql, 'SELECT count(*) FROM hist.items__quarantine')) as [[number]];
    assert.equal(inTable, bad);
    const qsnaps = await tableSnapshots(env.runtime, 'hist.items__quarantine');
    assert.equal(appends, qsnaps.length);
  });

  test('reprocessing records new loads of the same raw objects, not new raw objects', async () => {
    await runSpec(env, spec(), {
      pipeline: 'hist',
      taskId: 'fetch',
      runId: 'run-2',
      options: { reprocess: true },
    });
    await flushSystemTables(env.runtime);
    const [[objects]] = (await query(
      sql,
      `SELECT count(*) FROM sluice_system.raw_objects WHERE task = 'hist.fetch'`,
    )) as [[number]];
    assert.equal(objects, 6);
    const byHow = await query(
      sql,
      `SELECT how, count(DISTINCT object_id), count(DISTINCT snapshot_id) FROM sluice_system.raw_object_loads
       WHERE task = 'hist.fetch' GROUP BY how ORDER BY how`,
    );
    // The reprocess is one overwrite commit consuming every object.
    assert.deepEqual(byHow, [
      ['loaded', 6, 2],
      ['reprocessed', 6, 1],
    ]);
  });
});

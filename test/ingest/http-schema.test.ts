import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { openCatalog } from '../../src/catalog/index.js';
import { openDuck } from '../../src/duck/index.js';
import { ingestSpecSchema, ingestTaskKind } from '../../src/ingest/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openTable } from '../../src/table/index.js';
import { type IngestEnv, openIngestEnv, plainRows, tableRows, taskContext } from './helpers.js';
import { type ApiRecord, startMockApi } from './mock-api.js';

/** Pages of 5 records; `late(page, i)` adds fields to record `i` (0-based) of page `page` (1-based). */
function pagesOf(pages: number, late: (page: number, i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: pages * 5 }, (_, n) => {
    const page = Math.floor(n / 5) + 1;
    return {
      id: n + 1,
      name: `item-${n + 1}`,
      amount: n + 1,
      updated_at: new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString(),
      tags: ['a'],
      ...late(page, n % 5),
    };
  });
}

describe('HTTP JSON pages read with the record type of earlier batches', () => {
  let env: IngestEnv;
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  /** Run a page-paginated task (3 pages per batch) over `records`; the staged-batch log lines are returned. */
  async function run(task: string, records: Record<string, unknown>[], sink: Record<string, unknown>) {
    const api = await startMockApi({ records: records as unknown as ApiRecord[] });
    const lines: { recordType?: string; msg?: string }[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    });
    const ctx = {
      ...taskContext(env.runtime, { taskId: task }),
      log: createLogger({ level: 'debug', stream }),
    };
    const spec = ingestSpecSchema.parse({
      source: {
        http: {
          url: `${api.url}/v1/page`,
          paginate: { style: 'page', size_param: 'per_page', size: 5 },
          records: 'data.items',
        },
      },
      sink,
      batch: { max_objects: 3 },
    });
    try {
      const result = await ingestTaskKind.run(ctx, spec);
      return { summary: result.summary ?? {}, staged: lines.filter((l) => l.msg === 'batch staged') };
    } finally {
      await api.close();
    }
  }

  async function columnType(table: string, column: string): Promise<unknown> {
    const catalog = openCatalog({ meta: env.runtime.meta, store: env.runtime.store });
    const duck = await openDuck({ threads: 1 });
    try {
      const t = await openTable(catalog, env.runtime.store, duck, { namespace: ['j'], name: table });
      return t.schema().fields.find((f) => f.name === column)?.type;
    } finally {
      await duck.close();
    }
  }

  test('fields that first appear on page 7 (top level and nested) land in the table', async () => {
    const records = pagesOf(12, (page, i) => {
      if (page === 7 && i === 2) return { extra: 'late', address: { city: 'Lyon' } };
      if (page === 8 && i === 0) return { address: { city: 'Nice', zip: '06000' } };
      if (page === 9 && i === 4) return { lines: [{ sku: 'y', qty: 2 }] };
      return {};
    });
    const { summary, staged } = await run('late', records, { table: 'j.late' });
    assert.equal(summary.written, 60);
    // Batches: pages 1–3 inferred, 4–6 known, 7–9 inferred again (new fields), 10–12 known.
    assert.deepEqual(
      staged.map((s) => s.recordType),
      ['inferred', 'known', 'inferred', 'known'],
    );
    const rows = plainRows(await tableRows(env.runtime, 'j.late', 'id'));
    assert.equal(rows.length, 60);
    assert.deepEqual(
      rows.filter((r) => r.extra !== null).map((r) => [r.id, r.extra]),
      [[33, 'late']],
    );
    assert.deepEqual(
      rows.filter((r) => r.address !== null).map((r) => [r.id, r.address]),
      [
        [33, { city: 'Lyon', zip: null }],
        [36, { city: 'Nice', zip: '06000' }],
      ],
    );
    assert.deepEqual(
      rows.filter((r) => r.lines !== null).map((r) => [r.id, r.lines]),
      [[45, [{ sku: 'y', qty: 2 }]]],
    );
    assert.deepEqual(rows.find((r) => r.id === 60)?.tags, ['a']);
  });

  test('fields that first appear inside a struct or list column on a later batch land in the table', async () => {
    const records = pagesOf(6, (page, i) => ({
      customer: page === 5 && i === 1 ? { name: 'n', tier: 'gold' } : { name: 'n' },
      lines: page === 6 && i === 0 ? [{ sku: 'x', qty: 2 }] : [{ sku: 'x' }],
    }));
    const { summary, staged } = await run('nested', records, { table: 'j.nested' });
    assert.equal(summary.written, 30);
    // Pages 4–6 bring new nested fields: they are inferred again, not read with the known type.
    assert.deepEqual(
      staged.map((s) => s.recordType),
      ['inferred', 'inferred'],
    );
    const rows = plainRows(await tableRows(env.runtime, 'j.nested', 'id'));
    assert.deepEqual(rows.find((r) => r.id === 1)?.customer, { name: 'n', tier: null });
    assert.deepEqual(rows.find((r) => r.id === 22)?.customer, { name: 'n', tier: 'gold' });
    assert.deepEqual(rows.find((r) => r.id === 26)?.lines, [{ sku: 'x', qty: 2 }]);
    assert.deepEqual(rows.find((r) => r.id === 27)?.lines, [{ sku: 'x', qty: null }]);
  });

  test('a fractional number on a later page follows the drift policy: never rounded into a long column', async () => {
    const widened = (page: number, i: number) => (page === 7 && i === 1 ? { amount: 32.5 } : {});
    // Iceberg has no long → double promotion: under evolve and ignore the record is quarantined.
    for (const policy of ['evolve', 'ignore']) {
      const { summary, staged } = await run(policy, pagesOf(9, widened), {
        table: `j.${policy}`,
        schema_drift: policy,
      });
      assert.deepEqual(
        staged.map((s) => s.recordType),
        ['inferred', 'known', 'inferred'],
      );
      assert.equal(summary.written, 44);
      assert.equal(summary.quarantined, 1);
      assert.equal(await columnType(policy, 'amount'), 'long');
      const q = plainRows(await tableRows(env.runtime, `j.${policy}__quarantine`));
      assert.deepEqual(
        q.map((r) => r.__reason),
        ['column "amount": cannot convert 32.5 to BIGINT'],
      );
      assert.equal((await tableRows(env.runtime, `j.${policy}`, 'id'))?.length, 44);
    }
    await assert.rejects(
      run('fail', pagesOf(9, widened), { table: 'j.fail', schema_drift: 'fail' }),
      /schema_drift: fail\): column "amount" holds fractional numbers \(DOUBLE\) but the table has long/,
    );
    assert.equal(await columnType('fail', 'amount'), 'long');
    // Pages 1–6 were committed before the page with the fraction arrived.
    assert.equal((await tableRows(env.runtime, 'j.fail', 'id'))?.length, 30);
  });

  test('a value the known type cannot hold is read again with inference and quarantined by the sink', async () => {
    const records = pagesOf(6, (page, i) => (page === 5 && i === 3 ? { updated_at: 'n/a' } : {}));
    const { summary, staged } = await run('notime', records, { table: 'j.notime' });
    // Pages 4–6: the known type (updated_at a timestamp) fails on "n/a", so they are inferred.
    assert.deepEqual(
      staged.map((s) => s.recordType),
      ['inferred', 'inferred'],
    );
    assert.equal(summary.written, 29);
    assert.equal(summary.quarantined, 1);
    const q = plainRows(await tableRows(env.runtime, 'j.notime__quarantine'));
    assert.equal(q.length, 1);
    assert.match(String(q[0]?.__reason), /column "updated_at": cannot convert n\/a/);
  });
});

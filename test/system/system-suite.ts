import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StorageOptions } from '../../src/storage/index.js';
import {
  CLAIM_SUMMARY_KEY,
  defineSystemTable,
  flushSystemTables,
  OUTBOX_IDS_SUMMARY_KEY,
  recordSystemRows,
  startSystemTableFlusher,
} from '../../src/system/index.js';
import { openTable } from '../../src/table/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import type { CatalogEnv } from '../table/table-helpers.js';
import { events, killFlushAt, outboxCount, readSystemTable, runtimeOf } from './system-helpers.js';

const batch = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i,
    at: new Date(Date.UTC(2026, 0, 1 + (i % 3), 12)),
    kind: `k${(from + i) % 4}`,
  }));

/** The system table contract on one metastore + store combination. */
export function systemTableSuite(
  label: string,
  open: () => Promise<{ env: CatalogEnv; storage: StorageOptions; close(): Promise<void> }>,
): void {
  describe(`system tables on ${label}`, () => {
    let env: CatalogEnv;
    let storage: StorageOptions;
    let close: () => Promise<void>;
    before(async () => {
      ({ env, storage, close } = await open());
    });
    after(() => close?.());

    test('rows of every type round-trip through the outbox into one snapshot', async () => {
      const rt = runtimeOf(env);
      await recordSystemRows(env.meta, events, [
        {
          id: 1,
          at: '2026-01-02T03:04:05.123456Z',
          kind: 'a',
          ok: true,
          score: Number.NaN,
          amount: '12.34',
          day: '2026-01-02',
          uid: '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B',
          payload: new Uint8Array([0, 255, 16]),
        },
        { id: 2n ** 62n, at: 1767225600000, kind: 'b', score: -1.5, amount: 7 },
      ]);
      await env.meta.transaction((tx) =>
        recordSystemRows(tx, events, [{ id: 3, at: new Date(0), kind: 'c' }]),
      );
      assert.equal(await outboxCount(env), 3);
      const [r] = await flushSystemTables(rt, { duck: env.duck });
      assert.equal(r?.appendedRows, 3);
      assert.equal(r?.snapshots.length, 1);
      assert.equal(await outboxCount(env), 0);
      const rows = await readSystemTable(
        env,
        'test_events',
        `id, strftime("at", '%Y-%m-%d %H:%M:%S.%f') AS "at", kind, ok, isnan(score) AS nan, score, CAST(amount AS VARCHAR) AS amount, CAST(day AS VARCHAR) AS day, CAST(uid AS VARCHAR) AS uid, hex(payload) AS payload`,
      );
      assert.deepEqual(rows, [
        {
          id: 1n,
          at: '2026-01-02 03:04:05.123456',
          kind: 'a',
          ok: true,
          nan: true,
          score: Number.NaN,
          amount: '12.34',
          day: '2026-01-02',
          uid: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
          payload: '00FF10',
        },
        {
          id: 3n,
          at: '1970-01-01 00:00:00.000000',
          kind: 'c',
          ok: null,
          nan: null,
          score: null,
          amount: null,
          day: null,
          uid: null,
          payload: null,
        },
        {
          id: 2n ** 62n,
          at: '2026-01-01 00:00:00.000000',
          kind: 'b',
          ok: null,
          nan: false,
          score: -1.5,
          amount: '7.00',
          day: null,
          uid: null,
          payload: null,
        },
      ]);
      const table = await openTable(env.catalog, env.store, env.duck, {
        namespace: ['sluice_system'],
        name: 'test_events',
      });
      const summary = table.currentSnapshot()?.summary ?? { operation: 'append' };
      assert.match(summary[OUTBOX_IDS_SUMMARY_KEY] ?? '', /^\d+-\d+$/);
      assert.ok(summary[CLAIM_SUMMARY_KEY]);
      assert.equal(table.spec().fields[0]?.transform, 'day');
      assert.equal(table.schema().fields.find((f) => f.name === 'id')?.doc, 'event id');
    });

    test('a rolled-back transaction records nothing', async () => {
      await assert.rejects(
        env.meta.transaction(async (tx) => {
          await recordSystemRows(tx, events, batch(100, 5));
          throw new Error('the caller failed');
        }),
        /the caller failed/,
      );
      assert.equal(await outboxCount(env), 0);
    });

    test('bad rows fail at record time naming table, row and column, and nothing is written', async () => {
      const bad: [unknown, RegExp][] = [
        [{ id: 1, at: new Date() }, /test_events, row 1: required column "kind" \(string\) is missing/],
        [{ id: 'x', at: new Date(), kind: 'a' }, /row 1: column "id" \(long\) expects an integer, got "x"/],
        [{ id: 1, at: 'yesterday', kind: 'a' }, /column "at" \(timestamptz\) expects a Date/],
        [{ id: 1, at: new Date(), kind: 'a', score: '1.5' }, /column "score" \(double\) expects a number/],
        [
          { id: 1, at: new Date(), kind: 'a', amount: '1.234' },
          /column "amount" \(decimal\(12,2\)\): 1.234 does not fit/,
        ],
        [{ id: 2n ** 64n, at: new Date(), kind: 'a' }, /column "id" \(long\): \d+ is out of range/],
        [{ id: 1, at: new Date(), kind: 'a', colour: 'red' }, /unknown column "colour"/],
        ['not a row', /row 1: expected an object, got string/],
        [
          { id: 1, at: new Date(), kind: 'x'.repeat(1 << 20) },
          /row 1: the row is \d+ bytes encoded, above the limit/,
        ],
      ];
      for (const [row, message] of bad) {
        const err = await recordSystemRows(env.meta, events, [batch(0, 1)[0], row] as never).catch((e) => e);
        assert.ok(err instanceof InvalidInputError, String(err));
        assert.match(err.message, /system table sluice_system\.test_events/);
        assert.match(err.message, message);
      }
      assert.equal(await outboxCount(env), 0);
      assert.throws(
        () => defineSystemTable({ name: 'Bad Name', columns: [{ name: 'a', type: 'int' }] }),
        /invalid system table name/,
      );
      assert.throws(
        () => defineSystemTable({ name: 't', columns: [{ name: 'a', type: 'fixed[4]' }] }),
        /fixed types are not supported/,
      );
      assert.throws(
        () => defineSystemTable({ name: 't', columns: [{ name: 'a', type: 'text' }] }),
        /sluice_system\.t: column "a"/,
      );
      assert.throws(
        () =>
          defineSystemTable({
            name: 't',
            columns: [
              { name: 'a', type: 'int' },
              { name: 'a', type: 'long' },
            ],
          }),
        /column "a" is defined twice/,
      );
    });

    test('a definition that gains a column evolves the table; older rows read NULL', async () => {
      const v1 = defineSystemTable({
        name: 'test_evolve',
        columns: [{ name: 'id', type: 'int', required: true }],
      });
      const v2 = defineSystemTable({
        name: 'test_evolve',
        columns: [
          { name: 'id', type: 'long', required: true },
          { name: 'note', type: 'string' },
        ],
      });
      await recordSystemRows(env.meta, v1, [{ id: 1 }]);
      await flushSystemTables(runtimeOf(env), { duck: env.duck });
      await recordSystemRows(env.meta, v1, [{ id: 2 }]);
      await recordSystemRows(env.meta, v2, [{ id: 3, note: 'new' }]);
      const [r] = await flushSystemTables(runtimeOf(env), { duck: env.duck });
      assert.equal(r?.appendedRows, 2);
      await recordSystemRows(env.meta, v1, [{ id: 4 }]);
      const [older] = await flushSystemTables(runtimeOf(env), { duck: env.duck });
      assert.equal(older?.appendedRows, 1, 'rows of the older, narrower definition still land');
      assert.deepEqual(await readSystemTable(env, 'test_evolve'), [
        { id: 1n, note: null },
        { id: 2n, note: null },
        { id: 3n, note: 'new' },
        { id: 4n, note: null },
      ]);
      const bad = defineSystemTable({
        name: 'test_evolve',
        columns: [{ name: 'id', type: 'string', required: true }],
      });
      await recordSystemRows(env.meta, bad, [{ id: 'x' }]);
      const [f] = await flushSystemTables(runtimeOf(env), { duck: env.duck });
      assert.match(String(f?.error?.message), /test_evolve: column "id" is "long" in the table but string/);
      assert.equal(await outboxCount(env), 1);
      const [left] = await env.meta.query<{ claim_id: string | null }>(
        'SELECT claim_id FROM sluice_system_outbox',
      );
      assert.equal(left?.claim_id, null, 'a flush failing before its append gives the rows back');
      await env.meta.execute('DELETE FROM sluice_system_outbox');
    });

    for (const stage of ['claimed', 'committed']) {
      test(`a flush killed with SIGKILL after it ${stage} is resumed without loss or duplicates`, async () => {
        const t = defineSystemTable({
          name: `test_crash_${stage}`,
          columns: [
            { name: 'id', type: 'long', required: true },
            { name: 'kind', type: 'string' },
          ],
        });
        await recordSystemRows(
          env.meta,
          t,
          batch(0, 500).map(({ id, kind }) => ({ id, kind })),
        );
        await killFlushAt(env.metaUrl, storage, stage);
        await recordSystemRows(
          env.meta,
          t,
          batch(500, 10).map(({ id, kind }) => ({ id, kind })),
        );
        await new Promise((r) => setTimeout(r, 5)); // the child's 1 ms lease expires
        const [r] = await flushSystemTables(runtimeOf(env), { duck: env.duck });
        assert.equal(r?.error, undefined);
        assert.equal(r?.alreadyCommittedRows, stage === 'committed' ? 500 : 0);
        assert.equal(r?.appendedRows, stage === 'committed' ? 10 : 510);
        const [c] = await readSystemTable(
          env,
          t.name,
          'count(*) AS n, count(DISTINCT id) AS d, max(id) AS hi',
        );
        assert.deepEqual(c, { n: 510n, d: 510n, hi: 509n });
        assert.equal(await outboxCount(env), 0);
      });
    }

    test('two flushes at once append each row once', async () => {
      const t = defineSystemTable({ name: 'test_concurrent', columns: [{ name: 'id', type: 'long' }] });
      await recordSystemRows(
        env.meta,
        t,
        batch(0, 300).map(({ id }) => ({ id })),
      );
      const results = await Promise.all([
        flushSystemTables(runtimeOf(env), { duck: env.duck, maxRowsPerTable: 100 }),
        flushSystemTables(runtimeOf(env), { duck: env.duck, maxRowsPerTable: 100 }),
      ]);
      for (const r of results.flat()) assert.equal(r.error, undefined);
      for (let i = 0; i < 5 && (await outboxCount(env)) > 0; i++)
        await flushSystemTables(runtimeOf(env), { duck: env.duck, maxRowsPerTable: 100 });
      assert.equal(await outboxCount(env), 0);
      const [c] = await readSystemTable(env, t.name, 'count(*) AS n, count(DISTINCT id) AS d');
      assert.deepEqual(c, { n: 300n, d: 300n });
    });

    test('the background flusher flushes on its interval and once more on stop', async () => {
      const t = defineSystemTable({ name: 'test_flusher', columns: [{ name: 'id', type: 'int' }] });
      const flusher = startSystemTableFlusher(runtimeOf(env), { intervalMs: 60_000, duck: env.duck });
      await recordSystemRows(env.meta, t, [{ id: 1 }]);
      await flusher.flushNow();
      await recordSystemRows(env.meta, t, [{ id: 2 }]);
      await flusher.stop();
      assert.deepEqual(await readSystemTable(env, 'test_flusher'), [{ id: 1 }, { id: 2 }]);
      assert.equal(await outboxCount(env), 0);
    });
  });
}

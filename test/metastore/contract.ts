/** The MetaStore contract: the same assertions, run against every backend. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CasRequest,
  type MetaStore,
  MIGRATIONS,
  openMetaStore,
  SchemaVersionError,
} from '../../src/metastore/index.js';
import { BackendError, ConflictError, InvalidInputError } from '../../src/util/index.js';
import { queueContract } from './queue-contract.js';
import { collect, waitFor } from './wait.js';

/** A database for one suite, and a way to get more fresh ones. */
export interface ContractTarget {
  /** URL of an empty database. */
  url: string;
  /** URL of another empty database. */
  fresh(): Promise<string>;
  dispose(): Promise<void>;
}

interface Column {
  name: string;
  type: string;
  notNull: boolean;
  /** Position in the primary key, 0 when not part of it. */
  pk: number;
}

async function columns(store: MetaStore, table: string): Promise<Column[]> {
  if (store.kind === 'sqlite') {
    const rows = await store.query<{ name: string; type: string; not_null: number; pk: number }>(
      'SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(?) ORDER BY cid',
      [table],
    );
    return rows.map((r) => ({
      name: r.name,
      type: r.type.toUpperCase(),
      notNull: r.not_null === 1,
      pk: r.pk,
    }));
  }
  const rows = await store.query<{
    name: string;
    data_type: string;
    len: number | null;
    nullable: string;
    pk: number | null;
  }>(
    `SELECT c.column_name AS name, c.data_type, c.character_maximum_length AS len, c.is_nullable AS nullable,
            k.ordinal_position AS pk
     FROM information_schema.columns c
     LEFT JOIN information_schema.table_constraints t
       ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY'
     LEFT JOIN information_schema.key_column_usage k
       ON k.constraint_name = t.constraint_name AND k.table_schema = c.table_schema AND k.column_name = c.column_name
     WHERE c.table_schema = current_schema() AND c.table_name = ?
     ORDER BY c.ordinal_position`,
    [table],
  );
  return rows.map((r) => ({
    name: r.name,
    type: r.data_type === 'character varying' ? `VARCHAR(${r.len})` : r.data_type.toUpperCase(),
    notNull: r.nullable === 'NO',
    pk: r.pk ?? 0,
  }));
}

const varchar = (name: string, len: number, notNull: boolean, pk = 0): Column => ({
  name,
  type: `VARCHAR(${len})`,
  notNull,
  pk,
});

export function metaStoreContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`MetaStore contract: ${name}`, () => {
    let target: ContractTarget;
    let store: MetaStore;
    before(async () => {
      target = await setup();
      store = await openMetaStore(target.url);
    });
    after(async () => {
      await store?.close();
      await target?.dispose();
    });

    test('applies every migration once; reopening changes nothing', async () => {
      const latest = MIGRATIONS.at(-1)?.version;
      assert.equal((await store.health()).schemaVersion, latest);
      const again = await openMetaStore(target.url);
      try {
        const rows = await again.query<{ version: number; name: string }>(
          'SELECT version, name FROM sluice_migrations ORDER BY version',
        );
        assert.deepEqual(
          rows,
          MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
        );
        const health = await again.health();
        assert.equal(health.ok, true);
        assert.equal(health.schemaVersion, latest);
        assert.ok(!/:[^:@/]+@/.test(again.url) || again.url.includes(':***@'), 'url has no password');
      } finally {
        await again.close();
      }
    });

    test('creates the Iceberg JDBC-catalog tables exactly as the JDBC catalog does', async () => {
      assert.deepEqual(await columns(store, 'iceberg_tables'), [
        varchar('catalog_name', 255, true, 1),
        varchar('table_namespace', 255, true, 2),
        varchar('table_name', 255, true, 3),
        varchar('metadata_location', 1000, false),
        varchar('previous_metadata_location', 1000, false),
        varchar('iceberg_type', 5, false),
      ]);
      // PostgreSQL makes every primary-key column NOT NULL; SQLite keeps the declared nullability.
      assert.deepEqual(await columns(store, 'iceberg_namespace_properties'), [
        varchar('catalog_name', 255, true, 1),
        varchar('namespace', 255, true, 2),
        varchar('property_key', 255, store.kind === 'postgres', 3),
        varchar('property_value', 1000, false),
      ]);
    });

    test('query and execute bind portable values and return portable rows', async () => {
      const inserted = await store.execute(
        'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, ?)',
        ['q', 'a', 'x', 7],
      );
      assert.equal(inserted.rowCount, 1);
      await store.execute('INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, ?)', [
        'q',
        'n',
        42,
        1,
      ]);
      const when = new Date('2024-05-06T07:08:09.010Z');
      await store.execute('INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, ?)', [
        'q',
        'd',
        when,
        2,
      ]);
      const rows = await store.query(
        'SELECT key, value, version FROM sluice_state WHERE scope = ? ORDER BY key',
        ['q'],
      );
      assert.deepEqual(rows, [
        { key: 'a', value: 'x', version: 7 },
        { key: 'd', value: when.toISOString(), version: 2 },
        { key: 'n', value: '42', version: 1 },
      ]);
      const [lit] = await store.query(
        "SELECT 'a?b' AS s, ? AS p, COUNT(*) AS n FROM sluice_state WHERE scope = ?",
        ['param', 'q'],
      );
      assert.deepEqual(lit, { s: 'a?b', p: 'param', n: 3 });
      const [big] = await store.query('SELECT version FROM sluice_state WHERE scope = ? AND key = ?', [
        'q',
        'a',
      ]);
      assert.equal(typeof big?.version, 'number');
      await store.execute('UPDATE sluice_state SET version = ? WHERE scope = ? AND key = ?', [
        2n ** 62n,
        'q',
        'a',
      ]);
      const [huge] = await store.query('SELECT version FROM sluice_state WHERE scope = ? AND key = ?', [
        'q',
        'a',
      ]);
      assert.equal(huge?.version, 2n ** 62n, 'integers beyond 2^53 come back as bigint');
      const updated = await store.execute('UPDATE sluice_state SET value = ? WHERE scope = ?', ['y', 'q']);
      assert.equal(updated.rowCount, 3);
    });

    test('a duplicate primary key is a ConflictError', async () => {
      const sql = 'INSERT INTO sluice_state (scope, key, value) VALUES (?, ?, ?)';
      await store.execute(sql, ['dup', 'k', '1']);
      await assert.rejects(store.execute(sql, ['dup', 'k', '2']), ConflictError);
    });

    test('transactions commit when fn resolves and roll back when it throws', async () => {
      const result = await store.transaction(async (tx) => {
        await tx.execute('INSERT INTO sluice_state (scope, key, value) VALUES (?, ?, ?)', [
          'tx',
          'kept',
          '1',
        ]);
        return (await tx.query('SELECT value FROM sluice_state WHERE scope = ?', ['tx'])).length;
      });
      assert.equal(result, 1);
      const boom = new Error('boom');
      let leaked: Parameters<Parameters<MetaStore['transaction']>[0]>[0] | undefined;
      await assert.rejects(
        store.transaction(async (tx) => {
          leaked = tx;
          await tx.execute('INSERT INTO sluice_state (scope, key, value) VALUES (?, ?, ?)', [
            'tx',
            'lost',
            '1',
          ]);
          await tx.execute("UPDATE sluice_state SET value = '2' WHERE scope = 'tx' AND key = 'kept'");
          throw boom;
        }),
        (err) => err === boom,
      );
      const rows = await store.query('SELECT key, value FROM sluice_state WHERE scope = ? ORDER BY key', [
        'tx',
      ]);
      assert.deepEqual(rows, [{ key: 'kept', value: '1' }]);
      await assert.rejects(leaked!.query('SELECT 1'), /after the transaction ended/);
      await assert.rejects(
        store.transaction((tx) => tx.query('SELEC nonsense')),
        BackendError,
      );
      assert.equal(
        (await store.query('SELECT 1 AS one'))[0]?.one,
        1,
        'the store is usable after a failed transaction',
      );
    });

    test('compareAndSwap updates only when the expected values still hold, NULL included', async () => {
      await store.execute('INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, NULL, 0)', [
        'cas',
        'k',
      ]);
      const key = { scope: 'cas', key: 'k' };
      assert.equal(
        await store.compareAndSwap({
          table: 'sluice_state',
          key,
          expected: { value: null },
          set: { value: 'a', version: 1 },
        }),
        true,
      );
      assert.equal(
        await store.compareAndSwap({
          table: 'sluice_state',
          key,
          expected: { value: null },
          set: { value: 'b' },
        }),
        false,
      );
      assert.equal(
        await store.compareAndSwap({
          table: 'sluice_state',
          key,
          expected: { value: 'a', version: 0 },
          set: { value: 'b' },
        }),
        false,
      );
      assert.equal(
        await store.compareAndSwap({
          table: 'sluice_state',
          key,
          expected: { value: 'a', version: 1 },
          set: { value: 'b', version: 2 },
        }),
        true,
      );
      assert.equal(
        await store.compareAndSwap({
          table: 'sluice_state',
          key: { scope: 'cas', key: 'none' },
          expected: {},
          set: { value: 'x' },
        }),
        false,
      );
      const [row] = await store.query('SELECT value, version FROM sluice_state WHERE scope = ? AND key = ?', [
        'cas',
        'k',
      ]);
      assert.deepEqual(row, { value: 'b', version: 2 });
      await store.execute('INSERT INTO sluice_state (scope, key, value) VALUES (?, ?, ?)', [
        'cas',
        'k2',
        'b',
      ]);
      await assert.rejects(
        store.compareAndSwap({
          table: 'sluice_state',
          key: { scope: 'cas' },
          expected: { value: 'b' },
          set: { value: 'c' },
        }),
        InvalidInputError,
      );
      const values = await store.query('SELECT value FROM sluice_state WHERE scope = ? ORDER BY key', [
        'cas',
      ]);
      assert.deepEqual(values, [{ value: 'b' }, { value: 'b' }], 'a CAS matching two rows changes nothing');
    });

    test('compareAndSwap rejects unsafe identifiers', async () => {
      const ok: CasRequest = {
        table: 'sluice_state',
        key: { scope: 'x', key: 'y' },
        expected: {},
        set: { value: 'z' },
      };
      for (const bad of <CasRequest[]>[
        { ...ok, table: 'sluice_state; DROP TABLE sluice_jobs' },
        { ...ok, table: 'Sluice_State' },
        { ...ok, key: { 'scope = scope OR 1': 'x' } },
        { ...ok, set: { 'value"': 'z' } },
        { ...ok, expected: { 'a-b': 1 } },
        { ...ok, set: {} },
      ]) {
        await assert.rejects(store.compareAndSwap(bad), InvalidInputError, JSON.stringify(bad));
      }
      assert.equal((await store.query('SELECT COUNT(*) AS n FROM sluice_jobs WHERE 1 = 0'))[0]?.n, 0);
    });

    queueContract(() => store);

    test('notify reaches every listener of the channel once, in process and across stores', async () => {
      const other = await openMetaStore(target.url);
      try {
        const mine: string[] = [];
        const theirs: string[] = [];
        const second: string[] = [];
        const stopMine = await store.listen('runs.done', (p) => mine.push(p));
        const stopSecond = await store.listen('runs.done', (p) => second.push(p));
        const stopTheirs = await other.listen('runs.done', (p) => theirs.push(p));
        const unrelated = await collect(other, 'runs.started');
        await store.notify('runs.done', 'from-store');
        await other.notify('runs.done', 'from-other');
        await waitFor(() => mine.length >= 2 && theirs.length >= 2 && second.length >= 2);
        await new Promise((r) => setTimeout(r, 400));
        assert.deepEqual(mine.sort(), ['from-other', 'from-store']);
        assert.deepEqual(second.sort(), ['from-other', 'from-store']);
        assert.deepEqual(theirs.sort(), ['from-other', 'from-store']);
        await stopSecond();
        await store.notify('runs.done');
        await waitFor(() => mine.length === 3 && theirs.length === 3);
        assert.equal(mine[2], '');
        assert.equal(second.length, 2, 'an unlistened handler gets nothing more');
        assert.equal(unrelated.received.length, 0);
        await Promise.all([stopMine(), stopTheirs(), unrelated.stop()]);
      } finally {
        await other.close();
      }
    });

    test('notify and listen validate channel names and payload size', async () => {
      await assert.rejects(store.notify('bad channel'), InvalidInputError);
      await assert.rejects(store.notify('x"; DROP TABLE sluice_jobs; --'), InvalidInputError);
      await assert.rejects(
        store.listen('UPPER', () => undefined),
        InvalidInputError,
      );
      await assert.rejects(store.notify('ok', 'x'.repeat(8000)), InvalidInputError);
    });

    test('a database migrated by a newer version is refused with a clear error', async () => {
      await store.execute('INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        9999,
        'future',
        0,
      ]);
      try {
        await assert.rejects(openMetaStore(target.url), (err: Error) => {
          assert.ok(err instanceof SchemaVersionError);
          assert.match(err.message, /schema version 9999/);
          assert.match(err.message, /downgrading is not supported/);
          return true;
        });
      } finally {
        await store.execute('DELETE FROM sluice_migrations WHERE version = ?', [9999]);
      }
    });

    test('close releases the store; later calls fail clearly', async () => {
      const extra = await openMetaStore(target.url);
      await extra.listen('closing', () => undefined);
      await extra.close();
      await extra.close();
      await assert.rejects(extra.query('SELECT 1'), BackendError);
      await assert.rejects(
        extra.transaction(async () => 1),
        /closed/,
      );
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createIcebergRestApp } from '../../src/catalog/index.js';
import { type Engine, type EngineSession, openEngine } from '../../src/engine/index.js';
import { PermissionError } from '../../src/util/index.js';
import { query, type TestProject, testProject } from './helpers.js';

describe('catalog views: CREATE VIEW ns.v, shown by every connection, checked for readers', () => {
  let p: TestProject;
  let engine: Engine;
  let writer: EngineSession;
  before(async () => {
    p = await testProject();
    engine = await openEngine(p.runtime);
    writer = await engine.openSession({ name: 'writer', readOnly: false });
    await query(
      writer,
      "CREATE TABLE shop.people AS SELECT i AS id, 'p' || i || '@x.org' AS email FROM range(1, 4) t(i)",
    );
  });
  after(async () => {
    await writer?.close();
    await engine?.close();
    await p?.remove();
  });

  test('a view is stored in the catalog and reads the current rows of its tables', async () => {
    await query(writer, 'CREATE VIEW shop.people_v AS SELECT id, email FROM shop.people WHERE id > 1');
    const v = await p.catalog.loadView({ namespace: ['shop'], name: 'people_v' });
    assert.match(v.metadataLocation, /people_v\/metadata\/00001-.*\.metadata\.json$/);
    assert.deepEqual(
      v.metadata.schemas[0]?.fields.map((f) => f.name),
      ['id', 'email'],
    );
    assert.equal(await p.catalog.tableExists({ namespace: ['shop'], name: 'people_v' }), false);
    assert.deepEqual(await p.catalog.listViews(['shop']), [{ namespace: ['shop'], name: 'people_v' }]);
    assert.deepEqual(await query(writer, 'SELECT count(*) FROM shop.people_v'), [[2]]);
    await query(writer, "INSERT INTO shop.people VALUES (9, 'nine@x.org')");
    assert.deepEqual(await query(writer, 'SELECT max(id) FROM shop.people_v'), [[9]]);
  });

  test('another engine (another process) sees the view, its SQL, and a replaced version', async () => {
    const other = await openEngine(p.runtime);
    try {
      const s = await other.openSession({ name: 'reader', readOnly: true });
      assert.deepEqual(await query(s, 'SELECT count(*) FROM shop.people_v'), [[3]]);
      await query(writer, 'CREATE OR REPLACE VIEW shop.people_v AS SELECT id FROM shop.people WHERE id = 1');
      assert.deepEqual(await query(s, 'SELECT * FROM shop.people_v'), [[1]]);
      const kinds = await query(
        s,
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'shop' ORDER BY 1",
      );
      assert.deepEqual(kinds, [
        ['people', 'VIEW'],
        ['people_v', 'VIEW'],
      ]);
      const marked = await query(
        s,
        "SELECT view_name FROM duckdb_views() WHERE comment = 'sluice catalog view'",
      );
      assert.deepEqual(marked, [['people_v']]);
      await s.close();
    } finally {
      await other.close();
    }
  });

  test('views of views; CREATE VIEW without OR REPLACE and DROP TABLE of a view are refused', async () => {
    await query(writer, 'CREATE VIEW shop.v2 AS SELECT id * 10 AS id10 FROM shop.people_v');
    assert.deepEqual(await query(writer, 'SELECT * FROM shop.v2'), [[10]]);
    await assert.rejects(query(writer, 'CREATE VIEW shop.v2 AS SELECT 1'), /already exists/);
    await assert.rejects(query(writer, 'DROP TABLE shop.v2'), /is a view.*|DROP VIEW/);
    await assert.rejects(query(writer, 'CREATE VIEW shop.people AS SELECT 1'), /is a table/);
    await assert.rejects(query(writer, 'CREATE VIEW shop.bad AS SELECT nope FROM shop.people'), /nope/);
    // The Iceberg REST catalog serves the same views.
    const rest = createIcebergRestApp({ catalog: p.catalog });
    const listed = (await (await rest.request('/v1/namespaces/shop/views')).json()) as {
      identifiers: { name: string }[];
    };
    assert.deepEqual(listed.identifiers.map((i) => i.name).sort(), ['people_v', 'v2']);
    const loaded = (await (await rest.request('/v1/namespaces/shop/views/v2')).json()) as {
      metadata: { versions: { representations: { sql: string; dialect: string }[] }[] };
    };
    assert.equal(loaded.metadata.versions[0]?.representations[0]?.dialect, 'duckdb');
    assert.match(loaded.metadata.versions[0]?.representations[0]?.sql ?? '', /FROM shop\.people_v/);
    const missing = await rest.request('/v1/namespaces/shop/views/nope');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'NoSuchViewException');
    await query(writer, 'DROP VIEW shop.v2');
    assert.equal(await p.catalog.viewExists({ namespace: ['shop'], name: 'v2' }), false);
    await assert.rejects(query(writer, 'SELECT * FROM shop.v2'), /v2/);
    await query(writer, 'DROP VIEW IF EXISTS shop.v2');
  });

  test('a reader of a view must be allowed to read its tables, and their masks apply', async () => {
    await query(writer, 'CREATE OR REPLACE VIEW shop.people_v AS SELECT id, email FROM shop.people');
    const asked: string[] = [];
    const masked = await engine.openSession(
      { name: 'analyst', readOnly: true },
      {
        access: {
          trusted: false,
          authorize: (action, t) => {
            asked.push(`${action}:${t.name}`);
            return t.name === 'shop.people' ? { mask: { email: 'redact' } } : undefined;
          },
        },
      },
    );
    const rows = await query(masked, 'SELECT id, email FROM shop.people_v WHERE id = 1');
    assert.deepEqual(rows, [[1, '****']]);
    assert.deepEqual(asked.sort(), ['read:shop.people', 'read:shop.people_v']);
    await masked.close();

    const refused = await engine.openSession(
      { name: 'outsider', readOnly: true },
      {
        access: {
          trusted: false,
          authorize: (_action, t) => {
            if (t.name === 'shop.people') throw new PermissionError('permission denied: shop.people');
            return undefined;
          },
        },
      },
    );
    await assert.rejects(query(refused, 'SELECT * FROM shop.people_v'), /permission denied: shop.people/);
    await refused.close();
  });
});

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildModels } from '../../src/models/index.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

const SNAPSHOTS = `{% snapshot customers_ts %}
{{ config(target_schema='snaps', unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select id, name, updated_at from {{ ref('customers') }}
{% endsnapshot %}

{% snapshot customers_check %}
{{ config(target_schema='snaps', unique_key='id', strategy='check', check_cols=['name']) }}
select id, name from {{ ref('customers') }}
{% endsnapshot %}
`;

describe('models: dbt snapshots (SCD2), one commit per build', () => {
  let p: ModelsTestProject;
  const build = async () => {
    const results = await buildModels(p.runtime, p.engine, p.load());
    for (const r of results) assert.equal(r.status, 'success', `${r.name}: ${r.error}`);
    return results;
  };
  const snapshotsOf = async (name: string) =>
    (await p.catalog.loadTable({ namespace: ['snaps'], name })).metadata.snapshots.length;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': 'name: snapped\n',
      'seeds/customers.csv': 'id,name,updated_at\n1,ann,2026-01-01 00:00:00\n2,bob,2026-01-01 00:00:00\n',
      'snapshots/customers.sql': SNAPSHOTS,
    });
  });
  after(() => p?.remove());

  test('first build: every row is a current version with the dbt columns', async () => {
    await build();
    const rows = await p.rows(
      'SELECT id, name, dbt_valid_from::VARCHAR, dbt_valid_to, length(dbt_scd_id) FROM snaps.customers_ts ORDER BY id',
    );
    assert.deepEqual(rows, [
      [1, 'ann', '2026-01-01 00:00:00', null, 32],
      [2, 'bob', '2026-01-01 00:00:00', null, 32],
    ]);
    assert.deepEqual(await p.rows('SELECT count(*) FROM snaps.customers_check WHERE dbt_valid_to IS NULL'), [
      [2],
    ]);
  });

  test('a changed row is closed and its new version added, a new key inserted, in one commit', async () => {
    const before = await snapshotsOf('customers_ts');
    p.write(
      'seeds/customers.csv',
      'id,name,updated_at\n1,ann,2026-01-01 00:00:00\n2,bobby,2026-02-01 00:00:00\n3,cy,2026-02-01 00:00:00\n',
    );
    await build();
    assert.equal(await snapshotsOf('customers_ts'), before + 1);
    assert.deepEqual(
      await p.rows(
        'SELECT id, name, dbt_valid_from::VARCHAR, dbt_valid_to::VARCHAR FROM snaps.customers_ts ORDER BY id, dbt_valid_from',
      ),
      [
        [1, 'ann', '2026-01-01 00:00:00', null],
        [2, 'bob', '2026-01-01 00:00:00', '2026-02-01 00:00:00'],
        [2, 'bobby', '2026-02-01 00:00:00', null],
        [3, 'cy', '2026-02-01 00:00:00', null],
      ],
    );
    const check = await p.rows(
      'SELECT id, name, dbt_valid_to IS NULL FROM snaps.customers_check ORDER BY id, dbt_valid_from',
    );
    assert.deepEqual(check, [
      [1, 'ann', true],
      [2, 'bob', false],
      [2, 'bobby', true],
      [3, 'cy', true],
    ]);
    // Unchanged data: the next build adds no versions.
    await build();
    assert.deepEqual(await p.rows('SELECT count(*) FROM snaps.customers_ts'), [[4]]);
    assert.deepEqual(await p.rows('SELECT count(*) FROM snaps.customers_check'), [[4]]);
  });

  test('a snapshot without unique_key or strategy column is a clear error naming the file', () => {
    p.write(
      'snapshots/bad.sql',
      "{% snapshot bad %}\n{{ config(strategy='timestamp', unique_key='id') }}\nselect 1 as id\n{% endsnapshot %}",
    );
    assert.throws(
      () => p.load(),
      /snapshots\/bad\.sql: snapshot bad with strategy='timestamp' needs updated_at/,
    );
    rmSync(join(p.dbt, 'snapshots/bad.sql'));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildModels } from '../../src/models/index.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

describe('models: hooks and vendored packages', () => {
  let p: ModelsTestProject;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': [
        'name: hooked',
        'on-run-start:',
        '  - "create table if not exists hooked_audit.runs as select \'start\' as event, 0 as n where false"',
        '  - "insert into hooked_audit.runs select \'start\', 0"',
        'on-run-end: "insert into hooked_audit.runs select \'end\', (select count(*) from {{ target.schema }}.doubled)"',
        'models:',
        '  hooked:',
        '    +materialized: table',
        '',
      ].join('\n'),
      'packages.yml': 'packages:\n  - package: dbt-labs/tiny_utils\n    version: 1.0.0\n',
      'dbt_packages/tiny_utils/dbt_project.yml': 'name: tiny_utils\n',
      'dbt_packages/tiny_utils/macros/times.sql':
        '{% macro times(col, n) %}({{ col }} * {{ n }}){% endmacro %}',
      'models/doubled.sql': [
        '{{ config(pre_hook="insert into hooked_audit.runs select \'pre {{ this }}\', 0",',
        '          post_hook=["insert into hooked_audit.runs select \'post\', (select count(*) from {{ this }})"]) }}',
        'select i as id, {{ tiny_utils.times("i", 2) }} as twice, {{ times("i", 3) }} as thrice from range(1, 4) t(i)',
      ].join('\n'),
    });
  });
  after(() => p?.remove());

  test('pre/post hooks of a model and on-run-start/end run through the engine, in order', async () => {
    const [r] = await buildModels(p.runtime, p.engine, p.load());
    assert.equal(r?.status, 'success', r?.error);
    assert.deepEqual(await p.rows('SELECT * FROM hooked.doubled ORDER BY id'), [
      [1, 2, 3],
      [2, 4, 6],
      [3, 6, 9],
    ]);
    // Each hook's INSERT is one commit: the snapshots give the order they ran in.
    assert.deepEqual(await p.rows('SELECT event, n FROM hooked_audit.runs ORDER BY event'), [
      ['end', 3],
      ['post', 3],
      ['pre hooked.doubled', 0],
      ['start', 0],
    ]);
    const md = (await p.catalog.loadTable({ namespace: ['hooked_audit'], name: 'runs' })).metadata;
    const post = md.snapshots.at(-2)?.['snapshot-id'];
    assert.deepEqual(await p.rows(`SELECT event FROM hooked_audit."runs@${post}" ORDER BY event`), [
      ['post'],
      ['pre hooked.doubled'],
      ['start'],
    ]);
  });

  test('a package that is not vendored is a clear error naming packages.yml', () => {
    p.write('packages.yml', 'packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.0.0"]\n');
    assert.throws(
      () => p.load(),
      /packages\.yml: package "dbt-labs\/dbt_utils" is not in dbt_packages\/.*no network access/,
    );
    p.write('packages.yml', 'packages:\n  - package: dbt-labs/tiny_utils\n    version: 1.0.0\n');
  });

  test('a failing post-hook fails the model, and a failing on-run-start names dbt_project.yml', async () => {
    p.write('models/doubled.sql', "{{ config(post_hook='insert into nowhere.t select 1') }}\nselect 1 as id");
    const [r] = await buildModels(p.runtime, p.engine, p.load());
    assert.equal(r?.status, 'error');
    assert.match(r?.error ?? '', /^models\/doubled\.sql: .*nowhere/);
    p.write('dbt_project.yml', 'name: hooked\non-run-start: "select * from nowhere.t"\n');
    await assert.rejects(
      buildModels(p.runtime, p.engine, p.load()),
      /dbt_project\.yml hook failed: .*nowhere/,
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildModels, JinjaError, type ModelsProject, runTests } from '../../src/models/index.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

const config = (project: ModelsProject, name: string) => {
  const node = project.nodes.get(name);
  assert.ok(node, name);
  return node.config;
};

describe('models: dbt compatibility (config resolution, relationships to sources, trailing commas)', () => {
  let p: ModelsTestProject;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': 'name: compat\n',
      'models/top.sql': 'select 1 as id',
      'models/staging/stg.sql': 'select 1 as id',
      'models/staging/deep/inner.sql': 'select 1 as id',
      'models/marts/named.sql': 'select 1 as id',
      'models/marts/in_file.sql': "{{ config(materialized='incremental') }}\nselect 1 as id",
      'models/marts/from_yml.sql': 'select 1 as id',
      'models/schema.yml': [
        'models:',
        '  - name: from_yml',
        '    config: { materialized: view, tags: [yml] }',
        '  - name: in_file',
        '    config: { materialized: view }',
      ].join('\n'),
    });
  });
  after(() => p?.remove());

  test('configs directly under models: apply to every model (no project-name level)', () => {
    p.write('dbt_project.yml', 'name: compat\nmodels:\n  +materialized: table\n  +tags: [all]\n');
    const project = p.load();
    for (const name of ['top', 'stg', 'inner', 'named'])
      assert.equal(config(project, name).materialized, 'table', name);
    assert.deepEqual(config(project, 'stg').tags, ['all']);
    // Unprefixed config keys work too (dbt takes them when their value is no mapping).
    p.write('dbt_project.yml', 'name: compat\nmodels:\n  materialized: table\n  schema: lake\n');
    assert.equal(config(p.load(), 'top').materialized, 'table');
    assert.equal(p.load().nodes.get('top')?.schema, 'compat_lake');
  });

  test('the nearest folder (or the model by name) wins; yml config: then config() win over dbt_project.yml', () => {
    p.write(
      'dbt_project.yml',
      [
        'name: compat',
        'models:',
        '  +materialized: table',
        '  +tags: [all]',
        '  compat:',
        '    materialized: view', // unprefixed, at the project level
        '    staging:',
        '      +materialized: ephemeral',
        '      +tags: staging',
        '      deep:',
        '        +materialized: table',
        '    marts:',
        '      +materialized: table',
        '      named:',
        '        +materialized: incremental',
        '        unique_key: id',
        '      in_file: { +materialized: table }',
        '      from_yml: { +materialized: table }',
        '  other_package:',
        '    +materialized: incremental',
      ].join('\n'),
    );
    const project = p.load();
    assert.equal(config(project, 'top').materialized, 'view');
    assert.equal(config(project, 'stg').materialized, 'ephemeral');
    assert.deepEqual(config(project, 'stg').tags, ['all', 'staging']);
    assert.equal(config(project, 'inner').materialized, 'table');
    assert.equal(config(project, 'named').materialized, 'incremental');
    assert.deepEqual(config(project, 'named').uniqueKey, ['id']);
    // dbt_project.yml < schema.yml config: < {{ config() }} in the model.
    assert.equal(config(project, 'from_yml').materialized, 'view');
    assert.deepEqual(config(project, 'from_yml').tags, ['all', 'yml']);
    assert.equal(config(project, 'in_file').materialized, 'incremental');
  });

  test('a trailing comma in call and macro arguments is accepted, as Python Jinja does', () => {
    p.write('dbt_project.yml', 'name: compat\n');
    p.write('macros/m.sql', '{% macro plus(a, b,) %}({{ a }} + {{ b }}){% endmacro %}\n');
    p.write(
      'models/marts/in_file.sql',
      "{{ config(\n    materialized='table',\n    tags=['x',],\n) }}\nselect {{ plus(1, 2,) }} as id, '{{ var(\"v\", \"d\",) }}' as v",
    );
    const project = p.load();
    assert.equal(config(project, 'in_file').materialized, 'table');
    assert.deepEqual(config(project, 'in_file').tags, ['x']);
    p.write('models/marts/in_file.sql', 'select 1 as id');
  });

  test('real syntax errors in arguments still name the file and line', () => {
    for (const [text, line] of [
      ["select 1 as id\n{{ config(materialized='table' tags=['a']) }}", 2],
      ['select\n\n{{ config(,) }} 1 as id', 3],
      ["select 1 as id\n\n\n{{ config(materialized='table',,) }}", 4],
    ] as const) {
      p.write('models/bad.sql', text);
      try {
        p.load();
        assert.fail(`expected ${JSON.stringify(text)} to fail`);
      } catch (err) {
        assert.ok(err instanceof JinjaError, String(err));
        assert.equal(err.file, 'models/bad.sql');
        assert.equal(err.line, line, err.message);
      }
    }
    p.write('models/bad.sql', 'select 1 as id');
  });

  test('relationships accept to: source(...), and fail with the orphan rows stored', async () => {
    await p.rows('CREATE TABLE crm.accounts AS SELECT * FROM range(1, 4) t(account_id)');
    p.write(
      'models/orders.sql',
      "{{ config(materialized='table') }}\nselect * from (values (1, 1), (2, 3), (3, 7)) t(order_id, account_id)",
    );
    p.write(
      'models/schema.yml',
      [
        'sources:',
        '  - name: crm',
        '    tables: [{ name: accounts }]',
        'models:',
        '  - name: orders',
        '    columns:',
        '      - name: account_id',
        '        tests:',
        '          - relationships:',
        "              to: source('crm', 'accounts')",
        '              field: account_id',
      ].join('\n'),
    );
    const project = p.load();
    const [test_] = project.tests;
    assert.deepEqual(test_?.parent, { source: 'crm.accounts' });
    assert.deepEqual(test_?.refs, []);
    const [built] = await buildModels(p.runtime, p.engine, project, { select: 'orders' });
    assert.equal(built?.status, 'success', built?.error);
    const [result] = await runTests(p.engine, project, { select: 'orders', freshness: false });
    assert.equal(result?.status, 'fail', result?.message);
    assert.equal(result?.failures, 1);
    assert.deepEqual(await p.rows(`SELECT order_id, account_id FROM ${result?.failuresTable}`), [[3, 7]]);

    p.write(
      'models/schema.yml',
      "models:\n  - name: orders\n    columns:\n      - name: account_id\n        tests:\n          - relationships: { to: \"source('crm', 'nope')\", field: account_id }\n",
    );
    assert.throws(() => p.load(), /reads source "crm\.nope", which no sources: entry/);
    p.write(
      'models/schema.yml',
      'models:\n  - name: orders\n    columns:\n      - name: account_id\n        tests:\n          - relationships: { to: crm.accounts, field: account_id }\n',
    );
    assert.throws(() => p.load(), /needs to: ref\('model'\) or source\('source', 'table'\)/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildModels, JinjaError, selectNodes } from '../../src/models/index.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

const PROJECT = 'name: errs\n';

describe('models: errors name the file and line; selection; failures skip downstream only', () => {
  let p: ModelsTestProject;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': PROJECT,
      'models/a.sql': 'select 1 as id',
      'macros/m.sql': '{% macro twice(x) %}({{ x }} * 2){% endmacro %}\n',
    });
  });
  after(() => p?.remove());

  const loadError = (files: Record<string, string>): Error => {
    for (const [path, text] of Object.entries(files)) p.write(path, text);
    try {
      p.load();
    } catch (err) {
      return err as Error;
    } finally {
      for (const path of Object.keys(files)) p.write(path, 'select 1 as id');
    }
    assert.fail('expected the project to fail to load');
  };

  test('a Jinja syntax error points to the model file and line', () => {
    const err = loadError({ 'models/broken.sql': 'select\n  1 as id,\n  {% if %} 2 {% endif %}\nfrom x' });
    assert.ok(err instanceof JinjaError);
    assert.equal(err.file, 'models/broken.sql');
    assert.equal(err.line, 3);
    assert.match(err.message, /^models\/broken\.sql:3: /);
  });

  test('an unknown ref and an unknown macro name the file and line', () => {
    const ref = loadError({ 'models/b.sql': 'select *\nfrom {{ ref("nope") }}' });
    assert.match(ref.message, /^models\/b\.sql:2: ref\('nope'\): no model or seed is named "nope"/);
    const macro = loadError({ 'models/c.sql': 'select\n\n  {{ thrice(3) }} as x' });
    assert.match(macro.message, /^models\/c\.sql:3: .*thrice/);
    const ok = loadError({ 'models/d.sql': 'select {{ twice(3) }} as x\n{{ var("missing") }}' });
    assert.match(ok.message, /^models\/d\.sql:2: var\('missing'\)/);
  });

  test('a cycle of refs is named', () => {
    const err = loadError({
      'models/x.sql': "select * from {{ ref('y') }}",
      'models/y.sql': "select * from {{ ref('z') }}",
      'models/z.sql': "select * from {{ ref('x') }}",
    });
    assert.match(err.message, /cycle: x → y → z → x/);
  });

  test('selectors: graph operators, tags, paths; bad ones are clear errors', () => {
    p.write('models/staging/s1.sql', "{{ config(tags=['nightly']) }} select * from {{ ref('a') }}");
    p.write('models/marts/m1.sql', "select * from {{ ref('s1') }}");
    p.write('models/marts/m2.sql', "select * from {{ ref('m1') }}");
    const project = p.load();
    const sel = (s: string) => [...selectNodes(project, s)].sort();
    assert.deepEqual(sel('m1'), ['m1']);
    assert.deepEqual(sel('+m1'), ['a', 'm1', 's1']);
    assert.deepEqual(sel('s1+'), ['m1', 'm2', 's1']);
    assert.deepEqual(sel('tag:nightly'), ['s1']);
    assert.deepEqual(sel('path:models/marts'), ['m1', 'm2']);
    assert.deepEqual(sel('a, m2'), ['a', 'm2']);
    assert.throws(() => selectNodes(project, 'nope'), /selector "nope" matches no model or seed/);
    assert.throws(() => selectNodes(project, 'tag:none'), /selector "tag:none" matches no model/);
    assert.throws(() => selectNodes(project, 'owner:me'), /unknown method "owner"/);
    assert.throws(() => selectNodes(project, 'a++'), /malformed/);
  });

  test('a failing model skips its downstream models only', async () => {
    p.write(
      'models/bad.sql',
      '{{ config(materialized="table") }}\nselect id, 1 / 0 as x, error(\'boom\') as y from {{ ref("a") }}',
    );
    p.write('models/after_bad.sql', "select * from {{ ref('bad') }}");
    const project = p.load();
    const results = new Map(
      (await buildModels(p.runtime, p.engine, project, { select: 'a+' })).map((r) => [r.name, r]),
    );
    assert.equal(results.get('bad')?.status, 'error');
    assert.match(results.get('bad')?.error ?? '', /^models\/bad\.sql: .*boom/);
    assert.equal(results.get('after_bad')?.status, 'skipped');
    assert.match(results.get('after_bad')?.error ?? '', /upstream bad/);
    for (const ok of ['a', 's1', 'm1', 'm2']) assert.equal(results.get(ok)?.status, 'success', ok);
    assert.deepEqual(await p.rows('SELECT count(*) FROM errs.m2'), [[1]]);
  });

  test('among ready models, the one with the longest chain downstream starts first', async () => {
    p.write('models/alone.sql', 'select 1 as id');
    p.write('models/zz_root.sql', 'select 1 as id');
    p.write('models/zz_mid.sql', "select * from {{ ref('zz_root') }}");
    p.write('models/zz_top.sql', "select * from {{ ref('zz_mid') }}");
    const started: string[] = [];
    const built = await buildModels(p.runtime, p.engine, p.load(), {
      select: 'alone +zz_top',
      threads: 1,
      onEvent: (e) => {
        if (e.status === 'started') started.push(e.name);
      },
    });
    assert.ok(
      built.every((b) => b.status === 'success'),
      JSON.stringify(built),
    );
    // In ref order `alone` comes first; the chain's root goes ahead of it.
    assert.deepEqual(started, ['zz_root', 'zz_mid', 'alone', 'zz_top']);
  });

  test('a model whose columns change rebuilds in place and keeps its history', async () => {
    const build = async () => {
      const [r] = await buildModels(p.runtime, p.engine, p.load(), { select: 'shape' });
      assert.equal(r?.status, 'success', r?.error);
    };
    p.write('models/shape.sql', "{{ config(materialized='table') }}\nselect 1 as id, 'a' as label");
    await build();
    const first = (await p.catalog.loadTable({ namespace: ['errs'], name: 'shape' })).metadata;
    p.write('models/shape.sql', "{{ config(materialized='table') }}\nselect 2 as id, 2.5::double as score");
    await build();
    assert.deepEqual(await p.rows('SELECT * FROM errs.shape'), [[2, 2.5]]);
    const md = (await p.catalog.loadTable({ namespace: ['errs'], name: 'shape' })).metadata;
    assert.equal(md.snapshots.length, 2);
    assert.deepEqual(await p.rows(`SELECT * FROM errs."shape@${first['current-snapshot-id']}"`), [[1, 'a']]);
  });
});

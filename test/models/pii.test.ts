import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthStore, type Principal, sqlAccessHook } from '../../src/auth/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { buildModels } from '../../src/models/index.js';
import { query } from '../engine/helpers.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

const SCHEMA_YML = `version: 2
models:
  - name: customers
    columns:
      - name: id
      - name: email
        meta: { pii: true }
      - name: phone
        tags: [pii]
      - name: ssn
        config:
          meta: { pii: redact }
      - name: city
        tags: [geo]
`;

const MODEL = `{{ config(materialized='table') }}
select 1 as id, 'ann@example.com' as email, '+49 30 1234' as phone, '123-45-6789' as ssn, 'Berlin' as city`;

describe('PII tags from model YAML mask model outputs in the engine', () => {
  let p: ModelsTestProject;
  let relation: string;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': 'name: piis\n',
      'models/customers.sql': MODEL,
      'models/schema.yml': SCHEMA_YML,
    });
    const store = new AuthStore(p.runtime.meta);
    await store.createRole('analysts');
    await store.createRole('privacy');
    const [result] = await buildModels(p.runtime, p.engine, p.load());
    assert.equal(result?.status, 'success', result?.error);
    relation = result?.relation as string;
    const ns = relation.split('.')[0] as string;
    for (const role of ['analysts', 'privacy'])
      await store.grant({ role, kind: 'namespace', name: ns, privilege: 'read' });
    await store.grant({ role: 'privacy', kind: 'namespace', name: ns, privilege: 'pii' });
  });
  after(() => p?.remove());

  const as = async (roles: string[]) => {
    // JWT principals carry their roles (store users' roles are reloaded from memberships).
    const principal: Principal = { name: roles[0] as string, via: 'jwt', roles };
    const access = sqlAccessHook(principal, new AuthStore(p.runtime.meta), {});
    const session = await p.engine.openSession({ name: principal.name, readOnly: true }, { access });
    try {
      return (await query(session, `SELECT id, email, phone, ssn, city FROM ${relation}`))[0] as unknown[];
    } finally {
      await session.close();
    }
  };

  test('the build sets sluice.pii.columns from meta, tags and config.meta', async () => {
    const [ns, name] = relation.split('.') as [string, string];
    const loaded = await openCatalog({ meta: p.runtime.meta, store: p.runtime.store }).loadTable({
      namespace: [ns],
      name,
    });
    assert.equal(loaded.metadata.properties['sluice.pii.columns'], 'email,phone,ssn:redact');
  });

  test('a reader without the pii privilege gets masked values; one with it sees them', async () => {
    const masked = await as(['analysts']);
    assert.equal(masked[0], 1);
    assert.notEqual(masked[1], 'ann@example.com');
    assert.notEqual(masked[2], '+49 30 1234');
    assert.ok(!String(masked[3]).includes('6789'), `ssn ${masked[3]} is redacted`);
    assert.equal(masked[4], 'Berlin');
    assert.deepEqual(await as(['privacy']), [1, 'ann@example.com', '+49 30 1234', '123-45-6789', 'Berlin']);
  });

  test('a rebuild keeps the tags; a column tagged in YAML but not built fails the model by name', async () => {
    const [again] = await buildModels(p.runtime, p.engine, p.load());
    assert.equal(again?.status, 'success', again?.error);
    assert.notEqual((await as(['analysts']))[1], 'ann@example.com');
    p.write('models/schema.yml', `${SCHEMA_YML}      - name: passport\n        meta: { pii: true }\n`);
    const [bad] = await buildModels(p.runtime, p.engine, p.load());
    assert.equal(bad?.status, 'error');
    assert.match(bad?.error ?? '', /column "passport" tagged pii in YAML is not a column of/);
    p.write('models/schema.yml', SCHEMA_YML.replace('meta: { pii: true }', 'meta: { pii: maybe }'));
    assert.throws(
      () => p.load(),
      /models\/schema.yml: models customers: column email: meta.pii must be true/,
    );
  });
});

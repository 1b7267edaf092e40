import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, assertSpec, call, openTestBus, type TestBus, TOKENS } from './bus-helpers.js';

const admin = TOKENS.admin;

function eventType(name: string, mode: string, schema: object): Record<string, unknown> {
  return {
    name,
    owning_application: 'orders-app',
    category: 'business',
    enrichment_strategies: ['metadata_enrichment'],
    compatibility_mode: mode,
    schema: { type: 'json_schema', schema: JSON.stringify(schema) },
  };
}

const base = {
  properties: { id: { type: 'string', description: 'the id' }, count: { type: 'integer' } },
  required: ['id'],
};

describe('schema evolution', () => {
  let t: TestBus;
  before(async () => {
    t = await openTestBus();
  });
  after(() => t.close());

  /** Try schemas in order on a fresh event type; each [schema, expected version | RegExp of the 422]. */
  async function evolve(name: string, mode: string, steps: [object, string | RegExp][]): Promise<void> {
    const created = await call(t, 'POST', '/event-types', {
      token: admin,
      body: eventType(name, mode, base),
    });
    assert.equal(created.status, 201, await created.clone().text());
    for (const [schema, expected] of steps) {
      const res = await call(t, 'PUT', `/event-types/${name}`, {
        token: admin,
        body: eventType(name, mode, schema),
      });
      if (expected instanceof RegExp) {
        await assertProblem(res, 422, expected);
      } else {
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal(
          ((await res.json()) as { schema: { version: string } }).schema.version,
          expected,
          JSON.stringify(schema),
        );
      }
    }
  }

  const withProp = (extra: object, required = ['id']) => ({
    ...base,
    properties: { ...base.properties, ...extra },
    required,
  });

  test('compatible: descriptions are PATCH, optional properties MINOR, everything else refused', async () => {
    await evolve('compat.et', 'compatible', [
      [
        { ...base, properties: { ...base.properties, id: { type: 'string', description: 'the order id' } } },
        '1.0.1',
      ],
      [withProp({ note: { type: 'string' } }), '1.1.0'],
      [withProp({ note: { type: 'string' } }, ['id', 'note']), /newly required: note/],
      [withProp({ note: { type: 'number' } }), /type changed/],
      [{ ...base, properties: { id: base.properties.id } }, /count removed/],
      [
        withProp({ note: { type: 'string' }, extra: { type: 'object', additionalProperties: true } }),
        /not allowed in compatibility mode "compatible"/,
      ],
    ]);
  });

  test('forward: new required fields and narrowing are MAJOR; removals refused', async () => {
    await evolve('forward.et', 'forward', [
      [withProp({ note: { type: 'string' } }), '1.1.0'],
      [withProp({ note: { type: 'string' } }, ['id', 'note']), '2.0.0'],
      [
        {
          ...withProp({ note: { type: 'string' } }, ['id', 'note']),
          additionalProperties: { type: 'string' },
        },
        '3.0.0',
      ],
      [
        {
          ...withProp({ note: { type: 'string' } }, ['id', 'note']),
          additionalProperties: { type: 'string' },
          title: 'Order',
        },
        '3.0.1',
      ],
      [{ ...base, properties: { id: base.properties.id } }, /removed/],
      [withProp({ note: { type: 'integer' } }, ['id', 'note']), /changed/],
    ]);
  });

  test('none: any change is accepted as a new MAJOR version', async () => {
    await evolve('none.et', 'none', [
      [{ properties: { other: { type: 'boolean' } } }, '2.0.0'],
      [{ properties: { other: { type: 'boolean' }, more: { type: 'string' } } }, '2.1.0'],
    ]);
  });

  test('schema versions are listed newest first, fetched by version or latest, and added by POST', async () => {
    const list = await call(t, 'GET', '/event-types/compat.et/schemas', { token: admin });
    const page = (await list.json()) as { items: { version: string }[]; _links: object };
    assert.deepEqual(
      page.items.map((s) => s.version),
      ['1.1.0', '1.0.1', '1.0.0'],
    );
    for (const s of page.items) assertSpec('EventTypeSchema', s);
    const limited = (await (
      await call(t, 'GET', '/event-types/compat.et/schemas?limit=1&offset=1', { token: admin })
    ).json()) as {
      items: { version: string }[];
      _links: { next?: { href: string }; prev?: { href: string } };
    };
    assert.deepEqual(
      limited.items.map((s) => s.version),
      ['1.0.1'],
    );
    assert.ok(limited._links.next && limited._links.prev);
    const v = await call(t, 'GET', '/event-types/compat.et/schemas/1.0.0', { token: admin });
    assert.equal(((await v.json()) as { version: string }).version, '1.0.0');
    const latest = await call(t, 'GET', '/event-types/compat.et/schemas/latest', { token: admin });
    assert.equal(((await latest.json()) as { version: string }).version, '1.1.0');
    await assertProblem(await call(t, 'GET', '/event-types/compat.et/schemas/9.9.9', { token: admin }), 404);
    await assertProblem(
      await call(t, 'GET', '/event-types/compat.et/schemas?limit=0', { token: admin }),
      422,
    );

    const next = withProp({ note: { type: 'string' }, size: { type: 'integer' } });
    const added = await call(t, 'POST', '/event-types/compat.et/schemas', {
      token: admin,
      body: { type: 'json_schema', schema: JSON.stringify(next) },
    });
    assert.equal(added.status, 201);
    const fetched = await call(t, 'POST', '/event-types/compat.et/schemas?fetch=true', {
      token: admin,
      body: { type: 'json_schema', schema: JSON.stringify(next) },
    });
    assert.equal(((await fetched.json()) as { version: string }).version, '1.2.0');
    await assertProblem(
      await call(t, 'POST', '/event-types/compat.et/schemas', {
        token: admin,
        body: { type: 'json_schema', schema: JSON.stringify(base) },
      }),
      422,
      /removed/,
    );
  });
});

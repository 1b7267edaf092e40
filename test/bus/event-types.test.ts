import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import {
  assertProblem,
  assertSpec,
  businessType,
  call,
  openTestBus,
  type TestBus,
  TOKENS,
} from './bus-helpers.js';

const admin = TOKENS.admin;

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`event types on ${backend}`, () => {
    let t: TestBus;
    let db: TestDatabase | undefined;
    before(async () => {
      if (backend === 'postgres') db = await createTestDatabase();
      t = await openTestBus({ metaUrl: db?.url });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    test('create, get, list, update and delete follow the spec shapes', async () => {
      const created = await call(t, 'POST', '/event-types', {
        token: admin,
        body: businessType('order.received', {
          default_statistic: {
            messages_per_minute: 1,
            message_size: 1,
            read_parallelism: 3,
            write_parallelism: 2,
          },
        }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const et = (await created.json()) as Record<string, unknown>;
      assertSpec('EventType', et);
      assert.equal((et.schema as { version: string }).version, '1.0.0');
      assert.equal(et.compatibility_mode, 'forward');
      assert.equal(et.cleanup_policy, 'delete');
      assert.deepEqual(et.options, { retention_time: 172800000 });

      const got = await call(t, 'GET', '/event-types/order.received', { token: TOKENS.reader });
      assert.equal(got.status, 200);
      assertSpec('EventType', await got.json());
      const list = await call(t, 'GET', '/event-types?owning_application=orders-app', {
        token: TOKENS.reader,
      });
      const items = (await list.json()) as { name: string }[];
      assertSpec('EventType', items, true);
      assert.deepEqual(
        items.map((i) => i.name),
        ['order.received'],
      );
      const none = await call(t, 'GET', '/event-types?owning_application=other', { token: TOKENS.reader });
      assert.deepEqual(await none.json(), []);

      const parts = await call(t, 'GET', '/event-types/order.received/partitions', { token: TOKENS.reader });
      const partitions = (await parts.json()) as unknown[];
      assertSpec('Partition', partitions, true);
      assert.equal(partitions.length, 3);

      const dup = await call(t, 'POST', '/event-types', {
        token: admin,
        body: businessType('order.received'),
      });
      await assertProblem(dup, 409, /already exists/);

      const updated = await call(t, 'PUT', '/event-types/order.received', {
        token: admin,
        body: businessType('order.received', { options: { retention_time: 3600000 } }),
      });
      assert.equal(updated.status, 200, await updated.clone().text());
      assert.deepEqual(((await updated.json()) as { options: unknown }).options, { retention_time: 3600000 });

      const del = await call(t, 'DELETE', '/event-types/order.received', { token: admin });
      assert.equal(del.status, 200);
      await assertProblem(await call(t, 'GET', '/event-types/order.received', { token: admin }), 404);
    });

    test('invalid event types are 422 Problem JSON naming the field; nothing is stored', async () => {
      const random = { partition_strategy: 'random', partition_key_fields: undefined };
      const cases: [Record<string, unknown>, RegExp][] = [
        [businessType('bad name!'), /name/],
        [businessType('x1', { category: 'weird' }), /category/],
        [businessType('x2', { enrichment_strategies: [] }), /requires metadata_enrichment/],
        [{ ...businessType('x3'), category: 'undefined' }, /not possible for category "undefined"/],
        [businessType('x4', { partition_key_fields: [] }), /partition_key_fields/],
        [businessType('x5', { partition_key_fields: ['missing'] }), /"missing" is not a property/],
        [
          businessType('x6', { ...random, schema: { type: 'json_schema', schema: '{not json' } }),
          /not valid JSON/,
        ],
        [businessType('x7', { ...random, schema: { type: 'avro_schema', schema: '{}' } }), /not supported/],
        [
          businessType('x8', { ...random, schema: { type: 'json_schema', schema: '{"type": 12}' } }),
          /invalid JSON Schema/,
        ],
        [
          businessType('x9', {
            compatibility_mode: 'compatible',
            partition_strategy: 'random',
            partition_key_fields: undefined,
            schema: { type: 'json_schema', schema: '{"additionalProperties": true}' },
          }),
          /additionalProperties is not allowed/,
        ],
        [
          businessType('x10', {
            ...random,
            schema: { type: 'json_schema', schema: '{"properties": {"metadata": {}}}' },
          }),
          /reserved/,
        ],
        [
          {
            ...businessType('x11'),
            category: 'undefined',
            enrichment_strategies: [],
            partition_strategy: 'random',
            partition_key_fields: undefined,
            cleanup_policy: 'compact',
          },
          /cleanup_policy/,
        ],
        [
          businessType('x12', {
            default_statistic: {
              messages_per_minute: 1,
              message_size: 1,
              read_parallelism: 1000,
              write_parallelism: 1,
            },
          }),
          /at most 64/,
        ],
      ];
      for (const [body, detail] of cases) {
        await assertProblem(await call(t, 'POST', '/event-types', { token: admin, body }), 422, detail);
      }
      await assertProblem(
        await call(t, 'POST', '/event-types', {
          token: admin,
          raw: '{"name": ',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        /malformed JSON/,
      );
      const list = (await (await call(t, 'GET', '/event-types', { token: admin })).json()) as unknown[];
      assert.equal(list.length, 0);
    });

    test('updates obey Nakadi rules for immutable fields', async () => {
      assert.equal(
        (await call(t, 'POST', '/event-types', { token: admin, body: businessType('rules.et') })).status,
        201,
      );
      const cases: [Record<string, unknown>, RegExp][] = [
        [businessType('rules.et', { category: 'data' }), /category cannot be changed/],
        [businessType('other.name'), /must match the path/],
        [
          businessType('rules.et', { partition_strategy: 'random', partition_key_fields: undefined }),
          /partition_strategy cannot be changed/,
        ],
        [businessType('rules.et', { cleanup_policy: 'compact' }), /cleanup_policy can only be changed/],
        [
          businessType('rules.et', {
            default_statistic: {
              messages_per_minute: 1,
              message_size: 1,
              read_parallelism: 2,
              write_parallelism: 2,
            },
          }),
          /default_statistic cannot be changed/,
        ],
      ];
      for (const [body, detail] of cases) {
        await assertProblem(
          await call(t, 'PUT', '/event-types/rules.et', { token: admin, body }),
          422,
          detail,
        );
      }
      await assertProblem(
        await call(t, 'PUT', '/event-types/nope', { token: admin, body: businessType('nope') }),
        404,
      );
      const raised = await call(t, 'PUT', '/event-types/rules.et/partition-count', {
        token: admin,
        body: { partition_count: 4 },
      });
      assert.equal(raised.status, 204);
      const parts = (await (
        await call(t, 'GET', '/event-types/rules.et/partitions', { token: admin })
      ).json()) as unknown[];
      assert.equal(parts.length, 4);
      await assertProblem(
        await call(t, 'PUT', '/event-types/rules.et/partition-count', {
          token: admin,
          body: { partition_count: 2 },
        }),
        422,
      );
    });

    test('subscriptions and committed cursors are stored on this backend', async () => {
      assert.equal(
        (await call(t, 'POST', '/event-types', { token: admin, body: businessType('subs.et') })).status,
        201,
      );
      const body = { owning_application: 'app', event_types: ['subs.et'], read_from: 'begin' };
      const first = await t.bus.subscriptions.create(body);
      const again = await t.bus.subscriptions.create(body);
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.subscription.id, first.subscription.id);
      const sub = first.subscription;
      assert.deepEqual([...(await t.bus.subscriptions.cursors(sub)).values()], ['BEGIN']);
      const events = [1, 2, 3].map((i) => ({
        order_number: `n${i}`,
        metadata: { eid: crypto.randomUUID(), occurred_at: new Date().toISOString() },
      }));
      assert.equal(
        (await call(t, 'POST', '/event-types/subs.et/events', { token: admin, body: events })).status,
        200,
      );
      const cursor = (offset: string) => ({ event_type: 'subs.et', partition: '0', offset });
      assert.deepEqual(await t.bus.subscriptions.commit(sub, [cursor('000000000000000001')]), ['committed']);
      assert.deepEqual(await t.bus.subscriptions.commit(sub, [cursor('000000000000000000')]), ['outdated']);
      await t.bus.subscriptions.reset(sub, [cursor('BEGIN')]);
      assert.deepEqual([...(await t.bus.subscriptions.cursors(sub)).values()], ['BEGIN']);
      await t.bus.subscriptions.delete(sub.id);
      assert.equal((await call(t, 'DELETE', '/event-types/subs.et', { token: admin })).status, 200);
    });

    test('registry lists strategies', async () => {
      assert.deepEqual(
        await (await call(t, 'GET', '/registry/enrichment-strategies', { token: admin })).json(),
        ['metadata_enrichment'],
      );
      assert.deepEqual(
        await (await call(t, 'GET', '/registry/partition-strategies', { token: admin })).json(),
        ['random', 'user_defined', 'hash'],
      );
    });
  });
}

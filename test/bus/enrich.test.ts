import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Enricher } from '../../src/bus/enrich.js';

type Json = Record<string, unknown>;

const batch = {
  eventType: 'shop.orders',
  receivedAt: '2026-12-01T10:00:00.123Z',
  version: '1.0.0',
  flowId: 'flow "quoted" \u00e9',
};

/** What the stored text must equal: the event with its metadata enriched, serialised whole. */
function reference(event: Json, partition: number, publishedBy?: string): string {
  const meta: Json = {
    ...(event.metadata as Json),
    event_type: batch.eventType,
    received_at: batch.receivedAt,
    version: batch.version,
    flow_id: batch.flowId,
    partition: String(partition),
  };
  if (publishedBy) meta.published_by = publishedBy;
  return JSON.stringify({ ...event, metadata: meta });
}

const eid = 'a1b2c3d4-0000-4000-8000-000000000001';
const events: [string, Json][] = [
  ['metadata last', { order: 'o-1', pad: 'x'.repeat(50), metadata: { eid, occurred_at: 't' } }],
  ['metadata first', { metadata: { eid, occurred_at: 't' }, order: 'o-1', n: 1.5 }],
  ['metadata in the middle', { a: 1, metadata: { eid }, b: [1, { metadata: { eid } }] }],
  ['metadata only', { metadata: { eid } }],
  ['empty metadata', { x: 1, metadata: {} }],
  ['no metadata', { x: 'no metadata here' }],
  ['empty event', {}],
  ['integer-like keys come first in JSON', { metadata: { eid }, 2: 'two', 1: 'one' }],
  ['producer sets enriched members', { metadata: { eid, partition: '7', event_type: 'other' }, v: 1 }],
  ['producer sets published_by', { v: 1, metadata: { published_by: 'me', eid } }],
  [
    'nested metadata look-alikes',
    { note: '"metadata":{"eid":"x"}}', inner: { metadata: { eid } }, metadata: { eid } },
  ],
  ['escapes and unicode', { s: 'line\nbreak "q" \\ \u2028 😀', metadata: { eid, tags: ['a', 'b'] } }],
  ['deep metadata', { metadata: { eid, span: { ctx: { id: 1, x: null } } }, y: false }],
];

describe('metadata enrichment spliced into the serialised event', () => {
  for (const publishedBy of [undefined, 'producer-app']) {
    const enricher = new Enricher({ ...batch, publishedBy });
    for (const [name, event] of events) {
      test(`${name}${publishedBy ? ', with published_by' : ''}`, () => {
        for (const partition of [0, 12]) {
          const stored = enricher.enrich(event, JSON.stringify(event), partition);
          assert.equal(stored, reference(event, partition, publishedBy));
          JSON.parse(stored);
        }
      });
    }
  }

  test('the enricher of an event type without metadata_enrichment is undefined', () => {
    const et = { name: 'free', enrichment_strategies: [], schema: { version: '1.0.0' } };
    assert.equal(Enricher.of(et as never, { receivedAt: 'r', flowId: 'f' }), undefined);
  });
});

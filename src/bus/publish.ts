/**
 * Publishing a batch the way Nakadi does: every event is validated, partitioned and
 * enriched first; one failure rejects the whole batch (422, nothing stored). Then the
 * events are appended per partition; the response is 200 only when every append is
 * durable, else 207 with the outcome of each event.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../observe/index.js';
import { Enricher } from './enrich.js';
import { describeErrors } from './json-schema.js';
import type { EventLog } from './log/types.js';
import type { EventTypeRegistry } from './registry.js';
import type { BatchItemResponse, EventType } from './types.js';

type Json = Record<string, unknown>;

/** Who published and under which flow (from the request). */
export interface PublishContext {
  flowId: string;
  publishedBy?: string;
}

/** The outcome of a batch: HTTP status and, unless 200 (no items), one item per event. */
export interface PublishResult {
  status: 200 | 207 | 422;
  items: BatchItemResponse[];
}

interface Prepared {
  /** The enriched event as stored: UTF-8 JSON. */
  value: Buffer;
  partition: number;
  key?: string;
  eid?: string;
}

class StepError extends Error {
  constructor(
    readonly step: BatchItemResponse['step'],
    message: string,
  ) {
    super(message);
  }
}

type PublishOptions = { registry: EventTypeRegistry; eventLog: EventLog; maxEventBytes: number; log: Logger };

/**
 * Publish a parsed batch to an event type. Not an async function on purpose: once the events
 * are prepared, nothing here holds the parsed batch while the append waits for its sync, so
 * it can be collected meanwhile.
 */
export function publishBatch(
  o: PublishOptions,
  et: EventType,
  events: unknown[],
  ctx: PublishContext,
): Promise<PublishResult> {
  const ready = prepareBatch(o, et, events, ctx);
  return Array.isArray(ready) ? append(o, et, ready) : Promise.resolve(ready);
}

/** Validate, partition and enrich every event; the 422 result at the first failure. */
function prepareBatch(
  o: PublishOptions,
  et: EventType,
  events: unknown[],
  ctx: PublishContext,
): Prepared[] | PublishResult {
  const validate = o.registry.validator(et);
  const partitions = o.registry.partitions(et);
  const enricher = Enricher.of(et, { ...ctx, receivedAt: new Date().toISOString() });
  const prepared: Prepared[] = new Array(events.length);
  let step: BatchItemResponse['step'] = 'none';
  for (let i = 0; i < events.length; i++) {
    try {
      step = 'validating';
      const event = events[i];
      if (!event || typeof event !== 'object' || Array.isArray(event))
        throw new StepError('validating', 'an event must be a JSON object');
      // The one serialisation of the event: its size here, the stored bytes after enrichment.
      const text = JSON.stringify(event);
      const size = Buffer.byteLength(text);
      if (size > o.maxEventBytes) {
        throw new StepError(
          'validating',
          `event of ${size} bytes is over the limit of ${o.maxEventBytes} bytes`,
        );
      }
      if (!validate(event)) throw new StepError('validating', describeErrors(validate.errors));
      checkMetadata(et, event as Json);
      step = 'partitioning';
      const partition = partitionOf(et, event as Json, partitions);
      step = 'enriching';
      const stored = enricher ? enricher.enrich(event as Json, text, partition) : text;
      const metadata = (event as Json).metadata as Json | undefined;
      const compactionKey = metadata?.partition_compaction_key;
      const key = typeof compactionKey === 'string' ? compactionKey : undefined;
      prepared[i] = { value: Buffer.from(stored), partition, key, eid: eidOf(event) };
    } catch (err) {
      // Nakadi's answer: the failed event, the ones before it aborted after their last step, the rest not begun.
      const items = events.map(
        (e, j): BatchItemResponse => ({
          eid: eidOf(e),
          publishing_status: 'aborted',
          step: j < i ? 'enriching' : 'none',
        }),
      );
      items[i] = {
        eid: eidOf(events[i]),
        publishing_status: 'failed',
        step,
        detail: err instanceof Error ? err.message : String(err),
      };
      return { status: 422, items };
    }
  }
  return prepared;
}

async function append(
  o: { eventLog: EventLog; log: Logger },
  et: EventType,
  prepared: Prepared[],
): Promise<PublishResult> {
  const byPartition = new Map<number, number[]>();
  prepared.forEach((p, i) => {
    const list = byPartition.get(p.partition) ?? [];
    list.push(i);
    byPartition.set(p.partition, list);
  });
  const failed = new Map<number, string>();
  await Promise.all(
    [...byPartition].map(async ([partition, indexes]) => {
      const records = indexes.map((i) => {
        const p = prepared[i] as Prepared;
        return { key: p.key, value: p.value };
      });
      try {
        await o.eventLog.append(et.name, partition, records);
      } catch (err) {
        o.log.error({ err, eventType: et.name, partition }, 'append failed');
        failed.set(partition, `could not store the event in partition ${partition}`);
      }
    }),
  );
  if (failed.size === 0) return { status: 200, items: [] };
  const items = prepared.map((p): BatchItemResponse => {
    const detail = failed.get(p.partition);
    return detail === undefined
      ? { eid: p.eid, publishing_status: 'submitted', step: 'publishing' }
      : { eid: p.eid, publishing_status: 'failed', step: 'publishing', detail };
  });
  return { status: 207, items };
}

function eidOf(event: unknown): string | undefined {
  const eid = (event as { metadata?: { eid?: unknown } } | null)?.metadata?.eid;
  return typeof eid === 'string' ? eid : undefined;
}

function checkMetadata(et: EventType, event: Json): void {
  if (et.category === 'undefined') return;
  const meta = event.metadata as Json;
  if (meta.event_type !== undefined && meta.event_type !== et.name) {
    throw new StepError(
      'validating',
      `metadata.event_type "${String(meta.event_type)}" does not match the event type ${et.name}`,
    );
  }
  if (et.cleanup_policy !== 'delete' && typeof meta.partition_compaction_key !== 'string') {
    throw new StepError(
      'validating',
      `metadata.partition_compaction_key is required with cleanup_policy ${et.cleanup_policy}`,
    );
  }
}

/** The partition of an event under the event type's strategy. */
export function partitionOf(et: EventType, event: Json, partitions: number): number {
  if (et.partition_strategy === 'user_defined') {
    const p = (event.metadata as Json | undefined)?.partition;
    if (typeof p !== 'string' || !/^\d+$/.test(p) || Number(p) >= partitions) {
      throw new StepError(
        'partitioning',
        `metadata.partition must name one of the ${partitions} partitions ("0".."${partitions - 1}")`,
      );
    }
    return Number(p);
  }
  if (et.partition_strategy === 'hash') {
    const root = et.category === 'data' ? (event.data as Json) : event;
    const values = (et.partition_key_fields ?? []).map((path) => {
      const v = valueAt(root, path);
      if (v === undefined) throw new StepError('partitioning', `partition key field "${path}" is missing`);
      return v;
    });
    return fnv1a(JSON.stringify(values)) % partitions;
  }
  return partitions === 1 ? 0 : randomInt(partitions);
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Json)[part];
  }
  return node;
}

/** 32-bit FNV-1a of a string: a stable partition hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

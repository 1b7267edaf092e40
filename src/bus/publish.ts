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

/** The outcome of a batch: HTTP status and, unless 200, one item per event. */
export interface PublishResult {
  status: 200 | 207 | 422;
  items: BatchItemResponse[];
}

interface Prepared {
  /** The enriched event as stored: UTF-8 JSON. */
  value: Buffer;
  partition: number;
  key?: string;
}

class StepError extends Error {
  constructor(
    readonly step: BatchItemResponse['step'],
    message: string,
  ) {
    super(message);
  }
}

/** Publish a parsed batch to an event type. */
export async function publishBatch(
  o: { registry: EventTypeRegistry; eventLog: EventLog; maxEventBytes: number; log: Logger },
  et: EventType,
  events: unknown[],
  ctx: PublishContext,
): Promise<PublishResult> {
  const validate = o.registry.validator(et);
  const partitions = o.registry.partitions(et);
  const enricher = Enricher.of(et, { ...ctx, receivedAt: new Date().toISOString() });
  const prepared: Prepared[] = [];
  const items: BatchItemResponse[] = events.map((e) => ({
    eid: eidOf(e),
    publishing_status: 'aborted',
    step: 'none',
  }));
  for (let i = 0; i < events.length; i++) {
    const item = items[i] as BatchItemResponse;
    try {
      item.step = 'validating';
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
      item.step = 'partitioning';
      const partition = partitionOf(et, event as Json, partitions);
      item.step = 'enriching';
      const stored = enricher ? enricher.enrich(event as Json, text, partition) : text;
      const compactionKey = ((event as Json).metadata as Json | undefined)?.partition_compaction_key;
      const key = typeof compactionKey === 'string' ? compactionKey : undefined;
      prepared.push({ value: Buffer.from(stored), partition, key });
    } catch (err) {
      item.publishing_status = 'failed';
      item.detail = err instanceof Error ? err.message : String(err);
      return { status: 422, items };
    }
  }
  return append(o, et, prepared, items);
}

async function append(
  o: { eventLog: EventLog; log: Logger },
  et: EventType,
  prepared: Prepared[],
  items: BatchItemResponse[],
): Promise<PublishResult> {
  const byPartition = new Map<number, number[]>();
  prepared.forEach((p, i) => {
    const list = byPartition.get(p.partition) ?? [];
    list.push(i);
    byPartition.set(p.partition, list);
  });
  for (const item of items) item.step = 'publishing';
  let failed = false;
  await Promise.all(
    [...byPartition].map(async ([partition, indexes]) => {
      const records = indexes.map((i) => {
        const p = prepared[i] as Prepared;
        return { key: p.key, value: p.value };
      });
      try {
        await o.eventLog.append(et.name, partition, records);
        for (const i of indexes) (items[i] as BatchItemResponse).publishing_status = 'submitted';
      } catch (err) {
        failed = true;
        o.log.error({ err, eventType: et.name, partition }, 'append failed');
        for (const i of indexes) {
          const item = items[i] as BatchItemResponse;
          item.publishing_status = 'failed';
          item.detail = `could not store the event in partition ${partition}`;
        }
      }
    }),
  );
  return failed ? { status: 207, items } : { status: 200, items };
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

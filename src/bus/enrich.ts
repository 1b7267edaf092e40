/**
 * metadata_enrichment without serialising an event twice: the publish path writes each event
 * to JSON once (its size is checked on that text) and the enriched metadata is spliced into
 * that text. The stored text is exactly `JSON.stringify({ ...event, metadata: enriched })`.
 */
import type { EventType } from './types.js';

type Json = Record<string, unknown>;

/** What enrichment adds to every event of one batch. */
export interface BatchEnrichment {
  eventType: string;
  receivedAt: string;
  version: string;
  flowId: string;
  publishedBy?: string;
}

/** Metadata members set by the server; a producer's own values of them are overwritten. */
const ENRICHED = ['event_type', 'received_at', 'version', 'flow_id', 'partition', 'published_by'];

/** Enrichment of one batch; `enrich` returns the stored JSON text of one event. */
export class Enricher {
  readonly #e: BatchEnrichment;
  /** The members before `partition`, as JSON text (they are the same for the whole batch). */
  readonly #head: string;
  /** `published_by` (after `partition`) as JSON text, or empty. */
  readonly #tail: string;

  constructor(e: BatchEnrichment) {
    this.#e = e;
    const s = JSON.stringify;
    this.#head = `"event_type":${s(e.eventType)},"received_at":${s(e.receivedAt)},"version":${s(e.version)},"flow_id":${s(e.flowId)}`;
    this.#tail = e.publishedBy === undefined ? '' : `,"published_by":${s(e.publishedBy)}`;
  }

  /** The enricher of a batch, or undefined when the event type does not enrich. */
  static of(
    et: EventType,
    o: { receivedAt: string; flowId: string; publishedBy?: string },
  ): Enricher | undefined {
    if (!et.enrichment_strategies.includes('metadata_enrichment')) return undefined;
    const { receivedAt, flowId, publishedBy } = o;
    return new Enricher({
      eventType: et.name,
      version: et.schema.version,
      receivedAt,
      flowId,
      publishedBy: publishedBy || undefined,
    });
  }

  /** The enriched metadata as an object (what the stored text holds). */
  metadata(event: Json, partition: number): Json {
    const meta: Json = {
      ...(event.metadata as Json),
      event_type: this.#e.eventType,
      received_at: this.#e.receivedAt,
      version: this.#e.version,
      flow_id: this.#e.flowId,
      partition: String(partition),
    };
    if (this.#e.publishedBy !== undefined) meta.published_by = this.#e.publishedBy;
    return meta;
  }

  /** The stored text of `event` in `partition`, given `text` = JSON.stringify(event). */
  enrich(event: Json, text: string, partition: number): string {
    const old = event.metadata;
    const plain = old !== null && typeof old === 'object' && !Array.isArray(old);
    if (plain && !ENRICHED.some((k) => Object.hasOwn(old, k))) {
      // The common case: new members go after the producer's own ones.
      const oldText = JSON.stringify(old);
      const open = oldText === '{}' ? '{' : `${oldText.slice(0, -1)},`;
      const meta = `${open}${this.#head},"partition":"${partition}"${this.#tail}}`;
      return spliceMetadata(event, text, oldText, meta);
    }
    const oldText = old === undefined ? undefined : JSON.stringify(old);
    return spliceMetadata(event, text, oldText, JSON.stringify(this.metadata(event, partition)));
  }
}

/**
 * The JSON text of `event` with its `metadata` member's value replaced by (or, when missing,
 * appended as) `meta`, given `text` = JSON.stringify(event) and `oldText` = the JSON text of
 * the old metadata. Splices when metadata is the first or last member (producers put it
 * there); otherwise serialises the event again.
 */
function spliceMetadata(event: Json, text: string, oldText: string | undefined, meta: string): string {
  let first: string | undefined;
  let last: string | undefined;
  for (const k in event) {
    if (!Object.hasOwn(event, k)) continue;
    first ??= k;
    last = k;
  }
  if (!Object.hasOwn(event, 'metadata')) {
    return first === undefined ? `{"metadata":${meta}}` : `${text.slice(0, -1)},"metadata":${meta}}`;
  }
  if (oldText === undefined) return JSON.stringify({ ...event, metadata: JSON.parse(meta) });
  const member = `"metadata":${oldText}`;
  if (first === 'metadata' && text.startsWith(member, 1)) {
    return `{"metadata":${meta}${text.slice(1 + member.length)}`;
  }
  if (last === 'metadata' && text.endsWith(`${member}}`)) {
    return `${text.slice(0, text.length - member.length - 1)}"metadata":${meta}}`;
  }
  return JSON.stringify({ ...event, metadata: JSON.parse(meta) });
}

/** What sources deliver to the raw zone, and what they get to know when they start. */
import type { Logger } from '../../observe/index.js';
import type { ObjectStore } from '../../storage/index.js';
import type { Ledger, RawObject } from '../ledger.js';
import type { PayloadFormat } from '../spec-common.js';

/** One payload as fetched, before it is stored in the raw zone. */
export interface FetchedPayload {
  stream: string;
  epoch: string;
  seq: number;
  /** The bytes, or a local file holding them (streamed, never loaded whole). */
  body: Uint8Array | { file: string };
  format: PayloadFormat;
  compression?: 'gzip' | 'zstd';
  sourceUri: string;
  /** Records in the payload, when the source counted them. */
  recordCount?: number;
  /** File name relative to the source root (files source). */
  name?: string;
  request?: unknown;
  /** Where this stream's fetch continues; undefined after its last payload. */
  nextRequest?: unknown;
  headers?: Record<string, string>;
  /** Why the bytes cannot be read as records (they are stored and quarantined whole). */
  malformed?: string;
  /** Field paths and value kinds of the records (see `fieldsOf`), when the source listed them. */
  fields?: readonly string[];
  fetchedAt: Date;
  /** Skip the payload when the ledger already holds one with the same checksum. */
  dedupeByChecksum?: boolean;
}

/** What a source gets when a run starts. */
export interface SourceContext {
  task: string;
  runId: string;
  log: Logger;
  signal: AbortSignal;
  ledger: Ledger;
  store: ObjectStore;
  projectDir: string;
  /** Fetches interrupted by a crash: the last stored payload of each (continue after it). */
  openEpochs: RawObject[];
  /** The committed incremental cursor per stream. */
  cursor: Record<string, string>;
  /** Counts requests and retries for the progress report. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** A source: payloads pulled one by one (the consumer's pace drives the fetching). */
export interface Source {
  fetch(ctx: SourceContext): AsyncIterable<FetchedPayload>;
  /** Record field of the incremental cursor, if any. */
  readonly cursorField?: string;
}

/** Interleave several payload streams, pulling from at most `limit` at once. */
export async function* mergeStreams<T>(streams: (() => AsyncIterable<T>)[], limit: number): AsyncIterable<T> {
  const waiting = [...streams];
  type Pending = { it: AsyncIterator<T>; p: Promise<{ it: AsyncIterator<T>; r: IteratorResult<T> }> };
  const active = new Set<Pending>();
  const start = () => {
    while (active.size < limit && waiting.length > 0) {
      const it = (waiting.shift() as () => AsyncIterable<T>)()[Symbol.asyncIterator]();
      const entry: Pending = { it, p: it.next().then((r) => ({ it, r })) };
      active.add(entry);
    }
  };
  start();
  try {
    while (active.size > 0) {
      const { it, r } = await Promise.race([...active].map((a) => a.p));
      const entry = [...active].find((a) => a.it === it) as Pending;
      if (r.done) {
        active.delete(entry);
        start();
        continue;
      }
      entry.p = it.next().then((x) => ({ it, r: x }));
      yield r.value;
    }
  } finally {
    for (const a of active) {
      a.p.catch(() => {});
      await a.it.return?.().catch(() => {});
    }
  }
}

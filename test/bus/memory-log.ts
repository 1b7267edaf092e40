/** A small in-memory EventLog for the bus API tests (no durability, same contract). */
import type { EventLog, LogRecord, PartitionBounds, TopicConfig } from '../../src/bus/log/types.js';
import { InvalidInputError, NotFoundError } from '../../src/util/index.js';

interface Topic {
  config: TopicConfig;
  partitions: LogRecord[][];
  waiters: Set<() => void>;
}

export class MemoryEventLog implements EventLog {
  readonly kind = 'embedded' as const;
  readonly topics = new Map<string, Topic>();
  /** Fail appends to these partitions (to test 207 responses). */
  readonly failing = new Set<string>();

  async createTopic(topic: string, config: TopicConfig): Promise<void> {
    this.topics.set(topic, {
      config,
      partitions: Array.from({ length: config.partitions }, () => []),
      waiters: new Set(),
    });
  }
  async updateTopic(topic: string, config: TopicConfig): Promise<void> {
    const t = this.#topic(topic);
    while (t.partitions.length < config.partitions) t.partitions.push([]);
    t.config = config;
  }
  async deleteTopic(topic: string): Promise<void> {
    this.topics.delete(topic);
  }
  async topicExists(topic: string): Promise<boolean> {
    return this.topics.has(topic);
  }
  async append(
    topic: string,
    partition: number,
    records: { key?: string; value: Uint8Array }[],
  ): Promise<bigint[]> {
    if (this.failing.has(`${topic}/${partition}`)) throw new Error('disk full');
    const t = this.#topic(topic);
    const log = t.partitions[partition];
    if (!log) throw new NotFoundError(`no partition ${partition}`);
    const offsets = records.map((r) => {
      const offset = BigInt(log.length);
      log.push({ offset, timestamp: Date.now(), key: r.key, value: r.value });
      return offset;
    });
    for (const w of [...t.waiters]) w();
    return offsets;
  }
  async bounds(topic: string): Promise<PartitionBounds[]> {
    return this.#topic(topic).partitions.map((p, partition) => ({
      partition,
      begin: 0n,
      end: BigInt(p.length),
    }));
  }
  async read(
    topic: string,
    partition: number,
    offset: bigint,
    o: { maxRecords: number; waitMs?: number; signal?: AbortSignal },
  ): Promise<LogRecord[]> {
    const t = this.#topic(topic);
    const log = t.partitions[partition];
    if (!log) throw new NotFoundError(`no partition ${partition}`);
    if (offset < 0n || offset > BigInt(log.length))
      throw new InvalidInputError(`offset ${offset} unavailable`);
    const take = () => log.slice(Number(offset), Number(offset) + o.maxRecords);
    if (offset < BigInt(log.length) || !o.waitMs || o.signal?.aborted) return take();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        t.waiters.delete(done);
        o.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, o.waitMs);
      t.waiters.add(done);
      o.signal?.addEventListener('abort', done, { once: true });
    });
    return take();
  }
  async close(): Promise<void> {}
  #topic(topic: string): Topic {
    const t = this.topics.get(topic);
    if (!t) throw new NotFoundError(`no topic ${topic}`);
    return t;
  }
}

/**
 * The event log on Apache Kafka (kafkajs): one Kafka topic per log topic, appends with
 * acks=-1 (all in-sync replicas) from an idempotent producer, reads by a short-lived
 * consumer positioned with seek. Kafka applies retention and compaction itself.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../../observe/index.js';
import {
  BackendError,
  ConflictError,
  errorMessage,
  InvalidInputError,
  NotFoundError,
} from '../../util/index.js';
import type { EventLog, LogRecord, PartitionBounds, TopicConfig } from './types.js';
import {
  checkReadArgs,
  checkRecords,
  checkTopicConfig,
  checkTopicName,
  OffsetUnavailableError,
} from './validate.js';

const { Kafka: KafkaClient, logLevel, ConfigResourceTypes } = kafkajs;
/** Longest wait for records known to exist (a consumer group join takes seconds). */
const FETCH_TIMEOUT_MS = 60_000;
/** How long a topic's partition count is trusted without asking the brokers again. */
const PARTITIONS_TTL_MS = 5000;

/** Settings of the Kafka log. */
export interface KafkaLogOptions {
  brokers: string[];
  log: Logger;
  clientId?: string;
}

/** Connect to Kafka. @throws BackendError when the brokers cannot be reached */
export async function openKafkaLog(o: KafkaLogOptions): Promise<KafkaEventLog> {
  const kafka = new KafkaClient({
    clientId: o.clientId ?? 'sluice',
    brokers: o.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await producer.connect();
  } catch (err) {
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
    throw new BackendError(
      `cannot connect to Kafka at ${o.brokers.join(',')}: ${errorMessage(err)}`,
      undefined,
      {
        cause: err,
      },
    );
  }
  return new KafkaEventLog(kafka, admin, producer, o.log.child({ component: 'event-log', backend: 'kafka' }));
}

function topicConfigEntries(c: TopicConfig): { name: string; value: string }[] {
  return [
    { name: 'retention.ms', value: String(c.retentionMs) },
    { name: 'retention.bytes', value: String(c.retentionBytes ? c.retentionBytes : -1) },
    { name: 'cleanup.policy', value: c.cleanupPolicy },
  ];
}

export class KafkaEventLog implements EventLog {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #log: Logger;
  readonly #partitions = new Map<string, { count: number; until: number }>();
  #closed = false;

  /** Use openKafkaLog. */
  constructor(kafka: Kafka, admin: Admin, producer: Producer, log: Logger) {
    this.#kafka = kafka;
    this.#admin = admin;
    this.#producer = producer;
    this.#log = log;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new BackendError('the event log is closed');
    try {
      return await fn();
    } catch (err) {
      throw new BackendError(`Kafka ${what} failed: ${errorMessage(err)}`, undefined, { cause: err });
    }
  }

  /** Partition count of a topic, from a cache of PARTITIONS_TTL_MS (appends check it each time). */
  async #partitionCount(topic: string, fresh = false): Promise<number> {
    checkTopicName(topic);
    const cached = this.#partitions.get(topic);
    if (!fresh && cached && cached.until > Date.now()) return cached.count;
    if (!(await this.topicExists(topic))) throw new NotFoundError(`topic "${topic}" does not exist`);
    const meta = await this.#call('metadata', () => this.#admin.fetchTopicMetadata({ topics: [topic] }));
    const count = meta.topics[0]?.partitions.length ?? 0;
    this.#partitions.set(topic, { count, until: Date.now() + PARTITIONS_TTL_MS });
    return count;
  }

  async createTopic(topic: string, config: TopicConfig): Promise<void> {
    checkTopicName(topic);
    checkTopicConfig(topic, config);
    const created = await this.#call('createTopics', () =>
      this.#admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: config.partitions, configEntries: topicConfigEntries(config) }],
      }),
    );
    if (!created) throw new ConflictError(`topic "${topic}" already exists`);
  }

  async updateTopic(topic: string, config: TopicConfig): Promise<void> {
    checkTopicConfig(topic, config);
    const count = await this.#partitionCount(topic, true);
    this.#partitions.delete(topic);
    if (config.partitions < count) {
      throw new InvalidInputError(
        `topic "${topic}" has ${count} partitions; partitions never decrease (asked for ${config.partitions})`,
      );
    }
    if (config.partitions > count) {
      await this.#call('createPartitions', () =>
        this.#admin.createPartitions({ topicPartitions: [{ topic, count: config.partitions }] }),
      );
    }
    await this.#call('alterConfigs', () =>
      this.#admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: topicConfigEntries(config) },
        ],
      }),
    );
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.#partitionCount(topic, true);
    this.#partitions.delete(topic);
    await this.#call('deleteTopics', () => this.#admin.deleteTopics({ topics: [topic] }));
  }

  async topicExists(topic: string): Promise<boolean> {
    checkTopicName(topic);
    const topics = await this.#call('listTopics', () => this.#admin.listTopics());
    return topics.includes(topic);
  }

  async append(
    topic: string,
    partition: number,
    records: { key?: string; value: Uint8Array }[],
  ): Promise<bigint[]> {
    checkTopicName(topic);
    checkRecords(topic, records);
    await this.#checkPartition(topic, partition);
    if (records.length === 0) return [];
    const sent = await this.#call('produce', () =>
      this.#producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          partition,
          key: r.key ?? null,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
        })),
      }),
    );
    const base = sent.find((m) => m.partition === partition)?.baseOffset;
    if (base === undefined)
      throw new BackendError(`Kafka did not report the offsets of the append to "${topic}"`);
    return records.map((_, i) => BigInt(base) + BigInt(i));
  }

  async #checkPartition(topic: string, partition: number): Promise<void> {
    const count = await this.#partitionCount(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new NotFoundError(
        `partition ${partition} of topic "${topic}" does not exist (partitions 0–${count - 1})`,
      );
    }
  }

  async bounds(topic: string): Promise<PartitionBounds[]> {
    await this.#partitionCount(topic);
    const offsets = await this.#call('fetchTopicOffsets', () => this.#admin.fetchTopicOffsets(topic));
    return offsets
      .map((o) => ({ partition: o.partition, begin: BigInt(o.low), end: BigInt(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async read(
    topic: string,
    partition: number,
    offset: bigint,
    o: { maxRecords: number; waitMs?: number; signal?: AbortSignal },
  ): Promise<LogRecord[]> {
    checkTopicName(topic);
    checkReadArgs(offset, o);
    await this.#checkPartition(topic, partition);
    const b = (await this.bounds(topic)).find((x) => x.partition === partition)!;
    if (offset < b.begin || offset > b.end) {
      throw new OffsetUnavailableError(
        `offset ${offset} is not available in topic "${topic}" partition ${partition}: readable offsets are ${b.begin}–${b.end}`,
      );
    }
    if (offset === b.end && (o.waitMs === 0 || o.signal?.aborted)) return [];
    // Records that exist are returned whatever waitMs says; only a read at the end waits for it.
    return this.#consume(topic, partition, offset, { ...o, available: offset < b.end });
  }

  /** A consumer of its own group, positioned at `offset`, collecting until enough, timeout or abort. */
  async #consume(
    topic: string,
    partition: number,
    offset: bigint,
    o: { maxRecords: number; waitMs?: number; signal?: AbortSignal; available: boolean },
  ): Promise<LogRecord[]> {
    const groupId = `sluice-read-${randomUUID()}`;
    const consumer: Consumer = this.#kafka.consumer({
      groupId,
      maxWaitTimeInMs: Math.min(o.waitMs ?? 1000, 1000),
    });
    const out: LogRecord[] = [];
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let failed: Error | undefined;
    const timer = o.available
      ? setTimeout(() => {
          failed = new BackendError(`Kafka returned no records of "${topic}" partition ${partition} in time`);
          finish();
        }, FETCH_TIMEOUT_MS)
      : o.waitMs === undefined
        ? undefined
        : setTimeout(() => finish(), o.waitMs);
    const onAbort = () => finish();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          for (const m of batch.messages) {
            if (BigInt(m.offset) < offset || out.length >= o.maxRecords) continue;
            const record: LogRecord = {
              offset: BigInt(m.offset),
              timestamp: Number(m.timestamp),
              value: m.value ?? Buffer.alloc(0),
            };
            if (m.key) record.key = m.key.toString('utf8');
            out.push(record);
          }
          if (out.length > 0) finish();
        },
      });
      consumer.seek({ topic, partition, offset: String(offset) });
      await finished;
      if (failed && out.length === 0 && !o.signal?.aborted) throw failed;
    } catch (err) {
      if (err === failed) throw err;
      throw new BackendError(
        `Kafka read of "${topic}" partition ${partition} failed: ${errorMessage(err)}`,
        undefined,
        {
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      await consumer
        .disconnect()
        .catch((err: unknown) => this.#log.warn({ err }, 'kafka: consumer disconnect failed'));
      await this.#admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#producer.disconnect(), this.#admin.disconnect()]);
  }
}

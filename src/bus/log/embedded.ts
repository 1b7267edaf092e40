/**
 * The embedded event log: `<dir>/topics/<topic>/topic.json` holds a topic's configuration,
 * `<dir>/topics/<topic>/<partition>/` its segments. One process owns `<dir>` (lock file).
 */
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observe/index.js';
import {
  BackendError,
  ConflictError,
  errorMessage,
  InvalidInputError,
  NotFoundError,
} from '../../util/index.js';
import { Mutex, mkdirDurable, syncDir, writeFileAtomic } from './fs-util.js';
import { type DirLock, lockDir } from './lock.js';
import { Partition, type PartitionOptions, type PartitionStats } from './partition.js';
import type { StoredRecord } from './record.js';
import type { EventLog, LogRecord, PartitionBounds, TopicConfig } from './types.js';
import { checkReadArgs, checkRecords, checkTopicConfig, checkTopicName } from './validate.js';

/** Settings of the embedded log. */
export interface EmbeddedLogOptions {
  /** The log's directory (`<project>/.sluice/bus`). */
  dir: string;
  log: Logger;
  /** Size at which a segment is closed (default 64 MiB). */
  segmentBytes?: number;
  /** fdatasync before acknowledging (default true). */
  fsync?: boolean;
  /** Newest bytes per partition kept in memory for readers (default 4 MiB). */
  tailBytes?: number;
  /** How often retention runs (default 60 s; 0 = only when `enforceRetention` is called). */
  retentionCheckMs?: number;
}

interface Topic {
  config: TopicConfig;
  dir: string;
  partitions: Partition[];
}

const DELETED_PREFIX = '.deleted-';

/** Open (creating when missing) the embedded log in `o.dir`. @throws ConflictError when another process owns it */
export async function openEmbeddedLog(o: EmbeddedLogOptions): Promise<EmbeddedEventLog> {
  await mkdirDurable(o.dir);
  const lock = await lockDir(o.dir);
  try {
    const log = new EmbeddedEventLog(o, lock);
    await log.load();
    return log;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export class EmbeddedEventLog implements EventLog {
  readonly kind = 'embedded' as const;
  readonly #topicsDir: string;
  readonly #opts: PartitionOptions;
  readonly #lock: DirLock;
  readonly #log: Logger;
  readonly #topics = new Map<string, Topic>();
  readonly #admin = new Mutex();
  readonly #timer: NodeJS.Timeout | undefined;
  #retentionRunning: Promise<void> | undefined;
  #closed = false;

  /** Use openEmbeddedLog. */
  constructor(o: EmbeddedLogOptions, lock: DirLock) {
    this.#topicsDir = join(o.dir, 'topics');
    this.#log = o.log.child({ component: 'event-log' });
    this.#opts = {
      segmentBytes: o.segmentBytes ?? 64 * 1024 * 1024,
      fsync: o.fsync ?? true,
      tailBytes: o.tailBytes ?? 4 * 1024 * 1024,
      log: this.#log,
    };
    this.#lock = lock;
    const every = o.retentionCheckMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.enforceRetention().catch((err: unknown) =>
          this.#log.error({ err }, 'event log: retention failed'),
        );
      }, every);
      this.#timer.unref();
    }
  }

  /** Open every topic found on disk; remove what crashed creations and deletions left. */
  async load(): Promise<void> {
    await mkdirDurable(this.#topicsDir);
    for (const name of await readdir(this.#topicsDir)) {
      const dir = join(this.#topicsDir, name);
      if (name.startsWith(DELETED_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      let config: TopicConfig;
      try {
        config = JSON.parse(await readFile(join(dir, 'topic.json'), 'utf8')) as TopicConfig;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // A creation that crashed before its configuration was written: the topic never existed.
          await rm(dir, { recursive: true, force: true });
          continue;
        }
        throw new BackendError(
          `cannot read the configuration of topic "${name}" in ${dir}: ${errorMessage(err)}`,
        );
      }
      this.#topics.set(name, {
        config,
        dir,
        partitions: await this.#openPartitions(dir, 0, config.partitions),
      });
    }
  }

  async #openPartitions(dir: string, from: number, to: number): Promise<Partition[]> {
    const out: Partition[] = [];
    for (let p = from; p < to; p++) out.push(await Partition.open(join(dir, String(p)), this.#opts));
    return out;
  }

  #check(): void {
    if (this.#closed) throw new BackendError('the event log is closed');
  }

  #topic(topic: string): Topic {
    this.#check();
    checkTopicName(topic);
    const t = this.#topics.get(topic);
    if (!t) throw new NotFoundError(`topic "${topic}" does not exist`);
    return t;
  }

  #partition(topic: string, partition: number): Partition {
    const t = this.#topic(topic);
    const p = Number.isInteger(partition) ? t.partitions[partition] : undefined;
    if (!p) {
      throw new NotFoundError(
        `partition ${partition} of topic "${topic}" does not exist (partitions 0–${t.partitions.length - 1})`,
      );
    }
    return p;
  }

  createTopic(topic: string, config: TopicConfig): Promise<void> {
    return this.#admin.run(async () => {
      this.#check();
      checkTopicName(topic);
      checkTopicConfig(topic, config);
      if (this.#topics.has(topic)) throw new ConflictError(`topic "${topic}" already exists`);
      const dir = join(this.#topicsDir, topic);
      await rm(dir, { recursive: true, force: true });
      await mkdirDurable(dir);
      const partitions = await this.#openPartitions(dir, 0, config.partitions);
      await writeFileAtomic(join(dir, 'topic.json'), JSON.stringify(configOf(config)));
      this.#topics.set(topic, { config: configOf(config), dir, partitions });
    });
  }

  updateTopic(topic: string, config: TopicConfig): Promise<void> {
    return this.#admin.run(async () => {
      const t = this.#topic(topic);
      checkTopicConfig(topic, config);
      if (config.partitions < t.partitions.length) {
        throw new InvalidInputError(
          `topic "${topic}" has ${t.partitions.length} partitions; partitions never decrease (asked for ${config.partitions})`,
        );
      }
      const added = await this.#openPartitions(t.dir, t.partitions.length, config.partitions);
      await writeFileAtomic(join(t.dir, 'topic.json'), JSON.stringify(configOf(config)));
      t.partitions.push(...added);
      t.config = configOf(config);
    });
  }

  deleteTopic(topic: string): Promise<void> {
    return this.#admin.run(async () => {
      const t = this.#topic(topic);
      this.#topics.delete(topic);
      await Promise.all(t.partitions.map((p) => p.close()));
      // Rename first: a crash in the middle of removing files cannot leave half a topic.
      const gone = join(this.#topicsDir, `${DELETED_PREFIX}${topic}-${Date.now()}`);
      await rename(t.dir, gone);
      await syncDir(this.#topicsDir);
      await rm(gone, { recursive: true, force: true });
    });
  }

  async topicExists(topic: string): Promise<boolean> {
    this.#check();
    checkTopicName(topic);
    return this.#topics.has(topic);
  }

  async append(
    topic: string,
    partition: number,
    records: { key?: string; value: Uint8Array }[],
  ): Promise<bigint[]> {
    const p = this.#partition(topic, partition);
    const bytes = checkRecords(topic, records);
    if (records.length === 0) return [];
    const first = await p.append(records.slice(), bytes);
    return records.map((_, i) => BigInt(first + i));
  }

  async bounds(topic: string): Promise<PartitionBounds[]> {
    return this.#topic(topic).partitions.map((p, partition) => ({
      partition,
      begin: BigInt(p.begin),
      end: BigInt(p.end),
    }));
  }

  /** Per partition: flushes, appends and records since open, segments and bytes on disk. */
  stats(topic: string): (PartitionStats & { partition: number })[] {
    return this.#topic(topic).partitions.map((p, partition) => ({ partition, ...p.stats }));
  }

  async read(
    topic: string,
    partition: number,
    offset: bigint,
    o: { maxRecords: number; waitMs?: number; signal?: AbortSignal },
  ): Promise<LogRecord[]> {
    const p = this.#partition(topic, partition);
    checkReadArgs(offset, o);
    const from = Number(offset);
    const gone = () => this.#closed || this.#topics.get(topic)?.partitions[partition] !== p;
    try {
      let got = await p.read(from, o.maxRecords);
      // Only a read at the end waits (a compacted range before it can be empty, too).
      if (got.length === 0 && from >= p.end) {
        await p.waitFor(from, o.waitMs, o.signal);
        if (gone()) return [];
        got = await p.read(from, o.maxRecords);
      }
      return got.map(toLogRecord);
    } catch (err) {
      // The topic was deleted (or the log closed) while its files were being read.
      if (gone()) throw new NotFoundError(`topic "${topic}" does not exist`, undefined, { cause: err });
      throw err;
    }
  }

  /**
   * Apply every topic's retention now: delete old segments, or compact them for
   * cleanupPolicy "compact" (also runs every `retentionCheckMs`).
   */
  enforceRetention(now = Date.now()): Promise<void> {
    this.#retentionRunning ??= (async () => {
      try {
        for (const t of [...this.#topics.values()]) {
          for (const p of t.partitions) {
            // Compacted topics keep the newest record of every key regardless of age and size.
            if (t.config.cleanupPolicy === 'compact') await p.compact();
            else await p.enforceRetention(t.config.retentionMs, t.config.retentionBytes ?? 0, now);
          }
        }
      } finally {
        this.#retentionRunning = undefined;
      }
    })();
    return this.#retentionRunning;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#retentionRunning?.catch(() => undefined);
    await this.#admin.run(async () => {
      await Promise.all([...this.#topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
    });
    this.#topics.clear();
    await this.#lock.release();
  }
}

/** The stored form of a configuration: only known fields. */
function configOf(c: TopicConfig): TopicConfig {
  const out: TopicConfig = {
    partitions: c.partitions,
    retentionMs: c.retentionMs,
    cleanupPolicy: c.cleanupPolicy,
  };
  if (c.retentionBytes !== undefined) out.retentionBytes = c.retentionBytes;
  return out;
}

function toLogRecord(r: StoredRecord): LogRecord {
  const out: LogRecord = { offset: BigInt(r.offset), timestamp: r.timestamp, value: r.value };
  if (r.key !== undefined) out.key = r.key;
  return out;
}

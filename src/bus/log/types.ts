/**
 * The durable event log behind the event bus: one ordered log per (topic, partition),
 * addressed by offsets. Implemented by the embedded segment log and by Kafka.
 */

/** One stored record. */
export interface LogRecord {
  offset: bigint;
  /** Epoch ms when the log accepted it. */
  timestamp: number;
  /** Optional key (for compaction and hash partitioning). */
  key?: string;
  /** The event as sent, serialised JSON (UTF-8). */
  value: Uint8Array;
}

/** Where a partition's log starts and ends: `begin` is the oldest readable offset, `end` the next offset to be written. */
export interface PartitionBounds {
  partition: number;
  begin: bigint;
  end: bigint;
}

export interface TopicConfig {
  partitions: number;
  /** Records older than this may be deleted (ms). */
  retentionMs: number;
  /** Per partition size limit before old segments are deleted (bytes; 0 = unlimited). */
  retentionBytes?: number;
  cleanupPolicy: 'delete' | 'compact';
}

export interface EventLog {
  readonly kind: 'embedded' | 'kafka';
  createTopic(topic: string, config: TopicConfig): Promise<void>;
  /** Add partitions or change retention; partitions never decrease. */
  updateTopic(topic: string, config: TopicConfig): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  topicExists(topic: string): Promise<boolean>;
  /**
   * Append records to one partition. Resolves when they are durable (fsync'd, group commit:
   * concurrent appends share one fsync) with the offsets assigned, in order.
   */
  append(topic: string, partition: number, records: { key?: string; value: Uint8Array }[]): Promise<bigint[]>;
  bounds(topic: string): Promise<PartitionBounds[]>;
  /**
   * Read up to `maxRecords` records of one partition starting at `offset` (inclusive). When
   * none is available yet, waits until one arrives, `waitMs` passes or `signal` aborts, then
   * resolves with what it has (possibly empty). Without `waitMs` it waits until a record
   * arrives or `signal` aborts; closing the log or deleting the topic also ends the wait.
   * @throws NotFoundError for an unknown topic/partition; InvalidInputError (offset_unavailable) for an offset before `begin` or after `end`
   */
  read(
    topic: string,
    partition: number,
    offset: bigint,
    o: { maxRecords: number; waitMs?: number; signal?: AbortSignal },
  ): Promise<LogRecord[]>;
  close(): Promise<void>;
}

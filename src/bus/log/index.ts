/**
 * The durable event log of the event bus: `openEventLog` picks the embedded segment log
 * (in the project's data directory) or Apache Kafka from `bus.log` in sluice.yaml.
 */
import { join } from 'node:path';
import type { BusConfig } from '../../config/index.js';
import type { Logger } from '../../observe/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { EventLog } from './types.js';

export type { EmbeddedEventLog, EmbeddedLogOptions } from './embedded.js';
export type { KafkaLogOptions } from './kafka.js';
export type { PartitionStats } from './partition.js';
export type { EventLog, LogRecord, PartitionBounds, TopicConfig } from './types.js';
export {
  MAX_KEY_BYTES,
  MAX_PARTITIONS,
  MAX_READ_RECORDS,
  MAX_VALUE_BYTES,
  OffsetUnavailableError,
} from './validate.js';

/** Options of openEventLog. */
export interface OpenEventLogOptions {
  /** The project's data directory (`<project>/.sluice`); the embedded log lives in its `bus/`. */
  dataDir: string;
  log: Logger;
}

/**
 * Open the event log `bus.log` names: "embedded" or kafka://HOST:PORT[,HOST:PORT].
 * @throws InvalidInputError for an unknown backend; ConflictError when another process owns the embedded log
 */
export async function openEventLog(bus: BusConfig, o: OpenEventLogOptions): Promise<EventLog> {
  if (bus.log === 'embedded') {
    const { openEmbeddedLog } = await import('./embedded.js');
    return openEmbeddedLog({
      dir: join(o.dataDir, 'bus'),
      log: o.log,
      segmentBytes: bus.embedded?.segmentBytes,
      fsync: bus.embedded?.fsync,
      retentionCheckMs: bus.embedded?.retentionCheckMs,
    });
  }
  if (bus.log.startsWith('kafka://')) {
    const { openKafkaLog } = await import('./kafka.js');
    return openKafkaLog({ brokers: kafkaBrokers(bus.log), log: o.log });
  }
  throw new InvalidInputError(
    `unknown event log backend ${JSON.stringify(bus.log)} in bus.log`,
    'use "embedded" or kafka://HOST:PORT[,HOST:PORT]',
  );
}

/** The broker list of a kafka:// URL. */
export function kafkaBrokers(url: string): string[] {
  return url
    .slice('kafka://'.length)
    .replace(/\/$/, '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

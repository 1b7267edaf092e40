/** Checks of the arguments every EventLog backend takes, with errors naming what is wrong. */
import { InvalidInputError } from '../../util/index.js';
import { MAX_BODY_BYTES } from './record.js';
import type { TopicConfig } from './types.js';

/** Topic names: safe as a directory name and as a Kafka topic name. */
const TOPIC_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;
/** Most partitions one topic may have. */
export const MAX_PARTITIONS = 1024;
/** Most records one read returns. */
export const MAX_READ_RECORDS = 100_000;
/** Largest key of a record, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 64 * 1024;
/** Largest value of a record. */
export const MAX_VALUE_BYTES = MAX_BODY_BYTES - MAX_KEY_BYTES - 64;

/**
 * A read asked for an offset the partition does not hold (before `begin`, removed by
 * retention, or after `end`). An InvalidInputError, so `invalid_input` to HTTP clients.
 */
export class OffsetUnavailableError extends InvalidInputError {
  readonly reason = 'offset_unavailable';
}

/** @throws InvalidInputError when `topic` cannot name a topic */
export function checkTopicName(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) {
    throw new InvalidInputError(
      `invalid topic name ${JSON.stringify(typeof topic === 'string' ? topic.slice(0, 80) : topic)}`,
      'use 1–200 letters, digits, ".", "_" or "-", not starting with "." or "-"',
    );
  }
}

/** @throws InvalidInputError naming the first bad field of a topic configuration */
export function checkTopicConfig(topic: string, c: TopicConfig): void {
  const bad = (field: string, expected: string, found: unknown) =>
    new InvalidInputError(`topic "${topic}": ${field} must be ${expected}, found ${JSON.stringify(found)}`);
  if (typeof c !== 'object' || c === null) throw bad('the configuration', 'an object', c);
  if (!Number.isInteger(c.partitions) || c.partitions < 1 || c.partitions > MAX_PARTITIONS) {
    throw bad('partitions', `an integer 1–${MAX_PARTITIONS}`, c.partitions);
  }
  if (!Number.isSafeInteger(c.retentionMs) || c.retentionMs < 1) {
    throw bad('retentionMs', 'a positive integer (milliseconds)', c.retentionMs);
  }
  if (c.retentionBytes !== undefined && (!Number.isSafeInteger(c.retentionBytes) || c.retentionBytes < 0)) {
    throw bad('retentionBytes', 'a non-negative integer (0 = unlimited)', c.retentionBytes);
  }
  if (c.cleanupPolicy !== 'delete' && c.cleanupPolicy !== 'compact') {
    throw bad('cleanupPolicy', '"delete" or "compact"', c.cleanupPolicy);
  }
}

/** Checks records to append; returns their total size in bytes (values and keys). */
export function checkRecords(topic: string, records: readonly { key?: string; value: Uint8Array }[]): number {
  if (!Array.isArray(records)) throw new InvalidInputError(`append to "${topic}": records must be an array`);
  let bytes = 0;
  for (const [i, r] of records.entries()) {
    if (!(r?.value instanceof Uint8Array)) {
      throw new InvalidInputError(
        `append to "${topic}": record ${i} has no value bytes (expected a Uint8Array)`,
      );
    }
    if (r.value.byteLength > MAX_VALUE_BYTES) {
      throw new InvalidInputError(
        `append to "${topic}": record ${i} is ${r.value.byteLength} bytes, more than the limit of ${MAX_VALUE_BYTES}`,
      );
    }
    if (r.key !== undefined) {
      if (typeof r.key !== 'string')
        throw new InvalidInputError(`append to "${topic}": record ${i} key must be a string`);
      if (Buffer.byteLength(r.key) > MAX_KEY_BYTES) {
        throw new InvalidInputError(
          `append to "${topic}": record ${i} key is longer than ${MAX_KEY_BYTES} bytes`,
        );
      }
    }
    bytes += r.value.byteLength + (r.key?.length ?? 0);
  }
  return bytes;
}

/** @throws InvalidInputError for a negative or non-bigint offset, or a bad maxRecords/waitMs */
export function checkReadArgs(offset: unknown, o: { maxRecords: number; waitMs?: number }): void {
  if (typeof offset !== 'bigint' || offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidInputError(`offset must be a non-negative bigint, found ${String(offset)}`);
  }
  if (!Number.isInteger(o?.maxRecords) || o.maxRecords < 1 || o.maxRecords > MAX_READ_RECORDS) {
    throw new InvalidInputError(
      `maxRecords must be an integer 1–${MAX_READ_RECORDS}, found ${o?.maxRecords}`,
    );
  }
  if (o.waitMs !== undefined && (!Number.isFinite(o.waitMs) || o.waitMs < 0)) {
    throw new InvalidInputError(`waitMs must be a non-negative number of milliseconds, found ${o.waitMs}`);
  }
}

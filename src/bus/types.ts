/** The Nakadi resources as the API exchanges them (snake_case, as in the spec). */

/** One subject attribute of an authorization list; `*`/`*` matches everyone. */
export interface AuthorizationAttribute {
  data_type: string;
  value: string;
}

/** Who may administer, read and write an event type. */
export interface EventTypeAuthorization {
  admins: AuthorizationAttribute[];
  readers: AuthorizationAttribute[];
  writers: AuthorizationAttribute[];
}

/** A schema version of an event type. */
export interface EventTypeSchema {
  type: 'json_schema';
  /** The JSON Schema as a string. */
  schema: string;
  version: string;
  created_at: string;
}

export type Category = 'undefined' | 'business' | 'data';
export type PartitionStrategy = 'random' | 'hash' | 'user_defined';
export type CompatibilityMode = 'compatible' | 'forward' | 'none';
export type CleanupPolicy = 'delete' | 'compact' | 'compact_and_delete';

/** Partition count hints; partitions = max(read_parallelism, write_parallelism). */
export interface EventTypeStatistic {
  messages_per_minute: number;
  message_size: number;
  read_parallelism: number;
  write_parallelism: number;
}

/** The settings of an event type a client sends (defaults applied). */
export interface EventTypeFields {
  name: string;
  owning_application: string;
  category: Category;
  enrichment_strategies: 'metadata_enrichment'[];
  partition_strategy: PartitionStrategy;
  partition_key_fields?: string[];
  compatibility_mode: CompatibilityMode;
  cleanup_policy: CleanupPolicy;
  default_statistic?: EventTypeStatistic;
  options: { retention_time: number };
  authorization?: EventTypeAuthorization;
  event_owner_selector?: unknown;
}

/** An event type as stored and returned. */
export interface EventType extends EventTypeFields {
  schema: EventTypeSchema;
  created_at: string;
  updated_at: string;
  /** Informational fields kept as sent (annotations, labels, audience, ordering_key_fields...). */
  [extra: string]: unknown;
}

/** A cursor of the low-level API: the offset of the last event consumed in a partition. */
export interface Cursor {
  partition: string;
  offset: string;
}

/** A cursor of the subscription API. */
export interface SubscriptionCursor extends Cursor {
  event_type: string;
  cursor_token?: string;
}

export interface SubscriptionAuthorization {
  admins: AuthorizationAttribute[];
  readers: AuthorizationAttribute[];
}

/** A subscription as stored and returned. */
export interface Subscription {
  id: string;
  owning_application: string;
  event_types: string[];
  consumer_group: string;
  read_from: 'begin' | 'end' | 'cursors';
  initial_cursors?: SubscriptionCursor[];
  authorization?: SubscriptionAuthorization;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  created_at: string;
  updated_at: string;
}

/** The outcome of one event of a published batch. */
export interface BatchItemResponse {
  eid?: string;
  publishing_status: 'submitted' | 'failed' | 'aborted';
  step: 'none' | 'validating' | 'partitioning' | 'enriching' | 'publishing';
  detail?: string;
}

/** The event bus of one server: registry, subscriptions, streams and authentication, bound once. */
import type { BusConfig } from '../config/index.js';
import type { MetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { Authenticator, type PlatformAuth } from './auth.js';
import type { EventLog } from './log/types.js';
import { EventTypeRegistry } from './registry.js';
import { SessionRegistry } from './sessions.js';
import { SubscriptionStore } from './subscriptions.js';

/** Default retention of an event type without options.retention_time: two days, as Nakadi. */
export const DEFAULT_RETENTION_MS = 172_800_000;

/** Everything the bus API needs. */
export interface EventBus {
  readonly config: BusConfig;
  readonly eventLog: EventLog;
  readonly registry: EventTypeRegistry;
  readonly subscriptions: SubscriptionStore;
  readonly sessions: SessionRegistry;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** The metastore (trigger events of accepted batches are announced on it). */
  readonly meta: MetaStore;
  /** Aborted when the server stops: open streams end. */
  readonly closing: AbortSignal;
  /** End every open stream (server shutdown). */
  shutdown(): void;
}

/** Bind the bus to a metastore and an event log. */
export function createEventBus(o: {
  meta: MetaStore;
  eventLog: EventLog;
  config: BusConfig;
  log: Logger;
  /** Authenticate and authorize with the platform's users and grants too. */
  platform?: PlatformAuth;
}): EventBus {
  const log = o.log.child({ component: 'bus' });
  const closing = new AbortController();
  const registry = new EventTypeRegistry({
    meta: o.meta,
    eventLog: o.eventLog,
    log,
    limits: {
      defaultPartitions: o.config.defaultPartitions,
      maxPartitions: o.config.maxPartitions,
      retentionMs: DEFAULT_RETENTION_MS,
    },
    closing: closing.signal,
  });
  return {
    closing: closing.signal,
    shutdown: () => closing.abort(),
    config: o.config,
    eventLog: o.eventLog,
    registry,
    subscriptions: new SubscriptionStore(o.meta, registry, o.eventLog),
    sessions: new SessionRegistry(),
    auth: new Authenticator(o.config.auth, o.platform),
    log,
    meta: o.meta,
  };
}
